"""Registry store: subgraph versions, supergraph versions and operation usage.

One SQL dialect-light implementation over two drivers: ``sqlite3`` (embedded default) and
``psycopg`` 3 (PostgreSQL, for clusters); statements are written with ``?`` placeholders and
rendered per backend by ``gateway.migrations.runner.Dialect``. Every accepted publish (or
rollback) is a new supergraph version that records the exact subgraph versions it was composed
from, who did it (the token's identity and the author it named), when, and why an admin overrode
a refused breaking change, and which consumer applications its breaking and deprecation changes
affected. Usage is counted per (field coordinate, consumer application, operation). The tables
are created and changed by ``gateway.migrations.registry``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
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
from typing import Any, Literal

from gateway.errors import GatewayError
from gateway.migrations import registry as migrations
from gateway.migrations.runner import POSTGRES, SQLITE, Cursor, Dialect, prepare, sqlite_wal


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
    #: ``published_by`` plus the person the publisher named (``opd:kesehatan/budi``); versions
    #: from before authors were recorded have ``published_by`` here
    author: str = ""

    def __post_init__(self) -> None:
        if not self.author:
            object.__setattr__(self, "author", self.published_by)


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
    author: str = ""  # as SubgraphVersion.author
    #: an admin published over a refused breaking change, for this reason
    override_reason: str | None = None
    #: what the publish check found: each breaking or deprecation change and the applications
    #: that used it in the usage window (``Affected.to_dict``); empty for rollbacks and old rows
    affected: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not self.author:
            object.__setattr__(self, "author", self.created_by)

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "etag": self.etag,
            "created_at": self.created_at,
            "date": iso_date(self.created_at),
            "created_by": self.created_by,
            "author": self.author,
            "action": self.action,
            "subgraph": self.subgraph,
            "subgraph_versions": self.subgraph_versions,
            "override_reason": self.override_reason,
            "affected": list(self.affected),
        }


#: the application of usage rows recorded before the gateway reported one (migration 3)
UNKNOWN_APPLICATION = "(unknown)"
#: the application of a request without a (valid) token, or of a gateway with auth off
ANONYMOUS_APPLICATION = "anonymous"


@dataclass(frozen=True, slots=True)
class OperationUse:
    """One operation that used a field coordinate within the window."""

    operation: str  # the operation name, or "(anonymous)"
    operation_hash: str
    count: int
    last_seen: float
    #: the consumer application that ran it (``anonymous`` without a token; ``(unknown)`` for
    #: usage reported before applications were carried)
    application: str = UNKNOWN_APPLICATION


def etag_of(sdl: str) -> str:
    return '"' + hashlib.sha256(sdl.encode()).hexdigest()[:32] + '"'


def iso_date(epoch: float) -> str:
    """An epoch time as ISO 8601 in UTC, to the second (what people read in the log)."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


_SUPERGRAPH_COLUMNS = (
    "version, sdl, etag, created_at, created_by, action, subgraph, subgraph_versions, author, "
    "override_reason, affected"
)
_SUBGRAPH_COLUMNS = "id, name, url, sdl, published_by, published_at, author"


