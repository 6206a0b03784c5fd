"""The schema registry's migrations (tables in one SQLite file, or one PostgreSQL schema).

1. the schema that shipped before migrations existed (``CREATE ... IF NOT EXISTS``: an existing
   database is adopted as it is);
2. who published (``author``: the token's team, plus the person the publisher named) and, for an
   admin override of a refused breaking change, the recorded reason;
3. the consumer application per usage row (counts per (coordinate, application, operation); rows
   reported before applications were carried become ``(unknown)``) and, per supergraph version, the
   applications its breaking and deprecation changes affected (JSON, found by the publish check).
"""

from __future__ import annotations

from gateway.migrations.runner import Migration, Plan

_SUBGRAPHS = """CREATE TABLE IF NOT EXISTS subgraph_versions (
        id {serial},
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        sdl TEXT NOT NULL,
        published_by TEXT NOT NULL,
        published_at DOUBLE PRECISION NOT NULL)"""
_SUPERGRAPHS = """CREATE TABLE IF NOT EXISTS supergraph_versions (
        version INTEGER PRIMARY KEY,
        sdl TEXT NOT NULL,
        etag TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        created_by TEXT NOT NULL,
        action TEXT NOT NULL,
        subgraph TEXT,
        subgraph_versions TEXT NOT NULL)"""
_USAGE = """CREATE TABLE IF NOT EXISTS field_usage (
        coordinate TEXT NOT NULL,
        operation TEXT NOT NULL,
        operation_hash TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (coordinate, operation_hash))"""


def _initial(serial: str) -> tuple[str, ...]:
    return (_SUBGRAPHS.replace("{serial}", serial), _SUPERGRAPHS, _USAGE)


_AUTHORS = (
    "ALTER TABLE subgraph_versions ADD COLUMN author TEXT",
    "ALTER TABLE supergraph_versions ADD COLUMN author TEXT",
    "ALTER TABLE supergraph_versions ADD COLUMN override_reason TEXT",
)

#: SQLite cannot change a primary key in place: the usage table is rebuilt (same on PostgreSQL)
_APPLICATIONS = (
    """CREATE TABLE field_usage_by_application (
        coordinate TEXT NOT NULL,
        application TEXT NOT NULL DEFAULT '(unknown)',
        operation TEXT NOT NULL,
        operation_hash TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (coordinate, application, operation_hash))""",
    "INSERT INTO field_usage_by_application (coordinate, application, operation, operation_hash, "
    "count, last_seen) SELECT coordinate, '(unknown)', operation, operation_hash, count, last_seen "
    "FROM field_usage",
    "DROP TABLE field_usage",
    "ALTER TABLE field_usage_by_application RENAME TO field_usage",
    "ALTER TABLE supergraph_versions ADD COLUMN affected TEXT",
)

MIGRATIONS = (
    Migration(
        1,
        "initial schema",
        sqlite=_initial("INTEGER PRIMARY KEY AUTOINCREMENT"),
        postgres=_initial("BIGSERIAL PRIMARY KEY"),
    ),
    Migration(2, "version authors and override reasons", sqlite=_AUTHORS, postgres=_AUTHORS),
    Migration(
        3,
        "consumer applications in usage and in the version log",
        sqlite=_APPLICATIONS,
        postgres=_APPLICATIONS,
    ),
)


def plan() -> Plan:
    """The registry's plan (its tables have fixed names; PostgreSQL isolates them by schema)."""
    return Plan("registry", "registry", MIGRATIONS, setting="registry.migrate_at_start")
