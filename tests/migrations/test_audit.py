"""The audit log's migrations: a log written by today's code is adopted with its chain intact,
and the append-only triggers survive any later step (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.config import AuditSection
from gateway.audit.log import AuditLog, open_audit_log
from gateway.audit.records import chain
from gateway.audit.store import AuditUnavailableError, PostgresAuditStore, SqliteAuditStore
from gateway.migrations import audit as audit_migrations
from gateway.migrations.runner import (
    POSTGRES,
    SQLITE,
    VERSION_TABLE,
    Cursor,
    Migration,
    MigrationError,
    SchemaOutdatedError,
    current_version,
    migrate,
)
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event
from tests.migrations.conftest import pg_connect, pg_url

pytestmark = pytest.mark.anyio

TABLE = "jamajama_audit"
#: the audit store's latest migration (a test step comes after it)
HEAD = audit_migrations.MIGRATIONS[-1].version


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def old_sqlite_ddl(table: str) -> str:
    """The SQLite DDL as it shipped before migrations (SqliteAuditStore.__init__), verbatim."""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (seq INTEGER PRIMARY KEY, prev_hash TEXT NOT NULL,"
        " hash TEXT NOT NULL, body TEXT NOT NULL, signature TEXT);"
        f"CREATE TABLE IF NOT EXISTS {table}_subjects (subject TEXT NOT NULL,"
        " seq INTEGER NOT NULL);"
        f"CREATE INDEX IF NOT EXISTS {table}_subjects_idx ON {table}_subjects (subject);"
        + "".join(
            f"CREATE TRIGGER IF NOT EXISTS {t}_append_only_{op} BEFORE {op} ON {t} "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
            for t in (table, f"{table}_subjects")
            for op in ("UPDATE", "DELETE")
        )
    )


def old_postgres_ddl(table: str) -> list[str]:
    """The PostgreSQL DDL as it shipped before migrations (PostgresAuditStore._connection)."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {table} (seq BIGINT PRIMARY KEY, prev_hash TEXT "
        "NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL, signature TEXT)",
        f"CREATE TABLE IF NOT EXISTS {table}_subjects (subject TEXT NOT NULL, seq BIGINT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {table}_subjects_idx ON {table}_subjects (subject)",
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit log is append-only'; END $$",
    ]
    for name in (table, f"{table}_subjects"):
        statements += [
            f"CREATE OR REPLACE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE "
            f"ON {name} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
            f"CREATE OR REPLACE TRIGGER {name}_no_truncate BEFORE TRUNCATE "
            f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        ]
    return statements


def write_old_records(execute: Any, placeholder: str, count: int = 4) -> None:
    """Records as today's ``append`` writes them (chained, signed, subjects indexed)."""
    head: tuple[int, str] | None = None
    log = AuditLog(None, SUBJECT_KEY)  # type: ignore[arg-type]  (only hashes subjects)
    p = placeholder
    for n in range(1, count + 1):
        subject = log.subject_hash(f"18710101019000{n:02d}")
        record = chain(event(n, (subject,)), head, SIGNING_KEY)
        execute(
            f"INSERT INTO {TABLE} (seq, prev_hash, hash, body, signature) "
            f"VALUES ({p}, {p}, {p}, {p}, {p})",
            (record.seq, record.prev_hash, record.hash, record.body, record.signature),
        )
        execute(f"INSERT INTO {TABLE}_subjects (subject, seq) VALUES ({p}, {p})", (subject, n))
        head = (record.seq, record.hash)


def rebuild_step(dialect: str) -> Migration:
    """A later step that rebuilds both tables (as SQLite must to change a column): the old
    tables' triggers go with them."""
    integer = "INTEGER" if dialect == "sqlite" else "BIGINT"
    statements = []
    for name, columns, copied in (
        (
            "{table}",
            f"seq {integer} PRIMARY KEY, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, "
            "body TEXT NOT NULL, signature TEXT, anchor TEXT",
            "seq, prev_hash, hash, body, signature",
        ),
        ("{table}_subjects", f"subject TEXT NOT NULL, seq {integer} NOT NULL", "subject, seq"),
    ):
        statements += [
            f"ALTER TABLE {name} RENAME TO {name}_old",
            f"CREATE TABLE {name} ({columns})",
            f"INSERT INTO {name} ({copied}) SELECT {copied} FROM {name}_old ORDER BY seq",
            f"DROP TABLE {name}_old",
        ]
    statements.append("CREATE INDEX IF NOT EXISTS {table}_subjects_idx2 ON {table}_subjects (seq)")
    return Migration(
        HEAD + 1, "rebuild (test)", sqlite=tuple(statements), postgres=tuple(statements)
    )


def with_step(step: Migration, table: str = TABLE) -> Any:
    plan = audit_migrations.plan(table)
    return dataclasses.replace(plan, migrations=(*plan.migrations, step))


def refuses_rewrites_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in (
            f"UPDATE {TABLE} SET body = 'x' WHERE seq = 2",
            f"DELETE FROM {TABLE} WHERE seq = 1",
            f"DELETE FROM {TABLE}_subjects",
            f"UPDATE {TABLE}_subjects SET seq = 9",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)


async def verified(store: Any, count: int) -> AuditLog:
    log = AuditLog(store, SUBJECT_KEY, SIGNING_KEY)
    report = await log.verify()
    assert report.ok and report.records == count, report.problems
    assert [r.seq for r in await log.subject("1871010101900002")] == [2]
    return log


# --- SQLite ---------------------------------------------------------------------------------------


