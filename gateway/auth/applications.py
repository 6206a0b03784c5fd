"""The registry of consumer applications: which scopes and purposes each is approved for.

A purpose (``Purpose``: name, description, legal basis, validity period, and per OPD the scopes
and policies it approves) is a record of its own: an application approved for a purpose may use,
under it, only the scopes the purpose approves for the application's OPD (UU 27/2022 ties a
purpose to categories of data), and only while the purpose is valid.

A token only names an application; what that application may do is decided here. An application
missing from the registry, or revoked, gets anonymous access only. Lookups are not cached, so a
revocation takes effect on the next request; a grant that ends at an instant is kept with that
instant (``Application.expiring``) and ``in_force`` drops it at the first request after it, with no
sweep. The registry also keeps each application's credentials (``gateway.auth.credentials``).
Two stores: embedded SQLite (default) and PostgreSQL
(a cluster of gateway replicas sharing one registry). The table comes from
``gateway.migrations.applications``: SQLite migrates when it opens; PostgreSQL checks the schema
at start and refuses an older one unless ``migrate_at_start``.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.auth.config import ApplicationSeed, ApplicationsSection, PurposeSeed
from gateway.auth.credentials import Credential
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
class Grant:
    """Scopes and purposes granted to an application until an instant (aware UTC)."""

    until: datetime
    scopes: frozenset[str]
    purposes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Application:
    """One registered consumer application."""

    id: str
    name: str = ""
    opd: str = ""
    scopes: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    revoked: bool = False
    #: grants that end at an instant: (until, scopes, purposes); in force while now < until
    expiring: tuple[Grant, ...] = ()

    def in_force(self, now: datetime) -> Application:
        """This record as it stands at ``now``: the grants still running added, none pending."""
        if not self.expiring:
            return self
        running = [g for g in self.expiring if now < g.until]
        return replace(
            self,
            scopes=self.scopes.union(*(g.scopes for g in running)),
            purposes=self.purposes.union(*(g.purposes for g in running)),
            expiring=(),
        )

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


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose of processing and what it approves, per OPD: ``{opd: (scopes, policies)}``."""

    id: str
    name: str = ""
    description: str = ""
    legal_basis: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    approvals: dict[str, tuple[frozenset[str], frozenset[str]]] = field(
        default_factory=dict, hash=False
    )

    @classmethod
    def from_seed(cls, seed: PurposeSeed) -> Purpose:
        return cls(
            id=seed.id,
            name=seed.name or seed.id,
            description=seed.description,
            legal_basis=seed.legal_basis,
            valid_from=seed.valid_from,
            valid_until=seed.valid_until,
            approvals={
                opd: (frozenset(a.scopes), frozenset(a.policies))
                for opd, a in seed.approvals.items()
            },
        )

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def approved_for(self, opd: str, day: date) -> tuple[frozenset[str], frozenset[str]] | None:
        """(scopes, policies) this purpose opens for ``opd`` on ``day``; None: it opens nothing."""
        return self.approvals.get(opd) if self.valid_on(day) else None


class ApplicationRegistry(Protocol):
    """Where applications are registered; every method may raise ``RegistryError``."""

    async def get(self, application_id: str) -> Application | None: ...

    #: the configured purposes, written by ``seed_registry`` (set by ``create_registry``)
    purpose_seeds: tuple[PurposeSeed, ...]

    async def purpose(self, purpose_id: str) -> Purpose | None: ...

    async def put_purpose(self, purpose: Purpose) -> None: ...

    async def put(self, application: Application) -> None: ...

    async def revoke(self, application_id: str) -> bool: ...

    async def list(self) -> list[Application]: ...

    async def credential(self, credential_id: str) -> Credential | None: ...

    async def credentials(self, application_id: str) -> builtins.list[Credential]: ...

    async def put_credential(self, credential: Credential) -> None: ...

    async def aclose(self) -> None: ...


def _row(values: tuple[Any, ...]) -> Application:
    app_id, name, opd, scopes, purposes, revoked, expiring = values
    return Application(
        id=app_id,
        name=name,
        opd=opd,
        scopes=frozenset(json.loads(scopes)),
        purposes=frozenset(json.loads(purposes)),
        revoked=bool(revoked),
        expiring=tuple(
            Grant(datetime.fromisoformat(until), frozenset(s), frozenset(p))
            for until, s, p in json.loads(expiring)
        ),
    )


def _values(app: Application) -> tuple[Any, ...]:
    expiring = sorted(
        [g.until.isoformat(), sorted(g.scopes), sorted(g.purposes)] for g in app.expiring
    )
    return (
        app.id,
        app.name,
        app.opd,
        json.dumps(sorted(app.scopes)),
        json.dumps(sorted(app.purposes)),
        app.revoked,
        json.dumps(expiring),
    )


