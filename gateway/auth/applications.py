"""The registry of consumer applications: which scopes and purposes each is approved for.

A token only names an application; what that application may do is decided here. An application
missing from the registry, or revoked, gets anonymous access only. Lookups are not cached, so a
revocation takes effect on the next request. Two stores: embedded SQLite (default) and PostgreSQL
(a cluster of gateway replicas sharing one registry). The table comes from
``gateway.migrations.applications``: SQLite migrates when it opens; PostgreSQL checks the schema
at start and refuses an older one unless ``migrate_at_start``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gateway.auth.config import ApplicationSeed, ApplicationsSection
from gateway.auth.errors import RegistryError
from gateway.errors import GatewayError
from gateway.migrations import applications as migrations
from gateway.migrations.runner import (
    SQLITE,
    VERSION_TABLE,
    migrate,
    prepare_postgres,
    sqlite_wal,
)

logger = logging.getLogger("jamajama.auth")


@dataclass(frozen=True, slots=True)
class Application:
    """One registered consumer application."""

    id: str
    name: str = ""
    opd: str = ""
    scopes: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    revoked: bool = False

    @classmethod
    def from_seed(cls, seed: ApplicationSeed) -> Application:
        return cls(
            id=seed.id,
            name=seed.name or seed.id,
            opd=seed.opd,
            scopes=frozenset(seed.scopes),
            purposes=frozenset(seed.purposes),
            revoked=seed.revoked,
        )


class ApplicationRegistry(Protocol):
    """Where applications are registered; every method may raise ``RegistryError``."""

    async def get(self, application_id: str) -> Application | None: ...

    async def put(self, application: Application) -> None: ...

    async def revoke(self, application_id: str) -> bool: ...

    async def list(self) -> list[Application]: ...

    async def aclose(self) -> None: ...


def _row(values: tuple[Any, ...]) -> Application:
    app_id, name, opd, scopes, purposes, revoked = values
    return Application(
        id=app_id,
        name=name,
        opd=opd,
        scopes=frozenset(json.loads(scopes)),
        purposes=frozenset(json.loads(purposes)),
        revoked=bool(revoked),
    )


def _values(app: Application) -> tuple[Any, ...]:
    return (
        app.id,
        app.name,
        app.opd,
        json.dumps(sorted(app.scopes)),
        json.dumps(sorted(app.purposes)),
        app.revoked,
    )


_COLUMNS = "id, name, opd, scopes, purposes, revoked"


class SqliteApplicationRegistry:
    """Embedded store: one SQLite file (``:memory:`` for tests). Lookups are sub-millisecond."""

    def __init__(self, path: Path | str, table: str = "jamajama_applications") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._table = table
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        if str(path) != ":memory:":
            sqlite_wal(self._conn)
        try:  # embedded: migrate at start (BEGIN IMMEDIATE: one process at a time)
            migrate(self._conn, SQLITE, migrations.plan(table))
        except BaseException:
            self._conn.close()
            raise

    async def get(self, application_id: str) -> Application | None:
        try:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM {self._table} WHERE id = ?", (application_id,)
            ).fetchone()
        except sqlite3.Error as error:
            raise RegistryError(f"the application registry cannot be read: {error}") from error
        return _row(row) if row else None

    async def put(self, application: Application) -> None:
        """Register or update; a revocation is never undone by a later ``put`` (seeding)."""
        self._conn.execute(
            f"INSERT INTO {self._table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, opd=excluded.opd, "
            "scopes=excluded.scopes, purposes=excluded.purposes, "
            f"revoked={self._table}.revoked OR excluded.revoked",
            _values(application),
        )

    async def revoke(self, application_id: str) -> bool:
        cursor = self._conn.execute(
            f"UPDATE {self._table} SET revoked = 1 WHERE id = ?", (application_id,)
        )
        return cursor.rowcount > 0

    async def list(self) -> list[Application]:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM {self._table} ORDER BY id").fetchall()
        return [_row(r) for r in rows]

    async def aclose(self) -> None:
        self._conn.close()


class PostgresApplicationRegistry:
    """PostgreSQL store shared by gateway replicas (psycopg 3, async; reconnects on failure)."""

    def __init__(
        self, url: str, table: str = "jamajama_applications", migrate_at_start: bool = False
    ) -> None:
        self._url = url
        self._table = table
        self._conn: Any = None
        self._lock = asyncio.Lock()
        self._migrate_at_start = migrate_at_start
        self._schema_ready = False

    def check_schema(self) -> bool:
        """At start (synchronous): migrate if configured, else refuse an older schema with
        ``SchemaOutdatedError``. False when the database is unreachable now: the check is then
        made before the first connection."""
        import psycopg

        try:
            prepare_postgres(self._url, migrations.plan(self._table), self._migrate_at_start)
        except psycopg.OperationalError as error:
            logger.warning("the application registry database is unreachable at start: %s", error)
            return False
        self._schema_ready = True
        return True

    async def _connection(self) -> Any:
        import psycopg

        if not self._schema_ready:
            try:
                ready = await asyncio.to_thread(self.check_schema)
            except GatewayError as error:  # outdated: every caller is anonymous
                raise RegistryError(error.message) from error
            if not ready:
                raise RegistryError("the application registry database is unreachable")
        if self._conn is None or self._conn.closed:
            try:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=5
                )
            except psycopg.Error as error:
                self._conn = None
                raise RegistryError("the application registry database is unreachable") from error
        return self._conn

    async def _run(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        import psycopg

        async with self._lock:
            conn = await self._connection()
            try:
                return await conn.execute(sql, params)
            except psycopg.OperationalError as error:
                await conn.close()
                self._conn = None
                raise RegistryError("the application registry database failed") from error

    async def get(self, application_id: str) -> Application | None:
        cursor = await self._run(
            f"SELECT {_COLUMNS} FROM {self._table} WHERE id = %s", (application_id,)
        )
        row = await cursor.fetchone()
        return _row(row) if row else None

    async def put(self, application: Application) -> None:
        await self._run(
            f"INSERT INTO {self._table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET name=EXCLUDED.name, opd=EXCLUDED.opd, "
            "scopes=EXCLUDED.scopes, purposes=EXCLUDED.purposes, "
            f"revoked={self._table}.revoked OR EXCLUDED.revoked",
            _values(application),
        )

    async def revoke(self, application_id: str) -> bool:
        cursor = await self._run(
            f"UPDATE {self._table} SET revoked = TRUE WHERE id = %s", (application_id,)
        )
        return bool(cursor.rowcount)

    async def list(self) -> list[Application]:
        cursor = await self._run(f"SELECT {_COLUMNS} FROM {self._table} ORDER BY id")
        return [_row(r) for r in await cursor.fetchall()]

    async def drop(self) -> None:
        """Drop the table and forget its schema version (tests)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            await conn.execute(f"DROP TABLE IF EXISTS {self._table}")
            cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,))
            found = await cursor.fetchone()
            if found and found[0]:
                key = migrations.plan(self._table).key
                await conn.execute(f"DELETE FROM {VERSION_TABLE} WHERE store = %s", (key,))

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def seed_registry(registry: ApplicationRegistry, seeds: Iterable[ApplicationSeed]) -> None:
    for seed in seeds:
        await registry.put(Application.from_seed(seed))


def create_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, not yet seeded. PostgreSQL checks its schema now (an older one
    is refused: ``jamajama migrate``) and connects on first use."""
    if section.backend == "postgres":
        if not section.postgres_url:
            raise RegistryError("auth.applications.postgres_url is required for backend postgres")
        registry = PostgresApplicationRegistry(
            section.postgres_url, section.table, section.migrate_at_start
        )
        registry.check_schema()
        return registry
    return SqliteApplicationRegistry(section.sqlite_path, section.table)


async def open_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, seeded with the configured applications."""
    registry = create_registry(section)
    await seed_registry(registry, section.seed)
    return registry