class RegistryStore:
    """The registry's persistent state, over SQLite or PostgreSQL.

    Opening it migrates an embedded (SQLite) store; a PostgreSQL store migrates only with
    ``migrate_at_start`` and otherwise refuses an older schema (``SchemaOutdatedError``).
    """

    def __init__(
        self, connect: Any, dialect: str | Dialect, migrate_at_start: bool = False
    ) -> None:
        self._connect = connect
        self._dialect = dialect if isinstance(dialect, Dialect) else _DIALECTS[dialect]
        self.dialect = self._dialect.name
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._lock:
            try:
                conn = self._connection()
            except Exception as exc:  # driver-specific connection errors
                raise RegistryStoreError(f"cannot open the registry store: {exc}") from exc
            try:
                prepare(conn, self._dialect, migrations.plan(), migrate_at_start)
            except BaseException:
                self._reset()
                raise

    # construction -------------------------------------------------------------------------------

    @classmethod
    def sqlite(cls, path: Path | str) -> RegistryStore:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            sqlite_wal(conn)
            conn.execute("PRAGMA busy_timeout=5000")
            return conn

        return cls(connect, SQLITE)

    @classmethod
    def postgres(
        cls, url: str, schema: str = "jamajama_registry", migrate_at_start: bool = False
    ) -> RegistryStore:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
            raise RegistryStoreError(f"invalid PostgreSQL schema name {schema!r}")
        import psycopg

        def connect() -> Any:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            return conn

        return cls(connect, POSTGRES, migrate_at_start)

    @classmethod
    def from_settings(
        cls,
        database: Path,
        database_url: str | None,
        schema: str,
        migrate_at_start: bool = False,
    ) -> RegistryStore:
        if database_url:
            return cls.postgres(database_url, schema, migrate_at_start)
        return cls.sqlite(database)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # plumbing ----------------------------------------------------------------------------------

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._begin()
            try:
                yield Cursor(cur, self._dialect)
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
                cur = self._connection().cursor()
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
                f"SELECT {_SUPERGRAPH_COLUMNS} FROM supergraph_versions "
                "ORDER BY version DESC LIMIT 1"
            )
        return _supergraph(row) if row else None

    def supergraph(self, version: int) -> SupergraphVersion | None:
        with self._tx() as cur:
            row = cur.one(
                f"SELECT {_SUPERGRAPH_COLUMNS} FROM supergraph_versions WHERE version = ?",
                (version,),
            )
        return _supergraph(row) if row else None

    def supergraph_versions(self) -> list[SupergraphVersion]:
        with self._tx() as cur:
            rows = cur.all(
                f"SELECT {_SUPERGRAPH_COLUMNS} FROM supergraph_versions ORDER BY version"
            )
        return [_supergraph(r) for r in rows]

    def subgraph_version(self, version_id: int) -> SubgraphVersion | None:
        with self._tx() as cur:
            row = cur.one(
                f"SELECT {_SUBGRAPH_COLUMNS} FROM subgraph_versions WHERE id = ?", (version_id,)
            )
        return _subgraph(row) if row else None

    def subgraph_history(self, name: str) -> list[SubgraphVersion]:
        with self._tx() as cur:
            rows = cur.all(
                f"SELECT {_SUBGRAPH_COLUMNS} FROM subgraph_versions WHERE name = ? ORDER BY id",
                (name,),
            )
        return [_subgraph(r) for r in rows]

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
        author: str | None = None,
        override_reason: str | None = None,
        affected: Iterable[dict[str, Any]] = (),
    ) -> SupergraphVersion:
        """Store a subgraph version and the supergraph composed with it, atomically.

        ``based_on`` is the supergraph version the composition started from (None: none yet);
        if another publish landed meanwhile, ``StaleBase`` is raised and nothing is stored.
        ``author`` defaults to ``by``; ``override_reason`` records an admin override;
        ``affected`` what the check found (kept with the version for ``registry log``).
        """
        at = time.time() if at is None else at
        author = author or by
        with self._tx() as cur:
            if based_on != -1:
                if self.dialect == "postgres":
                    cur.execute("LOCK TABLE supergraph_versions IN EXCLUSIVE MODE")
                latest = cur.one("SELECT MAX(version) FROM supergraph_versions")[0]
                if (int(latest) if latest is not None else None) != based_on:
                    raise StaleBase(
                        f"supergraph version {latest} landed after version {based_on} was checked"
                    )
            new_id = cur.one(
                "INSERT INTO subgraph_versions (name, url, sdl, published_by, published_at, "
                "author) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (name, url, sdl, by, at, author),
            )[0]
            previous = cur.one(
                "SELECT subgraph_versions FROM supergraph_versions ORDER BY version DESC LIMIT 1"
            )
            members: dict[str, int] = json.loads(previous[0]) if previous else {}
            members[name] = int(new_id)
            made = SupergraphVersion(
                0,
                supergraph_sdl,
                "",
                at,
                by,
                "publish",
                name,
                members,
                author,
                override_reason,
                tuple(affected),
            )
            return self._insert_supergraph(cur, made)

    def record_rollback(
        self, version: int, by: str, at: float | None = None, author: str | None = None
    ) -> SupergraphVersion:
        """A new version equal to ``version`` (its SDL and its subgraph versions)."""
        at = time.time() if at is None else at
        target = self.supergraph(version)
        if target is None:
            raise RegistryStoreError(f"there is no supergraph version {version}")
        members = dict(target.subgraph_versions)
        made = SupergraphVersion(0, target.sdl, "", at, by, "rollback", None, members, author or by)
        with self._tx() as cur:
            return self._insert_supergraph(cur, made)

    def _insert_supergraph(self, cur: Cursor, made: SupergraphVersion) -> SupergraphVersion:
        """Insert ``made`` as the next version (its ``version`` and ``etag`` are computed)."""
        last = cur.one("SELECT MAX(version) FROM supergraph_versions")
        version = int(last[0] or 0) + 1
        etag = etag_of(made.sdl)
        cur.execute(
            f"INSERT INTO supergraph_versions ({_SUPERGRAPH_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                version,
                made.sdl,
                etag,
                made.created_at,
                made.created_by,
                made.action,
                made.subgraph,
                json.dumps(made.subgraph_versions, sort_keys=True),
                made.author,
                made.override_reason,
                json.dumps(list(made.affected), sort_keys=True) if made.affected else None,
            ),
        )
        return dataclasses.replace(made, version=version, etag=etag)

    # usage --------------------------------------------------------------------------------------

    def record_usage(
        self,
        operation: str,
        operation_hash: str,
        coordinates: Iterable[str],
        count: int = 1,
        at: float | None = None,
        application: str = ANONYMOUS_APPLICATION,
    ) -> None:
        """Count one (or ``count``) executions of an operation by a consumer application and
        the fields it used."""
        at = time.time() if at is None else at
        with self._tx() as cur:
            for coordinate in sorted(set(coordinates)):
                cur.execute(
                    "INSERT INTO field_usage (coordinate, application, operation, operation_hash, "
                    "count, last_seen) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (coordinate, application, operation_hash) "
                    "DO UPDATE SET count = field_usage.count + excluded.count, "
                    "last_seen = excluded.last_seen, operation = excluded.operation",
                    (coordinate, application, operation, operation_hash, count, at),
                )

    def operations_using(self, coordinate: str, since: float) -> list[OperationUse]:
        """Each (application, operation) that used ``coordinate`` since ``since``, most first."""
        with self._tx() as cur:
            rows = cur.all(
                "SELECT operation, operation_hash, count, last_seen, application FROM field_usage "
                "WHERE coordinate = ? AND last_seen >= ? "
                "ORDER BY count DESC, application, operation",
                (coordinate, since),
            )
        return [OperationUse(r[0], r[1], int(r[2]), float(r[3]), r[4]) for r in rows]


_DIALECTS = {"sqlite": SQLITE, "postgres": POSTGRES}


def _subgraph(row: Any) -> SubgraphVersion:
    return SubgraphVersion(
        int(row[0]), row[1], row[2], row[3], row[4], float(row[5]), row[6] or row[4]
    )


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
        author=row[8] or row[4],
        override_reason=row[9],
        affected=tuple(json.loads(row[10])) if row[10] else (),
    )
