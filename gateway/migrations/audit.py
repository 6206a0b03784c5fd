"""The audit log's migrations (the hash-chained table and its subject index).

1. the schema that shipped before migrations existed (``CREATE ... IF NOT EXISTS``: an existing
   log is adopted as it is).

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


def _sqlite_triggers(table: str) -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER IF NOT EXISTS {t}_append_only_{op} BEFORE {op} ON {t} "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
        for t in (table, f"{table}_subjects")
        for op in ("UPDATE", "DELETE")
    )


def _postgres_triggers(table: str) -> tuple[str, ...]:
    statements = [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only'; END $$"
    ]
    for name in (table, f"{table}_subjects"):
        statements += [
            f"CREATE OR REPLACE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE "
            f"ON {name} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
            f"CREATE OR REPLACE TRIGGER {name}_no_truncate BEFORE TRUNCATE "
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
)


def trigger_names(table: str, dialect: Dialect) -> set[str]:
    """The append-only triggers a migrated audit store has."""
    tables = (table, f"{table}_subjects")
    if dialect.name == "sqlite":
        return {f"{t}_append_only_{op}" for t in tables for op in ("UPDATE", "DELETE")}
    return {f"{t}_{kind}" for t in tables for kind in ("append_only", "no_truncate")}


def present_triggers(cur: Cursor, table: str) -> set[str]:
    """The enabled triggers on the audit tables (ignoring any other)."""
    tables = (table, f"{table}_subjects")
    if cur.dialect.name == "sqlite":
        rows = cur.all(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (?, ?)", tables
        )
    else:
        rows = cur.all(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN (to_regclass(?), to_regclass(?)) "
            "AND NOT tgisinternal AND tgenabled <> 'D'",
            tables,
        )
    return {str(r[0]) for r in rows}


def ensure_append_only(table: str) -> Ensure:
    """Restore the append-only triggers after a migration run; fail the run if they are not
    all there and enabled."""

    def ensure(cur: Cursor, dialect: Dialect) -> None:
        if dialect.name == "sqlite":
            statements = _sqlite_triggers(table)
        else:
            statements = _postgres_triggers(table) + tuple(
                f"ALTER TABLE {t} ENABLE TRIGGER USER" for t in (table, f"{table}_subjects")
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
