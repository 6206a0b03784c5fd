"""Where access requests live: the applications store's database (migration step 3 of
``gateway.migrations.applications``), embedded SQLite or the cluster's PostgreSQL.

The store also keeps, per application and per (purpose, OPD), the *baseline* the configuration
gave before any request was approved, so that revoking or expiring a grant returns exactly to it.
Calls are synchronous driver calls run in a worker thread under one lock (a handful of decisions
a day; the gateway's hot path never reads this store).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.access_requests.model import AccessRequest, Part, Status
from gateway.auth.config import ApplicationsSection
from gateway.migrations import applications as migrations
from gateway.migrations.runner import (
    POSTGRES,
    SQLITE,
    Cursor,
    Dialect,
    connect_postgres,
    prepare,
    sqlite_wal,
)

T = TypeVar("T")


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class AccessRequestStore:
    """Requests, parts and baselines in ``{table}_requests``, ``{table}_request_parts``,
    ``{table}_grant_baselines``."""

    def __init__(self, conn: Any, dialect: Dialect, table: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._t = table
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, section: ApplicationsSection) -> AccessRequestStore:
        """The store in the configured applications database (schema checked like the registry)."""
        plan = migrations.plan(section.table)
        conn: Any
        if section.backend == "postgres":
            if not section.postgres_url:
                raise ValueError("auth.applications.postgres_url is required for backend postgres")
            conn = connect_postgres(section.postgres_url)
            dialect = POSTGRES
        else:
            path = section.sqlite_path
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            if str(path) != ":memory:":
                sqlite_wal(conn)
            dialect = SQLITE
        try:
            prepare(conn, dialect, plan, section.migrate_at_start)
        except BaseException:
            conn.close()
            raise
        return cls(conn, dialect, section.table)

    async def _run(self, work: Callable[[Cursor], T]) -> T:
        def call() -> T:
            raw = self._conn.cursor()
            try:
                return work(Cursor(raw, self._dialect))
            finally:
                raw.close()

        async with self._lock:
            return await asyncio.to_thread(call)

    async def add(self, request: AccessRequest) -> None:
        def work(cur: Cursor) -> None:
            cur.execute("BEGIN")
            try:
                cur.execute(
                    f"INSERT INTO {self._t}_requests (id, application, purposes, requested_by, "
                    "note, created_at, valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        request.id,
                        request.application,
                        json.dumps(sorted(request.purposes)),
                        request.requested_by,
                        request.note,
                        _iso(request.created_at),
                        _iso(request.valid_until),
                    ),
                )
                for part in request.parts:
                    cur.execute(
                        f"INSERT INTO {self._t}_request_parts (request_id, owner, scopes, status, "
                        "reason, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            request.id,
                            part.owner,
                            json.dumps(sorted(part.scopes)),
                            part.status,
                            part.reason,
                            part.decided_by,
                            _iso(part.decided_at),
                        ),
                    )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

        await self._run(work)

    async def decide(
        self,
        request_id: str,
        owner: str,
        status: Status,
        reason: str,
        decided_by: str,
        at: datetime,
        *,
        only_from: tuple[Status, ...],
    ) -> bool:
        """Set one part's decision if its status is one of ``only_from`` (False otherwise)."""
        marks = ", ".join("?" for _ in only_from)

        def work(cur: Cursor) -> bool:
            cur.execute(
                f"UPDATE {self._t}_request_parts SET status = ?, reason = ?, decided_by = ?, "
                f"decided_at = ? WHERE request_id = ? AND owner = ? AND status IN ({marks})",
                (status, reason, decided_by, _iso(at), request_id, owner, *only_from),
            )
            return bool(cur.raw.rowcount)

        return await self._run(work)

    async def get(self, request_id: str) -> AccessRequest | None:
        found = await self.list(request_id=request_id)
        return found[0] if found else None

    async def list(
        self, *, application: str | None = None, request_id: str | None = None
    ) -> list[AccessRequest]:
        where, params = [], []
        if application is not None:
            where.append("application = ?")
            params.append(application)
        if request_id is not None:
            where.append("id = ?")
            params.append(request_id)
        clause = f" WHERE {' AND '.join(where)}" if where else ""

        def work(cur: Cursor) -> list[AccessRequest]:
            rows = cur.all(
                f"SELECT id, application, purposes, requested_by, note, created_at, valid_until "
                f"FROM {self._t}_requests{clause} ORDER BY created_at, id",
                tuple(params),
            )
            parts: dict[str, list[Part]] = {}
            for r in cur.all(
                f"SELECT request_id, owner, scopes, status, reason, decided_by, decided_at "
                f"FROM {self._t}_request_parts ORDER BY request_id, owner"
            ):
                parts.setdefault(r[0], []).append(
                    Part(r[1], frozenset(json.loads(r[2])), r[3], r[4], r[5], _time(r[6]))
                )
            return [
                AccessRequest(
                    id=r[0],
                    application=r[1],
                    purposes=frozenset(json.loads(r[2])),
                    requested_by=r[3],
                    note=r[4],
                    created_at=_time(r[5]) or datetime.min,
                    valid_until=_time(r[6]),
                    parts=tuple(parts.get(r[0], ())),
                )
                for r in rows
            ]

        return await self._run(work)

    async def baseline(self, kind: str, key: str, current: Any) -> Any:
        """The recorded baseline of ``(kind, key)``; records ``current`` the first time."""

        def work(cur: Cursor) -> Any:
            row = cur.one(
                f"SELECT value FROM {self._t}_grant_baselines WHERE kind = ? AND key = ?",
                (kind, key),
            )
            if row is not None:
                return json.loads(row[0])
            cur.execute(
                f"INSERT INTO {self._t}_grant_baselines (kind, key, value) VALUES (?, ?, ?)",
                (kind, key, json.dumps(current)),
            )
            return current

        return await self._run(work)

    async def drop(self) -> None:
        """Drop the tables (tests on a shared PostgreSQL)."""

        def work(cur: Cursor) -> None:
            for suffix in ("requests", "request_parts", "grant_baselines"):
                cur.execute(f"DROP TABLE IF EXISTS {self._t}_{suffix}")

        await self._run(work)

    async def aclose(self) -> None:
        self._conn.close()
