"""Registry store: subgraph versions, supergraph versions and operation usage.

One SQL dialect-light implementation over two drivers: ``sqlite3`` (embedded default) and
``psycopg`` 3 (PostgreSQL, for clusters). Every accepted publish (or rollback) is a new supergraph
version that records the exact subgraph versions it was composed from, who did it and when.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from gateway.errors import GatewayError


class RegistryStoreError(GatewayError):
    """The registry store cannot be opened or written."""

    code = "REGISTRY_STORE_ERROR"


class StaleBase(RegistryStoreError):
    """Another publish landed between the check and the write; compose again."""

    code = "REGISTRY_STALE_BASE"


@dataclass(frozen=True, slots=True)
class SubgraphVersion:
    id: int
    name: str
    url: str
    sdl: str
    published_by: str
    published_at: float


@dataclass(frozen=True, slots=True)
class SupergraphVersion:
    version: int
    sdl: str
    etag: str
    created_at: float
    created_by: str
    action: str  # "publish" or "rollback"
    subgraph: str | None  # the subgraph whose publish made this version
    subgraph_versions: dict[str, int]  # name -> SubgraphVersion.id

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "etag": self.etag,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "action": self.action,
            "subgraph": self.subgraph,
            "subgraph_versions": self.subgraph_versions,
        }


@dataclass(frozen=True, slots=True)
class OperationUse:
    """One operation that used a field coordinate within the window."""

    operation: str  # the operation name, or "(anonymous)"
    operation_hash: str
    count: int
    last_seen: float


def etag_of(sdl: str) -> str:
    return '"' + hashlib.sha256(sdl.encode()).hexdigest()[:32] + '"'


class Connection(Protocol):
    def execute(self, sql: str, params: Iterable[Any] = ...) -> Any: ...


_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS subgraph_versions (
        id {serial},
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        sdl TEXT NOT NULL,
        published_by TEXT NOT NULL,
        published_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS supergraph_versions (
        version INTEGER PRIMARY KEY,
        sdl TEXT NOT NULL,
        etag TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        created_by TEXT NOT NULL,
        action TEXT NOT NULL,
        subgraph TEXT,
        subgraph_versions TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS field_usage (
        coordinate TEXT NOT NULL,
        operation TEXT NOT NULL,
        operation_hash TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (coordinate, operation_hash))""",
]


