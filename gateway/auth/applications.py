"""The registry of consumer applications: which scopes and purposes each is approved for.

A token only names an application; what that application may do is decided here. An application
missing from the registry, or revoked, gets anonymous access only. Lookups are not cached, so a
revocation takes effect on the next request. Two stores: embedded SQLite (default) and PostgreSQL
(a cluster of gateway replicas sharing one registry).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gateway.auth.config import ApplicationSeed, ApplicationsSection
from gateway.auth.errors import RegistryError


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
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "opd TEXT NOT NULL, scopes TEXT NOT NULL, purposes TEXT NOT NULL, "
            "revoked INTEGER NOT NULL DEFAULT 0)"
        )

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

    def __init__(self, url: str, table: str = "jamajama_applications") -> None:
        self._url = url
        self._table = table
        self._conn: Any = None
        self._lock = asyncio.Lock()

    async def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            try:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=5
                )
                async with self._conn.transaction():  # replicas starting together
                    await self._conn.execute(
                        "SELECT pg_advisory_xact_lock(%s)", (zlib.crc32(self._table.encode()),)
                    )
                    await self._conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {self._table} (id TEXT PRIMARY KEY, "
                        "name TEXT NOT NULL, opd TEXT NOT NULL, scopes TEXT NOT NULL, "
                        "purposes TEXT NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE)"
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
        """Drop the table (tests)."""
        await self._run(f"DROP TABLE IF EXISTS {self._table}")

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def seed_registry(registry: ApplicationRegistry, seeds: Iterable[ApplicationSeed]) -> None:
    for seed in seeds:
        await registry.put(Application.from_seed(seed))


def create_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, not yet seeded (PostgreSQL connects on first use)."""
    if section.backend == "postgres":
        if not section.postgres_url:
            raise RegistryError("auth.applications.postgres_url is required for backend postgres")
        return PostgresApplicationRegistry(section.postgres_url, section.table)
    return SqliteApplicationRegistry(section.sqlite_path, section.table)


async def open_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, seeded with the configured applications."""
    registry = create_registry(section)
    await seed_registry(registry, section.seed)
    return registry
