"""The PostgreSQL audit store against the real server: replicas extend one chain."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest

from gateway.audit.log import AuditLog
from gateway.audit.store import AuditUnavailableError, PostgresAuditStore
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def table() -> AsyncIterator[str]:
    name = f"jj_audit_{uuid.uuid4().hex[:12]}"
    yield name
    store = PostgresAuditStore(POSTGRES_URL, name)
    await store.drop()
    await store.aclose()


async def test_two_replicas_append_to_one_chain(table: str) -> None:
    replicas = [
        AuditLog(
            PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True), SUBJECT_KEY, SIGNING_KEY
        )
        for _ in range(2)
    ]
    try:
        await asyncio.gather(
            *(
                replicas[n % 2].append(event(n % 60, (replicas[0].subject_hash(f"{n:016d}"),)))
                for n in range(40)
            )
        )
        report = await replicas[1].verify()
        assert report.ok, report.problems
        assert report.records == 40
        assert [r.seq for r in await replicas[0].store.records()] == list(range(1, 41))
        assert len(await replicas[1].subject(f"{7:016d}")) == 1
    finally:
        for log in replicas:
            await log.aclose()


async def test_tampering_in_postgres_is_detected(table: str) -> None:
    log = AuditLog(
        PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True), SUBJECT_KEY, SIGNING_KEY
    )
    try:
        for n in range(1, 6):
            await log.append(event(n))
        async with await psycopg.AsyncConnection.connect(POSTGRES_URL, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                await conn.execute(f"DELETE FROM {table} WHERE seq = 2")
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                await conn.execute(f"TRUNCATE {table}")
            # someone able to drop the protection is still caught by verify
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            await conn.execute(
                f"UPDATE {table} SET body = replace(body, 'Op3', 'Op8') WHERE seq = 3"
            )
            await conn.execute(f"DELETE FROM {table} WHERE seq = 5")
            await conn.execute(f"DELETE FROM {table} WHERE seq = 1")
        problems = [p.message for p in (await log.verify()).problems]
        assert "record 1 is missing (removed)" in problems
        assert "record 3 was altered (hash mismatch)" in problems
        # the tail removal (record 5) needs an anchor outside the store: the head hash is reported
    finally:
        await log.aclose()


async def test_unreachable_postgres_is_audit_unavailable() -> None:
    store = PostgresAuditStore("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(AuditUnavailableError):
        await store.append(event(1), None)


@pytest.mark.parametrize("signing_key", [SIGNING_KEY, None])
async def test_records_are_stored_exactly_as_chained(table: str, signing_key: bytes | None) -> None:
    """The batch insert sends its arrays in binary: bodies with quotes, backslashes, braces,
    commas and non-ASCII text, unsigned records (NULL signatures) and a hundred subjects come
    back byte for byte, and the chain verifies."""
    log = AuditLog(
        PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True), SUBJECT_KEY, signing_key
    )
    try:
        odd = 'a "quoted" \\ back{slash}, comma; NULL; ✓ ñ \t tab'
        events = [
            dataclasses.replace(
                event(n, tuple(log.subject_hash(f"1871{n:04d}{m:08d}") for m in range(100))),
                user=odd,
                operation_name=None if n % 2 else odd,
            )
            for n in range(3)
        ]
        appended = [await log.append(e) for e in events]
        stored = await log.store.records()
        assert [(r.seq, r.prev_hash, r.hash, r.body, r.signature) for r in stored] == [
            (r.seq, r.prev_hash, r.hash, r.body, r.signature) for r in appended
        ]
        assert [r.event for r in stored] == events
        assert [sorted(r.indexed_subjects or ()) for r in stored] == [
            sorted(e.subjects) for e in events
        ]
        assert (signing_key is None) == all(r.signature is None for r in stored)
        report = await log.verify()
        assert report.ok and report.records == 3, report.problems
    finally:
        await log.aclose()
