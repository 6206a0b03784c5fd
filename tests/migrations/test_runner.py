"""The migration runner on its own: parameter style, recorded versions, independence of stores."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.migrations.runner import (
    POSTGRES,
    SQLITE,
    VERSION_TABLE,
    Migration,
    Plan,
    SchemaOutdatedError,
    current_version,
    migrate,
    prepare,
    require,
)
from tests.migrations.conftest import pg_connect

STEPS = (
    Migration(
        1, "one", sqlite=("CREATE TABLE {t} (a TEXT)",), postgres=("CREATE TABLE {t} (a TEXT)",)
    ),
    Migration(
        2,
        "two",
        sqlite=("ALTER TABLE {t} ADD COLUMN b TEXT",),
        postgres=("ALTER TABLE {t} ADD COLUMN b TEXT",),
    ),
)


def plan(table: str, steps: tuple[Migration, ...] = STEPS) -> Plan:
    return Plan("audit", f"test:{table}", steps, {"t": table}, setting="audit.migrate_at_start")


@pytest.mark.parametrize(
    ("written", "rendered"),
    [
        ("SELECT ? FROM t WHERE a = ?", "SELECT %s FROM t WHERE a = %s"),
        (
            "SELECT '?', \"odd?name\" FROM t WHERE a = ?",
            "SELECT '?', \"odd?name\" FROM t WHERE a = %s",
        ),
        ("SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || %s"),
        (
            "SELECT a FROM t WHERE a LIKE '10%' AND b = ?",
            "SELECT a FROM t WHERE a LIKE '10%%' AND b = %s",
        ),
        ("SELECT 5 % ?", "SELECT 5 %% %s"),
    ],
)
def test_placeholders_are_rendered_per_backend(written: str, rendered: str) -> None:
    assert POSTGRES.sql(written) == rendered
    assert SQLITE.sql(written) == written


def test_steps_are_applied_once_in_order_and_recorded(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)) as conn:
        first = plan("items", STEPS[:1])
        assert [m.version for m in migrate(conn, SQLITE, first)] == [1]
        assert [m.version for m in migrate(conn, SQLITE, plan("items"))] == [2]
        assert migrate(conn, SQLITE, plan("items")) == []
        rows = conn.execute(f"SELECT store, version, name FROM {VERSION_TABLE}").fetchall()
        assert rows == [("test:items", 1, "one"), ("test:items", 2, "two")]
        # another store in the same database has its own version
        assert current_version(conn, SQLITE, "test:other") == 0
        assert [m.version for m in migrate(conn, SQLITE, plan("other"))] == [1, 2]
        conn.execute("INSERT INTO items (a, b) VALUES ('x', 'y')")


def test_an_older_schema_is_refused_a_newer_one_accepted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with closing(sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)) as conn:
        assert current_version(conn, SQLITE, "test:items") == 0  # no version table yet
        with pytest.raises(SchemaOutdatedError) as refused:
            require(conn, SQLITE, plan("items"))
        assert refused.value.message == (
            "the audit store's schema is at version 0, this release needs 2: run `jamajama "
            "migrate --store audit` with the same configuration (--config), or set "
            "audit.migrate_at_start = true to migrate at start"
        )
        migrate(conn, SQLITE, plan("items"))
        with caplog.at_level(logging.WARNING, logger="jamajama.migrations"):
            assert require(conn, SQLITE, plan("items", STEPS[:1])) == 2  # a previous release
        assert "newer than this release knows" in caplog.text


def test_prepare_migrates_sqlite_and_only_checks_postgres_unless_asked(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)) as conn:
        prepare(conn, SQLITE, plan("items"), migrate_at_start=False)
        assert current_version(conn, SQLITE, "test:items") == 2


@pytest.mark.postgres
def test_postgres_prepare_refuses_then_migrates_when_asked(pg_schema: str) -> None:
    with pg_connect(pg_schema) as conn:
        with pytest.raises(SchemaOutdatedError):
            prepare(conn, POSTGRES, plan("items"), migrate_at_start=False)
        assert current_version(conn, POSTGRES, "test:items") == 0
        prepare(conn, POSTGRES, plan("items"), migrate_at_start=True)
        assert current_version(conn, POSTGRES, "test:items") == 2
        conn.execute("INSERT INTO items (a, b) VALUES ('x', 'y')")