_COLUMNS = "id, name, opd, scopes, purposes, revoked, expiring"
_CREDENTIAL_COLUMNS = "id, application, secret_hash, created_at, created_by, expires_at, revoked_at"
_CREDENTIAL_UPDATE = "expires_at=excluded.expires_at, revoked_at=excluded.revoked_at"
_PURPOSE_COLUMNS = "id, name, description, legal_basis, valid_from, valid_until, approvals"
_PURPOSE_UPDATE = (
    "name=excluded.name, description=excluded.description, legal_basis=excluded.legal_basis, "
    "valid_from=excluded.valid_from, valid_until=excluded.valid_until, "
    "approvals=excluded.approvals"
)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _purpose_row(values: tuple[Any, ...]) -> Purpose:
    purpose_id, name, description, legal_basis, valid_from, valid_until, approvals = values
    return Purpose(
        id=purpose_id,
        name=name,
        description=description,
        legal_basis=legal_basis,
        valid_from=_day(valid_from),
        valid_until=_day(valid_until),
        approvals={
            opd: (frozenset(a.get("scopes", ())), frozenset(a.get("policies", ())))
            for opd, a in json.loads(approvals).items()
        },
    )


def _purpose_values(purpose: Purpose) -> tuple[Any, ...]:
    approvals = {
        opd: {"scopes": sorted(scopes), "policies": sorted(policies)}
        for opd, (scopes, policies) in sorted(purpose.approvals.items())
    }
    return (
        purpose.id,
        purpose.name,
        purpose.description,
        purpose.legal_basis,
        purpose.valid_from,
        purpose.valid_until,
        json.dumps(approvals),
    )


class SqliteApplicationRegistry:
    """Embedded store: one SQLite file (``:memory:`` for tests). Lookups are sub-millisecond."""

    def __init__(self, path: Path | str, table: str = "jamajama_applications") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._table = table
        self.purpose_seeds: tuple[PurposeSeed, ...] = ()
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
            f"INSERT INTO {self._table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, opd=excluded.opd, "
            "scopes=excluded.scopes, purposes=excluded.purposes, expiring=excluded.expiring, "
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

    async def purpose(self, purpose_id: str) -> Purpose | None:
        try:
            row = self._conn.execute(
                f"SELECT {_PURPOSE_COLUMNS} FROM {self._table}_purposes WHERE id = ?",
                (purpose_id,),
            ).fetchone()
        except sqlite3.Error as error:
            raise RegistryError(f"the application registry cannot be read: {error}") from error
        return _purpose_row(row) if row else None

    async def put_purpose(self, purpose: Purpose) -> None:
        values = _purpose_values(purpose)
        self._conn.execute(
            f"INSERT INTO {self._table}_purposes ({_PURPOSE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT(id) DO UPDATE SET {_PURPOSE_UPDATE}",
            (*values[:4], *(d.isoformat() if d else None for d in values[4:6]), values[6]),
        )

    async def credential(self, credential_id: str) -> Credential | None:
        try:
            row = self._conn.execute(
                f"SELECT {_CREDENTIAL_COLUMNS} FROM {self._table}_credentials WHERE id = ?",
                (credential_id,),
            ).fetchone()
        except sqlite3.Error as error:
            raise RegistryError(f"the application registry cannot be read: {error}") from error
        return Credential.from_row(row) if row else None

    async def credentials(self, application_id: str) -> builtins.list[Credential]:
        rows = self._conn.execute(
            f"SELECT {_CREDENTIAL_COLUMNS} FROM {self._table}_credentials "
            "WHERE application = ? ORDER BY created_at, id",
            (application_id,),
        ).fetchall()
        return [Credential.from_row(r) for r in rows]

    async def put_credential(self, credential: Credential) -> None:
        self._conn.execute(
            f"INSERT INTO {self._table}_credentials ({_CREDENTIAL_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT(id) DO UPDATE SET {_CREDENTIAL_UPDATE}",
            credential.row(),
        )

    async def aclose(self) -> None:
        self._conn.close()


