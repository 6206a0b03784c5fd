"""The audit log's migrations (the hash-chained table and its subject index).

1. the schema that shipped before migrations existed (``CREATE ... IF NOT EXISTS``: an existing
   log is adopted as it is).
2. ``<table>_checkpoints``: the signed checkpoints of the chain head (gateway/audit/checkpoints.py),
   append-only like the records.

Whatever a later step does to the tables (SQLite can only rebuild a table to change a column,
which drops its triggers), ``ensure_append_only`` runs at the end of every migration run, in the
same transaction: it restores the triggers that refuse ``UPDATE``/``DELETE``/``TRUNCATE`` and
checks they are there and enabled, or the whole run rolls back. A step must never rewrite records
(their hashes cover the bodies): add columns, do not change rows.
"""

from __future__ import annotations

from gateway.migrations.runner import Cursor, Dialect, Ensure, Migration, MigrationError, Plan

_SQLITE_TABLES = (
    "CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL, body TEXT NOT NULL, signature TEXT)",
    "CREATE TABLE IF NOT EXISTS {table}_subjects (subject TEXT NOT NULL, seq INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {table}_subjects_idx ON {table}_subjects (subject)",
)
_POSTGRES_TABLES = (
    "CREATE TABLE IF NOT EXISTS {table} (seq BIGINT PRIMARY KEY, prev_hash TEXT NOT NULL, "
    "hash TEXT NOT NULL, body TEXT NOT NULL, signature TEXT)",
    "CREATE TABLE IF NOT EXISTS {table}_subjects (subject TEXT NOT NULL, seq BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {table}_subjects_idx ON {table}_subjects (subject)",
)


_SQLITE_CHECKPOINTS = (
    "CREATE TABLE IF NOT EXISTS {table}_checkpoints (count INTEGER PRIMARY KEY, "
    "head TEXT NOT NULL, time TEXT NOT NULL, public_key TEXT, signature TEXT)",
)
_POSTGRES_CHECKPOINTS = (
    "CREATE TABLE IF NOT EXISTS {table}_checkpoints (count BIGINT PRIMARY KEY, "
    "head TEXT NOT NULL, time TEXT NOT NULL, public_key TEXT, signature TEXT)",
)

#: the tables of each step (step 1's statements stay as they shipped: two tables)
_V1_TABLES = ("", "_subjects")
_ALL_TABLES = ("", "_subjects", "_checkpoints")


def _trigger_prefix(table: str, suffix: str) -> str:
    """PostgreSQL trigger names (63 characters at most: the longest ``audit.table`` is 41)."""
    return f"{table}_cp" if suffix == "_checkpoints" else f"{table}{suffix}"


def _sqlite_triggers(table: str, suffixes: tuple[str, ...] = _V1_TABLES) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER IF NOT EXISTS {t}_append_only_{op} BEFORE {op} ON {t} "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
        for t in (f"{table}{s}" for s in suffixes)
        for op in ("UPDATE", "DELETE")
    )


def _postgres_triggers(table: str, suffixes: tuple[str, ...] = _V1_TABLES) -> tuple[str, ...]:
    statements = [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only'; END $$"
    ]
    for suffix in suffixes:
        name, prefix = f"{table}{suffix}", _trigger_prefix(table, suffix)
        statements += [
            f"CREATE OR REPLACE TRIGGER {prefix}_append_only BEFORE UPDATE OR DELETE "
            f"ON {name} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
            f"CREATE OR REPLACE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE "
            f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        ]
    return tuple(statements)


MIGRATIONS = (
    Migration(
        1,
        "initial schema",
        # "{table}" stays a placeholder: Migration.statements fills it
        sqlite=_SQLITE_TABLES + _sqlite_triggers("{table}"),
        postgres=_POSTGRES_TABLES + _postgres_triggers("{table}"),
    ),
    Migration(
        2,
        "signed checkpoints of the chain head",
        sqlite=_SQLITE_CHECKPOINTS + _sqlite_triggers("{table}", ("_checkpoints",)),
        postgres=_POSTGRES_CHECKPOINTS + _postgres_triggers("{table}", ("_checkpoints",)),
    ),
)


def trigger_names(table: str, dialect: Dialect) -> set[str]:
    """The append-only triggers a migrated audit store has."""
    if dialect.name == "sqlite":
        tables = tuple(f"{table}{s}" for s in _ALL_TABLES)
        return {f"{t}_append_only_{op}" for t in tables for op in ("UPDATE", "DELETE")}
    prefixes = tuple(_trigger_prefix(table, s) for s in _ALL_TABLES)
    return {f"{p}_{kind}" for p in prefixes for kind in ("append_only", "no_truncate")}


def present_triggers(cur: Cursor, table: str) -> set[str]:
    """The enabled triggers on the audit tables (ignoring any other)."""
    tables = tuple(f"{table}{s}" for s in _ALL_TABLES)
    if cur.dialect.name == "sqlite":
        rows = cur.all(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (?, ?, ?)",
            tables,
        )
    else:
        rows = cur.all(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN "
            "(to_regclass(?), to_regclass(?), to_regclass(?)) "
            "AND NOT tgisinternal AND tgenabled <> 'D'",
            tables,
        )
    return {str(r[0]) for r in rows}


def ensure_append_only(table: str) -> Ensure:
    """Restore the append-only triggers after a migration run; fail the run if they are not
    all there and enabled."""

    def ensure(cur: Cursor, dialect: Dialect) -> None:
        if dialect.name == "sqlite":
            statements = _sqlite_triggers(table, _ALL_TABLES)
        else:
            statements = _postgres_triggers(table, _ALL_TABLES) + tuple(
                f"ALTER TABLE {table}{s} ENABLE TRIGGER USER" for s in _ALL_TABLES
            )
        for statement in statements:
            cur.execute(statement)
        missing = trigger_names(table, dialect) - present_triggers(cur, table)
        if missing:
            raise MigrationError(
                f"the audit tables lost their append-only triggers ({', '.join(sorted(missing))})"
                "; the migration was rolled back"
            )

    return ensure


def plan(table: str) -> Plan:
    """The plan of the audit log kept in ``table`` (``audit.table``)."""
    return Plan(
        "audit",
        f"audit:{table}",
        MIGRATIONS,
        {"table": table},
        ensure=ensure_append_only(table),
        setting="audit.migrate_at_start",
    )