class RegistryStore:
    """The registry's persistent state, over SQLite or PostgreSQL."""

    def __init__(self, connect: Any, dialect: str) -> None:
        self._connect = connect
        self.dialect = dialect
        self._lock = threading.Lock()
        self._conn: Any = None
        serial = (
            "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        )
        with self._tx() as cur:
            for statement in _SCHEMA:
                cur.execute(statement.format(serial=serial))

    # construction -------------------------------------------------------------------------------

    @classmethod
    def sqlite(cls, path: Path | str) -> RegistryStore:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
            return conn

        return cls(connect, "sqlite")

    @classmethod
    def postgres(cls, url: str, schema: str = "jamajama_registry") -> RegistryStore:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
            raise RegistryStoreError(f"invalid PostgreSQL schema name {schema!r}")
        import psycopg

        def connect() -> Any:
            conn = psycopg.connect(url, autocommit=True)
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            return conn

        return cls(connect, "postgres")

    @classmethod
    def from_settings(cls, database: Path, database_url: str | None, schema: str) -> RegistryStore:
        if database_url:
            return cls.postgres(database_url, schema)
        return cls.sqlite(database)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # plumbing ----------------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            cur = self._begin()
            try:
                yield _Cursor(cur, self._sql)
                cur.execute("COMMIT")
            except BaseException:
                try:
                    cur.execute("ROLLBACK")
                except Exception:  # the connection itself is gone: reconnect next time
                    self._reset()
                raise
            finally:
                with contextlib.suppress(Exception):
                    cur.close()

    def _begin(self) -> Any:
        """A cursor in a new transaction; a connection found dead is replaced once."""
        for attempt in (1, 2):
            try:
                if self._conn is None:
                    self._conn = self._connect()
                cur = self._conn.cursor()
                cur.execute("BEGIN")
                return cur
            except Exception as exc:  # driver-specific connection errors
                self._reset()
                if attempt == 2:
                    raise RegistryStoreError(f"cannot open the registry store: {exc}") from exc
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    # subgraphs and supergraphs -----------------------------------------------------------------

    def current(self) -> SupergraphVersion | None:
        with self._tx() as cur:
            row = cur.one(
                "SELECT version, sdl, etag, created_at, created_by, action, subgraph, "
                "subgraph_versions FROM supergraph_versions ORDER BY version DESC LIMIT 1"
            )
        return _supergraph(row) if row else None

    def supergraph(self, version: int) -> SupergraphVersion | None:
        with self._tx() as cur:
            row = cur.one(
                "SELECT version, sdl, etag, created_at, created_by, action, subgraph, "
                "subgraph_versions FROM supergraph_versions WHERE version = ?",
                (version,),
            )
        return _supergraph(row) if row else None

    def supergraph_versions(self) -> list[SupergraphVersion]:
        with self._tx() as cur:
            rows = cur.all(
                "SELECT version, sdl, etag, created_at, created_by, action, subgraph, "
                "subgraph_versions FROM supergraph_versions ORDER BY version"
            )
        return [_supergraph(r) for r in rows]

    def subgraph_version(self, version_id: int) -> SubgraphVersion | None:
        with self._tx() as cur:
            row = cur.one(
                "SELECT id, name, url, sdl, published_by, published_at FROM subgraph_versions "
                "WHERE id = ?",
                (version_id,),
            )
        return SubgraphVersion(*row) if row else None

    def subgraph_history(self, name: str) -> list[SubgraphVersion]:
        with self._tx() as cur:
            rows = cur.all(
                "SELECT id, name, url, sdl, published_by, published_at FROM subgraph_versions "
                "WHERE name = ? ORDER BY id",
                (name,),
            )
        return [SubgraphVersion(*r) for r in rows]

    def current_subgraphs(
        self, current: SupergraphVersion | Literal[False] | None = False
    ) -> dict[str, SubgraphVersion]:
        """The subgraph versions the current (or the given) supergraph was composed from."""
        if current is False:
            current = self.current()
        if current is None:
            return {}
        result: dict[str, SubgraphVersion] = {}
        for name, version_id in current.subgraph_versions.items():
            found = self.subgraph_version(version_id)
            if found is not None:
                result[name] = found
        return result

    def record_publish(
        self,
        name: str,
        url: str,
        sdl: str,
        by: str,
        supergraph_sdl: str,
        at: float | None = None,
        based_on: int | None = -1,
    ) -> SupergraphVersion:
        """Store a subgraph version and the supergraph composed with it, atomically.

        ``based_on`` is the supergraph version the composition started from (None: none yet);
        if another publish landed meanwhile, ``StaleBase`` is raised and nothing is stored.
        """
        at = time.time() if at is None else at
        with self._tx() as cur:
            if based_on != -1:
                if self.dialect == "postgres":
                    cur.execute("LOCK TABLE supergraph_versions IN EXCLUSIVE MODE")
                latest = cur.one("SELECT MAX(version) FROM supergraph_versions")[0]
                if (int(latest) if latest is not None else None) != based_on:
                    raise StaleBase(
                        f"supergraph version {latest} landed after version {based_on} was checked"
                    )
            if self.dialect == "sqlite":
                cur.execute(
                    "INSERT INTO subgraph_versions (name, url, sdl, published_by, published_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, url, sdl, by, at),
                )
                new_id = cur.one("SELECT last_insert_rowid()")[0]
            else:
                new_id = cur.one(
                    "INSERT INTO subgraph_versions (name, url, sdl, published_by, published_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (name, url, sdl, by, at),
                )[0]
            previous = cur.one(
                "SELECT subgraph_versions FROM supergraph_versions ORDER BY version DESC LIMIT 1"
            )
            members: dict[str, int] = json.loads(previous[0]) if previous else {}
            members[name] = int(new_id)
            return self._insert_supergraph(cur, supergraph_sdl, by, "publish", name, members, at)

    def record_rollback(self, version: int, by: str, at: float | None = None) -> SupergraphVersion:
        """A new version equal to ``version`` (its SDL and its subgraph versions)."""
        at = time.time() if at is None else at
        target = self.supergraph(version)
        if target is None:
            raise RegistryStoreError(f"there is no supergraph version {version}")
        with self._tx() as cur:
            return self._insert_supergraph(
                cur, target.sdl, by, "rollback", None, dict(target.subgraph_versions), at
            )

    def _insert_supergraph(
        self,
        cur: _Cursor,
        sdl: str,
        by: str,
        action: str,
        subgraph: str | None,
        members: dict[str, int],
        at: float,
    ) -> SupergraphVersion:
        last = cur.one("SELECT MAX(version) FROM supergraph_versions")
        version = int(last[0] or 0) + 1
        etag = etag_of(sdl)
        cur.execute(
            "INSERT INTO supergraph_versions (version, sdl, etag, created_at, created_by, action, "
            "subgraph, subgraph_versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (version, sdl, etag, at, by, action, subgraph, json.dumps(members, sort_keys=True)),
        )
        return SupergraphVersion(version, sdl, etag, at, by, action, subgraph, members)

    # usage --------------------------------------------------------------------------------------

    def record_usage(
        self,
        operation: str,
        operation_hash: str,
        coordinates: Iterable[str],
        count: int = 1,
        at: float | None = None,
    ) -> None:
        """Count one (or ``count``) executions of an operation and the fields it used."""
        at = time.time() if at is None else at
        with self._tx() as cur:
            for coordinate in sorted(set(coordinates)):
                cur.execute(
                    "INSERT INTO field_usage (coordinate, operation, operation_hash, count, "
                    "last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT (coordinate, operation_hash) "
                    "DO UPDATE SET count = field_usage.count + excluded.count, "
                    "last_seen = excluded.last_seen, operation = excluded.operation",
                    (coordinate, operation, operation_hash, count, at),
                )

    def operations_using(self, coordinate: str, since: float) -> list[OperationUse]:
        with self._tx() as cur:
            rows = cur.all(
                "SELECT operation, operation_hash, count, last_seen FROM field_usage "
                "WHERE coordinate = ? AND last_seen >= ? ORDER BY count DESC, operation",
                (coordinate, since),
            )
        return [OperationUse(r[0], r[1], int(r[2]), float(r[3])) for r in rows]


class _Cursor:
    def __init__(self, cur: Any, sql: Any) -> None:
        self._cur = cur
        self._sql = sql

    def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        self._cur.execute(self._sql(sql), tuple(params))

    def one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        self._cur.execute(self._sql(sql), tuple(params))
        return self._cur.fetchone()

    def all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        self._cur.execute(self._sql(sql), tuple(params))
        return list(self._cur.fetchall())


def _supergraph(row: Any) -> SupergraphVersion:
    return SupergraphVersion(
        version=int(row[0]),
        sdl=row[1],
        etag=row[2],
        created_at=float(row[3]),
        created_by=row[4],
        action=row[5],
        subgraph=row[6],
        subgraph_versions={k: int(v) for k, v in json.loads(row[7]).items()},
    )