def old_sqlite_log(path: Path) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.executescript(old_sqlite_ddl(TABLE))
        write_old_records(conn.execute, "?")


async def test_a_sqlite_log_written_by_todays_code_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    old_sqlite_log(path)
    log = await verified(SqliteAuditStore(path), 4)  # opening migrates
    try:
        assert (await log.append(event(5))).seq == 5  # the chain goes on
        assert (await log.verify()).ok
    finally:
        await log.aclose()
    with closing(sqlite3.connect(path)) as conn:
        assert current_version(conn, SQLITE, f"audit:{TABLE}") == HEAD
    refuses_rewrites_sqlite(path)


async def test_sqlite_triggers_survive_a_table_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    old_sqlite_log(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        applied = migrate(conn, SQLITE, with_step(rebuild_step("sqlite")))
        assert [m.version for m in applied] == [*range(1, HEAD + 1), HEAD + 1]
        cur = Cursor(conn.cursor(), SQLITE)
        expected = audit_migrations.trigger_names(TABLE, SQLITE)
        assert audit_migrations.present_triggers(cur, TABLE) == expected
        assert conn.execute(f"SELECT COUNT(anchor) FROM {TABLE}").fetchone() == (0,)
    refuses_rewrites_sqlite(path)
    log = await verified(SqliteAuditStore(path), 4)  # still verifiable after the rebuild
    await log.aclose()


def test_a_failing_step_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    old_sqlite_log(path)
    bad = Migration(
        HEAD + 1,
        "broken",
        sqlite=("ALTER TABLE {table} ADD COLUMN x TEXT", "NONSENSE"),
        postgres=(),
    )
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        migrate(conn, SQLITE, audit_migrations.plan(TABLE))
        with pytest.raises(MigrationError, match="migrating the audit store failed"):
            migrate(conn, SQLITE, with_step(bad))
        assert current_version(conn, SQLITE, f"audit:{TABLE}") == HEAD
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({TABLE})")]
        assert "x" not in columns
    refuses_rewrites_sqlite(path)


def test_concurrent_starters_apply_each_step_once(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            store = SqliteAuditStore(path)
            store._conn.close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(f"SELECT store, version FROM {VERSION_TABLE}").fetchall()
    assert sorted(rows) == [(f"audit:{TABLE}", v) for v in range(1, HEAD + 1)]


# --- PostgreSQL -----------------------------------------------------------------------------------


def old_postgres_log(schema: str) -> None:
    with pg_connect(schema) as conn:
        for statement in old_postgres_ddl(TABLE):
            conn.execute(statement)
        write_old_records(conn.execute, "%s")


def refuses_rewrites_postgres(schema: str) -> None:
    import psycopg

    with pg_connect(schema) as conn:
        for statement in (
            f"UPDATE {TABLE} SET body = 'x' WHERE seq = 2",
            f"DELETE FROM {TABLE} WHERE seq = 1",
            f"TRUNCATE {TABLE}",
            f"DELETE FROM {TABLE}_subjects",
            f"TRUNCATE {TABLE}_subjects",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


@pytest.mark.postgres
async def test_a_postgres_log_is_refused_until_migrated_then_adopted(pg_schema: str) -> None:
    old_postgres_log(pg_schema)
    url = pg_url(pg_schema)
    section = AuditSection(backend="postgres", postgres_url=url, subject_key="s" * 32, table=TABLE)
    with pytest.raises(SchemaOutdatedError) as refused:  # the gateway does not start
        open_audit_log(section)
    assert "jamajama migrate --store audit" in refused.value.message
    assert "audit.migrate_at_start" in refused.value.message
    lazy = PostgresAuditStore(url, TABLE)  # a replica that started while the database was down
    with pytest.raises(AuditUnavailableError, match="jamajama migrate"):
        await lazy.append(event(9), SIGNING_KEY)
    await lazy.aclose()
    migrating = open_audit_log(section.model_copy(update={"migrate_at_start": True}))
    await migrating.aclose()
    log = await verified(PostgresAuditStore(url, TABLE), 4)
    try:
        assert (await log.append(event(5))).seq == 5
    finally:
        await log.aclose()
    refuses_rewrites_postgres(pg_schema)


@pytest.mark.postgres
async def test_postgres_triggers_survive_a_table_rebuild(pg_schema: str) -> None:
    old_postgres_log(pg_schema)
    with pg_connect(pg_schema) as conn:
        # someone disabled the protection before the upgrade: the migration turns it back on
        conn.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        applied = migrate(conn, POSTGRES, with_step(rebuild_step("postgres")))
        assert [m.version for m in applied] == [*range(1, HEAD + 1), HEAD + 1]
        cur = Cursor(conn.cursor(), POSTGRES)
        expected = audit_migrations.trigger_names(TABLE, POSTGRES)
        assert audit_migrations.present_triggers(cur, TABLE) == expected
    refuses_rewrites_postgres(pg_schema)
    log = await verified(PostgresAuditStore(pg_url(pg_schema), TABLE), 4)
    await log.aclose()


@pytest.mark.postgres
def test_the_longest_table_name_keeps_its_triggers_on_postgres(pg_schema: str) -> None:
    """``audit.table`` allows 41 characters: the trigger names stay within PostgreSQL's 63."""
    table = "a" * 41
    with pg_connect(pg_schema) as conn:
        migrate(conn, POSTGRES, audit_migrations.plan(table))
        cur = Cursor(conn.cursor(), POSTGRES)
        expected = audit_migrations.trigger_names(table, POSTGRES)
        assert len(expected) == 6 and audit_migrations.present_triggers(cur, table) == expected