class PostgresApplicationRegistry:
    """PostgreSQL store shared by gateway replicas (psycopg 3, async; reconnects on failure)."""

    def __init__(
        self,
        url: str,
        table: str = "jamajama_applications",
        migrate_at_start: bool = False,
        outage_grace_seconds: float = 0.0,
    ) -> None:
        self._url = url
        self._table = table
        #: while the database is unreachable, an application read this long ago is still known,
        #: without its purposes (aggregates only; personal data needs the live record)
        self._outage_grace = outage_grace_seconds
        self._last_read: dict[str, tuple[Application, float]] = {}
        self.purpose_seeds: tuple[PurposeSeed, ...] = ()
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
            while True:
                # a connection kept from before an outage may be dead: retry once on a fresh one
                reused = self._conn is not None and not self._conn.closed
                conn = await self._connection()
                try:
                    return await conn.execute(sql, params)
                except psycopg.OperationalError as error:
                    await conn.close()
                    self._conn = None
                    if not reused:
                        message = "the application registry database failed"
                        raise RegistryError(message) from error

    async def get(self, application_id: str) -> Application | None:
        try:
            cursor = await self._run(
                f"SELECT {_COLUMNS} FROM {self._table} WHERE id = %s", (application_id,)
            )
            row = await cursor.fetchone()
        except RegistryError:
            known = self._last_read.get(application_id)
            if known is None or time.monotonic() - known[1] > self._outage_grace:
                raise
            logger.warning(
                "application registry unreachable: %s known from its last read, "
                "without purposes (no personal data)",
                application_id,
            )
            return replace(known[0], purposes=frozenset())
        application = _row(row) if row else None
        if application is None:
            self._last_read.pop(application_id, None)
        elif self._outage_grace > 0:
            self._last_read[application_id] = (application, time.monotonic())
        return application

    async def put(self, application: Application) -> None:
        await self._run(
            f"INSERT INTO {self._table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET name=EXCLUDED.name, opd=EXCLUDED.opd, "
            "scopes=EXCLUDED.scopes, purposes=EXCLUDED.purposes, expiring=EXCLUDED.expiring, "
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

    async def purpose(self, purpose_id: str) -> Purpose | None:
        cursor = await self._run(
            f"SELECT {_PURPOSE_COLUMNS} FROM {self._table}_purposes WHERE id = %s", (purpose_id,)
        )
        row = await cursor.fetchone()
        return _purpose_row(row) if row else None

    async def put_purpose(self, purpose: Purpose) -> None:
        await self._run(
            f"INSERT INTO {self._table}_purposes ({_PURPOSE_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (id) DO UPDATE SET {_PURPOSE_UPDATE.replace('excluded', 'EXCLUDED')}",
            _purpose_values(purpose),
        )

    async def credential(self, credential_id: str) -> Credential | None:
        cursor = await self._run(
            f"SELECT {_CREDENTIAL_COLUMNS} FROM {self._table}_credentials WHERE id = %s",
            (credential_id,),
        )
        row = await cursor.fetchone()
        return Credential.from_row(row) if row else None

    async def credentials(self, application_id: str) -> builtins.list[Credential]:
        cursor = await self._run(
            f"SELECT {_CREDENTIAL_COLUMNS} FROM {self._table}_credentials "
            "WHERE application = %s ORDER BY created_at, id",
            (application_id,),
        )
        return [Credential.from_row(r) for r in await cursor.fetchall()]

    async def put_credential(self, credential: Credential) -> None:
        await self._run(
            f"INSERT INTO {self._table}_credentials ({_CREDENTIAL_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (id) DO UPDATE SET {_CREDENTIAL_UPDATE.replace('excluded', 'EXCLUDED')}",
            credential.row(),
        )

    async def drop(self) -> None:
        """Drop the table and forget its schema version (tests)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            await conn.execute(f"DROP TABLE IF EXISTS {self._table}")
            for suffix in ("_purposes", "_credentials"):
                await conn.execute(f"DROP TABLE IF EXISTS {self._table}{suffix}")
            cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,))
            found = await cursor.fetchone()
            if found and found[0]:
                key = migrations.plan(self._table).key
                await conn.execute(f"DELETE FROM {VERSION_TABLE} WHERE store = %s", (key,))

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def seed_registry(
    registry: ApplicationRegistry,
    seeds: Iterable[ApplicationSeed],
    purposes: Iterable[PurposeSeed] | None = None,
) -> None:
    """Upsert ``seeds`` and the purposes (``purposes``, else the registry's configured ones)."""
    for purpose in registry.purpose_seeds if purposes is None else purposes:
        await registry.put_purpose(Purpose.from_seed(purpose))
    for seed in seeds:
        await registry.put(Application.from_seed(seed))


def create_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, not yet seeded. PostgreSQL checks its schema now (an older one
    is refused: ``jamajama migrate``) and connects on first use."""
    if section.backend == "postgres":
        if not section.postgres_url:
            raise RegistryError("auth.applications.postgres_url is required for backend postgres")
        shared = PostgresApplicationRegistry(
            section.postgres_url,
            section.table,
            section.migrate_at_start,
            section.outage_grace_seconds,
        )
        shared.check_schema()
        registry: ApplicationRegistry = shared
    else:
        registry = SqliteApplicationRegistry(section.sqlite_path, section.table)
    registry.purpose_seeds = tuple(section.purposes)
    return registry


async def open_registry(section: ApplicationsSection) -> ApplicationRegistry:
    """The configured registry, seeded with the configured applications."""
    registry = create_registry(section)
    await seed_registry(registry, section.seed)
    return registry
