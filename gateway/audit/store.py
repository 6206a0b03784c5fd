"""Append-only stores for the audit chain: embedded SQLite (default) and PostgreSQL (replicas).

``append`` returns the record once it is committed, durably (SQLite: WAL with
``synchronous=FULL``; PostgreSQL: a committed transaction). Appends waiting together are committed
together (group commit, gateway/audit/group.py): one transaction takes the chain head and writes
the next records, serialised across writers and processes (SQLite ``BEGIN IMMEDIATE``;
PostgreSQL a transaction-scoped advisory lock), so several workers and replicas extend one
chain. Subject hashes go to an index table for ``subject`` lookups; ``verify`` compares that
index with the hashed bodies, so removing an index row is detected too.
``checkpoint`` records a signed checkpoint of the head in ``<table>_checkpoints``, one writer at a
time (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an advisory lock of its own).

The tables refuse ``UPDATE`` and ``DELETE`` (PostgreSQL also ``TRUNCATE``) with triggers, so a
mistaken statement cannot rewrite history; whoever drops the triggers is still caught by
``verify``. Tables and triggers come from ``gateway.migrations.audit``: the SQLite store migrates
when it opens; the PostgreSQL store checks the schema once before its first connection and
refuses an older one unless ``migrate_at_start``.

A stalled database must fail fast, not hang requests: PostgreSQL connections come from a
bounded pool (psycopg_pool) and carry ``lock_timeout`` and ``statement_timeout``; SQLite waits
at most its busy timeout. Either way the caller gets ``AuditUnavailableError``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from gateway.audit.checkpoints import Checkpoint
from gateway.audit.group import GroupCommit, Item
from gateway.audit.records import AuditEvent, AuditRecord, chain_body
from gateway.errors import GatewayError
from gateway.migrations import audit as migrations
from gateway.migrations.runner import (
    SQLITE,
    VERSION_TABLE,
    migrate,
    prepare_postgres,
    sqlite_wal,
)

logger = logging.getLogger("jamajama.audit")


class AuditUnavailableError(GatewayError):
    """The audit store cannot take a record now; personal data must not be released."""

    code = "AUDIT_UNAVAILABLE"


#: builds the checkpoint of a head (count, hash), called under the checkpoint writer's lock
MakeCheckpoint = Callable[[int, str], Checkpoint]


class AuditStore(Protocol):
    async def append(self, event: AuditEvent, signing_key: bytes | None) -> AuditRecord: ...

    async def records(self) -> list[AuditRecord]: ...

    async def by_subject(self, subject: str) -> list[AuditRecord]: ...

    async def checkpoint(self, make: MakeCheckpoint) -> Checkpoint | None: ...

    async def checkpoints(self) -> list[Checkpoint]: ...

    async def aclose(self) -> None: ...


_CHECKPOINT_COLUMNS = "count, head, time, public_key, signature"


def _checkpoint(row: tuple[Any, ...], chain_name: str) -> Checkpoint:
    count, head, time, public_key, signature = row
    return Checkpoint(chain_name, int(count), head, time, public_key, signature)


def _chain_batch(
    bodies: Sequence[tuple[str, bytes | None]], head: tuple[int, str] | None
) -> list[AuditRecord]:
    """The records of ``bodies`` following ``head``, in order (what single appends would make).
    The bodies are serialised before the writer lock is taken; only hashing happens under it."""
    records: list[AuditRecord] = []
    for body, signing_key in bodies:
        record = chain_body(body, head, signing_key)
        records.append(record)
        head = (record.seq, record.hash)
    return records


def _bodies(items: Sequence[Item]) -> list[tuple[str, bytes | None]]:
    return [(event.body(), key) for event, key in items]


def _rows(records: list[AuditRecord]) -> list[tuple[int, str, str, str, str | None]]:
    return [(r.seq, r.prev_hash, r.hash, r.body, r.signature) for r in records]


def _subject_rows(items: Sequence[Item], records: list[AuditRecord]) -> list[tuple[str, int]]:
    pairs = zip(items, records, strict=True)
    return [(s, r.seq) for (event, _), r in pairs for s in event.indexed()]


def _record(row: tuple[Any, ...], subjects: tuple[str, ...] | None = None) -> AuditRecord:
    seq, prev_hash, digest, body, signature = row
    return AuditRecord(int(seq), prev_hash, digest, body, signature, subjects)


class SqliteAuditStore:
    """One SQLite file; writes happen in a worker thread so the event loop never waits on fsync."""

    def __init__(
        self, path: Path | str, table: str = "jamajama_audit", *, busy_timeout: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._table = table
        # held by the worker thread, not the coroutine: a caller that stops waiting (timeout)
        # cannot let another transaction start on the connection while its own still runs
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=busy_timeout
        )
        sqlite_wal(self._conn)
        self._conn.execute("PRAGMA synchronous=FULL")
        self._group = GroupCommit(self._append_batch, AuditUnavailableError)
        try:  # embedded: migrate at start (BEGIN IMMEDIATE: one process at a time)
            migrate(self._conn, SQLITE, migrations.plan(table))
        except BaseException:
            self._conn.close()
            raise

    async def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        def locked() -> Any:
            with self._lock:
                return work(self._conn)

        try:
            return await asyncio.to_thread(locked)
        except sqlite3.Error as error:
            raise AuditUnavailableError(f"the audit store failed: {error}") from error

    async def append(self, event: AuditEvent, signing_key: bytes | None) -> AuditRecord:
        """The record of ``event``, committed (group commit: gateway/audit/group.py)."""
        return await self._group.submit(event, signing_key)

    async def _append_batch(self, items: Sequence[Item]) -> list[AuditRecord]:
        table = self._table

        def work(conn: sqlite3.Connection) -> list[AuditRecord]:
            bodies = _bodies(items)
            conn.execute("BEGIN IMMEDIATE")
            try:
                head = conn.execute(
                    f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                records = _chain_batch(bodies, (head[0], head[1]) if head else None)
                conn.executemany(
                    f"INSERT INTO {table} (seq, prev_hash, hash, body, signature) "
                    "VALUES (?, ?, ?, ?, ?)",
                    _rows(records),
                )
                conn.executemany(
                    f"INSERT INTO {table}_subjects (subject, seq) VALUES (?, ?)",
                    _subject_rows(items, records),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return records

        result: list[AuditRecord] = await self._run(work)
        return result

    async def records(self) -> list[AuditRecord]:
        table = self._table

        def work(conn: sqlite3.Connection) -> list[AuditRecord]:
            index: dict[int, list[str]] = {}
            for subject, seq in conn.execute(f"SELECT subject, seq FROM {table}_subjects"):
                index.setdefault(seq, []).append(subject)
            rows = conn.execute(
                f"SELECT seq, prev_hash, hash, body, signature FROM {table} ORDER BY rowid"
            ).fetchall()
            return [_record(r, tuple(index.get(r[0], ()))) for r in rows]

        result: list[AuditRecord] = await self._run(work)
        return result

    async def by_subject(self, subject: str) -> list[AuditRecord]:
        table = self._table

        def work(conn: sqlite3.Connection) -> list[AuditRecord]:
            rows = conn.execute(
                f"SELECT r.seq, r.prev_hash, r.hash, r.body, r.signature FROM {table} r "
                f"WHERE r.seq IN (SELECT seq FROM {table}_subjects WHERE subject = ?) "
                "ORDER BY r.seq",
                (subject,),
            ).fetchall()
            return [_record(r) for r in rows]

        result: list[AuditRecord] = await self._run(work)
        return result

    async def checkpoint(self, make: MakeCheckpoint) -> Checkpoint | None:
        """Record a checkpoint of the head if it moved since the last one (``BEGIN IMMEDIATE``:
        one writer at a time); None when there is nothing new."""
        table = self._table

        def work(conn: sqlite3.Connection) -> Checkpoint | None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                head = conn.execute(
                    f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                last = conn.execute(f"SELECT MAX(count) FROM {table}_checkpoints").fetchone()
                if head is None or (last[0] is not None and int(last[0]) >= int(head[0])):
                    conn.execute("ROLLBACK")
                    return None
                made = make(int(head[0]), head[1])
                conn.execute(
                    f"INSERT INTO {table}_checkpoints ({_CHECKPOINT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (made.count, made.head, made.time, made.public_key, made.signature),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return made

        result: Checkpoint | None = await self._run(work)
        return result

    async def checkpoints(self) -> list[Checkpoint]:
        table = self._table

        def work(conn: sqlite3.Connection) -> list[Checkpoint]:
            rows = conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM {table}_checkpoints ORDER BY count"
            ).fetchall()
            return [_checkpoint(r, table) for r in rows]

        result: list[Checkpoint] = await self._run(work)
        return result

    async def aclose(self) -> None:
        await self._group.drain()

        def close() -> None:
            with self._lock:
                self._conn.close()

        await asyncio.to_thread(close)


class PostgresAuditStore:
    """PostgreSQL shared by gateway replicas (psycopg 3 async, a psycopg_pool of connections).

    The pool is opened on first use, in the running event loop. Every connection has
    ``lock_timeout`` and ``statement_timeout``, and waiting for a free connection is bounded by
    ``connect_timeout``: a locked table or a stalled server becomes ``AuditUnavailableError``
    within seconds, and the pool replaces broken connections by itself (no restart).
    """

    def __init__(
        self,
        url: str,
        table: str = "jamajama_audit",
        migrate_at_start: bool = False,
        *,
        pool_size: int = 4,
        lock_timeout: float = 1.0,
        statement_timeout: float = 2.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._url = url
        self._table = table
        self._lock_id = zlib.crc32(table.encode())
        self._checkpoint_lock_id = zlib.crc32(f"{table}_checkpoints".encode())
        self._pool: Any = None
        self._pool_size = pool_size
        self._timeouts_ms = (int(lock_timeout * 1000), int(statement_timeout * 1000))
        self._connect_timeout = connect_timeout
        self._migrate_at_start = migrate_at_start
        self._schema_ready = False
        self._group = GroupCommit(self._append_batch, AuditUnavailableError)

    def check_schema(self) -> bool:
        """At start (synchronous): migrate if configured, else refuse an older schema with
        ``SchemaOutdatedError``. False when the database is unreachable now: the check is then
        made before the first connection, and records are refused until it passes."""
        import psycopg

        try:
            prepare_postgres(self._url, migrations.plan(self._table), self._migrate_at_start)
        except psycopg.OperationalError as error:
            logger.warning("the audit database is unreachable at start: %s", error)
            return False
        self._schema_ready = True
        return True

    async def _ready_pool(self) -> Any:
        from psycopg_pool import AsyncConnectionPool

        if not self._schema_ready:
            try:
                ready = await asyncio.to_thread(self.check_schema)
            except GatewayError as error:  # outdated: no records (personal data withheld)
                raise AuditUnavailableError(error.message) from error
            if not ready:
                raise AuditUnavailableError("the audit database is unavailable")
        if self._pool is None:
            self._pool = AsyncConnectionPool(
                self._url,
                min_size=1,
                max_size=self._pool_size,
                open=False,
                timeout=self._connect_timeout,
                kwargs={"autocommit": True, "connect_timeout": max(1, int(self._connect_timeout))},
                configure=self._configure,
                name=f"audit-{self._table}",
            )
            await self._pool.open(wait=False)
        return self._pool

    async def _configure(self, conn: Any) -> None:
        """Each new pooled connection: bounded lock and statement waits (the URL's own options,
        e.g. a ``search_path``, are kept)."""
        lock_ms, statement_ms = self._timeouts_ms
        await conn.execute(f"SET lock_timeout = {lock_ms}")
        await conn.execute(f"SET statement_timeout = {statement_ms}")

    async def _run(self, work: Callable[[Any], Any]) -> Any:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            pool = await self._ready_pool()
            async with pool.connection() as conn:
                return await work(conn)
        except PoolTimeout as error:
            raise AuditUnavailableError("no audit database connection available") from error
        except psycopg.Error as error:
            raise AuditUnavailableError("the audit database is unavailable") from error

    async def append(self, event: AuditEvent, signing_key: bytes | None) -> AuditRecord:
        """The record of ``event``, committed (group commit: gateway/audit/group.py)."""
        return await self._group.submit(event, signing_key)

    async def _append_batch(self, items: Sequence[Item]) -> list[AuditRecord]:
        table = self._table

        bodies = _bodies(items)

        async def work(conn: Any) -> list[AuditRecord]:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_id,))
                # a statement of its own, after the lock: its snapshot sees the last commit
                cursor = await conn.execute(
                    f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1"
                )
                head = await cursor.fetchone()
                records = _chain_batch(bodies, (int(head[0]), head[1]) if head else None)
                # one statement per table whatever the batch's size (arrays, unnested), the
                # arrays sent in binary (%b): the text format escapes every element of them
                # with a regular expression in Python, ~40 % of an append's CPU for a record of
                # a hundred subjects
                await conn.execute(
                    f"INSERT INTO {table} (seq, prev_hash, hash, body, signature) "
                    "SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], "
                    "%b::text[])",
                    [list(column) for column in zip(*_rows(records), strict=True)],
                )
                subjects = _subject_rows(items, records)
                if subjects:
                    await conn.execute(
                        f"INSERT INTO {table}_subjects (subject, seq) "
                        "SELECT * FROM unnest(%b::text[], %b::bigint[])",
                        [[s for s, _ in subjects], [seq for _, seq in subjects]],
                    )
            return records

        result: list[AuditRecord] = await self._run(work)
        return result

    async def records(self) -> list[AuditRecord]:
        table = self._table

        async def work(conn: Any) -> list[AuditRecord]:
            index: dict[int, list[str]] = {}
            cursor = await conn.execute(f"SELECT subject, seq FROM {table}_subjects")
            for subject, seq in await cursor.fetchall():
                index.setdefault(int(seq), []).append(subject)
            cursor = await conn.execute(
                f"SELECT seq, prev_hash, hash, body, signature FROM {table} ORDER BY seq"
            )
            rows = await cursor.fetchall()
            return [_record(r, tuple(index.get(int(r[0]), ()))) for r in rows]

        result: list[AuditRecord] = await self._run(work)
        return result

    async def by_subject(self, subject: str) -> list[AuditRecord]:
        table = self._table

        async def work(conn: Any) -> list[AuditRecord]:
            cursor = await conn.execute(
                f"SELECT seq, prev_hash, hash, body, signature FROM {table} "
                f"WHERE seq IN (SELECT seq FROM {table}_subjects WHERE subject = %s) ORDER BY seq",
                (subject,),
            )
            return [_record(r) for r in await cursor.fetchall()]

        result: list[AuditRecord] = await self._run(work)
        return result

    async def checkpoint(self, make: MakeCheckpoint) -> Checkpoint | None:
        """Record a checkpoint of the head if it moved since the last one. One writer at a time
        across replicas: a transaction-scoped advisory lock, awaited up to ``lock_timeout``, then
        skipped (None). Skipping at once would lose a final head: the replica holding the lock
        may have read the head before this replica's last record committed; after the wait the
        head is read again."""
        table = self._table

        async def work(conn: Any) -> Checkpoint | None:
            import psycopg

            try:
                return await locked(conn)
            except psycopg.errors.LockNotAvailable:
                return None  # another writer held it past lock_timeout: it anchors, not this one

        async def locked(conn: Any) -> Checkpoint | None:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._checkpoint_lock_id,))
                cursor = await conn.execute(
                    f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1"
                )
                head = await cursor.fetchone()
                cursor = await conn.execute(f"SELECT MAX(count) FROM {table}_checkpoints")
                last = await cursor.fetchone()
                if head is None or (last[0] is not None and int(last[0]) >= int(head[0])):
                    return None
                made = make(int(head[0]), head[1])
                await conn.execute(
                    f"INSERT INTO {table}_checkpoints ({_CHECKPOINT_COLUMNS}) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (made.count, made.head, made.time, made.public_key, made.signature),
                )
            return made

        result: Checkpoint | None = await self._run(work)
        return result

    async def checkpoints(self) -> list[Checkpoint]:
        table = self._table

        async def work(conn: Any) -> list[Checkpoint]:
            cursor = await conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM {table}_checkpoints ORDER BY count"
            )
            return [_checkpoint(r, table) for r in await cursor.fetchall()]

        result: list[Checkpoint] = await self._run(work)
        return result

    async def drop(self) -> None:
        """Drop the tables and forget their schema version (tests)."""
        import psycopg

        table = self._table
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            await conn.execute(f"DROP TABLE IF EXISTS {table}")
            await conn.execute(f"DROP TABLE IF EXISTS {table}_subjects")
            await conn.execute(f"DROP TABLE IF EXISTS {table}_checkpoints")
            await conn.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
            cursor = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,))
            found = await cursor.fetchone()
            if found and found[0]:
                key = migrations.plan(table).key
                await conn.execute(f"DELETE FROM {VERSION_TABLE} WHERE store = %s", (key,))

    async def aclose(self) -> None:
        await self._group.drain()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
