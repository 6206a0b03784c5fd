"""The consumer-application registry's migrations (one table, ``auth.applications.table``).

1. the schema that shipped before migrations existed (``CREATE TABLE IF NOT EXISTS``: an existing
   registry is adopted as it is).
2. the purposes (``{table}_purposes``): one record per purpose, with its legal basis, validity
   period and the scopes/policies it approves per OPD (JSON), so a purpose opens only those.
"""

from __future__ import annotations

from gateway.migrations.runner import Migration, Plan

MIGRATIONS = (
    Migration(
        1,
        "initial schema",
        sqlite=(
            "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "opd TEXT NOT NULL, scopes TEXT NOT NULL, purposes TEXT NOT NULL, "
            "revoked INTEGER NOT NULL DEFAULT 0)",
        ),
        postgres=(
            "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, "
            "name TEXT NOT NULL, opd TEXT NOT NULL, scopes TEXT NOT NULL, "
            "purposes TEXT NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE)",
        ),
    ),
    Migration(
        2,
        "purposes bound to data categories",
        sqlite=(
            "CREATE TABLE {table}_purposes (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "description TEXT NOT NULL, legal_basis TEXT NOT NULL, valid_from TEXT, "
            "valid_until TEXT, approvals TEXT NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE {table}_purposes (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "description TEXT NOT NULL, legal_basis TEXT NOT NULL, valid_from DATE, "
            "valid_until DATE, approvals TEXT NOT NULL)",
        ),
    ),
)


def plan(table: str) -> Plan:
    """The plan of the application registry kept in ``table``."""
    return Plan(
        "applications",
        f"applications:{table}",
        MIGRATIONS,
        {"table": table},
        setting="auth.applications.migrate_at_start",
    )
