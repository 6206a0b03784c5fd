"""The application registry's migrations: today's table is adopted, with its grants."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from gateway.auth.applications import (
    Application,
    PostgresApplicationRegistry,
    Purpose,
    SqliteApplicationRegistry,
    create_registry,
)
from gateway.auth.config import ApplicationsSection
from gateway.auth.errors import RegistryError
from gateway.migrations.runner import POSTGRES, SQLITE, SchemaOutdatedError, current_version
from tests.migrations.conftest import pg_connect, pg_url

pytestmark = pytest.mark.anyio

TABLE = "jamajama_applications"
KEY = f"applications:{TABLE}"
#: the registry's newest step (3: access requests)
HEAD = 4


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


#: the DDL as it shipped before migrations (SqliteApplicationRegistry.__init__), verbatim
OLD_SQLITE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "opd TEXT NOT NULL, scopes TEXT NOT NULL, purposes TEXT NOT NULL, "
    "revoked INTEGER NOT NULL DEFAULT 0)"
)
#: ... and PostgresApplicationRegistry._connection
OLD_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, "
    "name TEXT NOT NULL, opd TEXT NOT NULL, scopes TEXT NOT NULL, "
    "purposes TEXT NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE)"
)
OLD_ROW = (
    f"INSERT INTO {TABLE} VALUES ('sibansos', 'SIBANSOS', 'Dinas Sosial', "
    "'[\"sosial:read\"]', '[\"penyaluran_bansos\"]', {revoked})"
)
EXPECTED = Application(
    "sibansos",
    "SIBANSOS",
    "Dinas Sosial",
    frozenset({"sosial:read"}),
    frozenset({"penyaluran_bansos"}),
    revoked=True,
)
PURPOSE = Purpose(
    "penyaluran_bansos",
    "Penyaluran bansos",
    "Paying assistance",
    "UU 13/2011",
    date(2025, 1, 1),
    None,
    {"Dinas Sosial": (frozenset({"sosial:read"}), frozenset({"data_pribadi"}))},
)


async def test_a_sqlite_registry_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "applications.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(OLD_SQLITE)
        conn.execute(OLD_ROW.format(revoked=1))
    registry = SqliteApplicationRegistry(path)
    try:
        assert await registry.get("sibansos") == EXPECTED
        await registry.put_purpose(PURPOSE)  # step 2 added the purposes
        assert await registry.purpose(PURPOSE.id) == PURPOSE
    finally:
        await registry.aclose()
    with closing(sqlite3.connect(path)) as conn:
        assert current_version(conn, SQLITE, KEY) == HEAD


@pytest.mark.postgres
async def test_a_postgres_registry_is_refused_until_migrated(pg_schema: str) -> None:
    with pg_connect(pg_schema) as conn:
        conn.execute(OLD_POSTGRES)
        conn.execute(OLD_ROW.format(revoked="TRUE"))
    section = ApplicationsSection(backend="postgres", postgres_url=pg_url(pg_schema))
    with pytest.raises(SchemaOutdatedError, match="jamajama migrate --store applications"):
        create_registry(section)  # the gateway does not start
    lazy = PostgresApplicationRegistry(pg_url(pg_schema))
    with pytest.raises(RegistryError, match=r"auth\.applications\.migrate_at_start"):
        await lazy.get("sibansos")  # a replica that started while the database was down
    await lazy.aclose()
    migrated = create_registry(section.model_copy(update={"migrate_at_start": True}))
    try:
        assert await migrated.get("sibansos") == EXPECTED
        await migrated.put_purpose(PURPOSE)
        assert await migrated.purpose(PURPOSE.id) == PURPOSE
    finally:
        await migrated.aclose()
    with pg_connect(pg_schema) as conn:
        assert current_version(conn, POSTGRES, KEY) == HEAD
