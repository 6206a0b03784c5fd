"""The consumer-application registry's migrations (one table, ``auth.applications.table``).

1. the schema that shipped before migrations existed (``CREATE TABLE IF NOT EXISTS``: an existing
   registry is adopted as it is).
2. the purposes (``{table}_purposes``): one record per purpose, with its legal basis, validity
   period and the scopes/policies it approves per OPD (JSON), so a purpose opens only those.
3. access requests (``{table}_requests``, one part per data-owning OPD in
   ``{table}_request_parts``) and the configured baseline each grant is added to
   (``{table}_grant_baselines``), so a revocation or expiry returns to it (gateway.access_requests).
4. grants that end at an instant (``{table}.expiring``, JSON ``[[until, scopes, purposes]]``), so
   the gateway drops them at the consumer's next request without a sweep; and the consumer
   applications' credentials (``{table}_credentials``: a hashed key, created/expires/revoked), so
   a rotation keeps the old key for a grace period and no longer.
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
    Migration(
        3,
        "access requests decided per data-owning OPD",
        sqlite=(
            "CREATE TABLE {table}_requests (id TEXT PRIMARY KEY, application TEXT NOT NULL, "
            "purposes TEXT NOT NULL, requested_by TEXT NOT NULL, note TEXT NOT NULL, "
            "created_at TEXT NOT NULL, valid_until TEXT)",
            "CREATE TABLE {table}_request_parts (request_id TEXT NOT NULL, owner TEXT NOT NULL, "
            "scopes TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, "
            "decided_by TEXT NOT NULL, decided_at TEXT, PRIMARY KEY (request_id, owner))",
            "CREATE TABLE {table}_grant_baselines (kind TEXT NOT NULL, key TEXT NOT NULL, "
            "value TEXT NOT NULL, PRIMARY KEY (kind, key))",
        ),
        postgres=(
            "CREATE TABLE {table}_requests (id TEXT PRIMARY KEY, application TEXT NOT NULL, "
            "purposes TEXT NOT NULL, requested_by TEXT NOT NULL, note TEXT NOT NULL, "
            "created_at TEXT NOT NULL, valid_until TEXT)",
            "CREATE TABLE {table}_request_parts (request_id TEXT NOT NULL, owner TEXT NOT NULL, "
            "scopes TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, "
            "decided_by TEXT NOT NULL, decided_at TEXT, PRIMARY KEY (request_id, owner))",
            "CREATE TABLE {table}_grant_baselines (kind TEXT NOT NULL, key TEXT NOT NULL, "
            "value TEXT NOT NULL, PRIMARY KEY (kind, key))",
        ),
    ),
    Migration(
        4,
        "grants that end at an instant; application credentials",
        sqlite=(
            "ALTER TABLE {table} ADD COLUMN expiring TEXT NOT NULL DEFAULT '[]'",
            "CREATE TABLE {table}_credentials (id TEXT PRIMARY KEY, application TEXT NOT NULL, "
            "secret_hash TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL, "
            "expires_at TEXT, revoked_at TEXT)",
            "CREATE INDEX {table}_credentials_application ON {table}_credentials (application)",
        ),
        postgres=(
            "ALTER TABLE {table} ADD COLUMN expiring TEXT NOT NULL DEFAULT '[]'",
            "CREATE TABLE {table}_credentials (id TEXT PRIMARY KEY, application TEXT NOT NULL, "
            "secret_hash TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL, "
            "expires_at TEXT, revoked_at TEXT)",
            "CREATE INDEX {table}_credentials_application ON {table}_credentials (application)",
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
