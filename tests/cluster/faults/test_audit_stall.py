"""A stalled audit database withholds personal data within a bound, and recovers at once.

Issue 14, finding 2: with the audit table locked, personal requests hung past 6 s with no coded
error and stayed blocked after the lock was released, behind an unbounded backlog of background
writes. Here another connection locks the table (PostgreSQL, a schema of this test's own).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from gateway.audit.store import PostgresAuditStore
from gateway.auth.principal import Principal
from gateway.engine import GraphQLRequest
from tests.auth.harness import OpdWorld, PrincipalFactory, Secured, SecuredFactory

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

SERVER = "postgresql://postgres@127.0.0.1:5432/test"
TABLE = "jamajama_audit"
PERSONAL = "query($n: String!) { penduduk(nik: $n) { nama tanggalLahir } }"
AGGREGATE = "{ kabupatenKota { nama jumlahPenduduk } }"
BOUND = 1.0  # the write timeout of this test's audit log (seconds)


@pytest.fixture
async def schema_url() -> AsyncIterator[str]:
    schema = f"jj_faults_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(SERVER, autocommit=True) as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{SERVER}?options=-csearch_path%3D{schema}"
    finally:
        async with await psycopg.AsyncConnection.connect(SERVER, autocommit=True) as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def _ask(
    gateway: Secured, query: str, caller: Principal, nik: str
) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    result = await gateway.gateway.process(
        GraphQLRequest(
            query, {"n": nik} if "$n" in query else None, principal=caller, request_id="t"
        )
    )
    return result.response, time.monotonic() - started


async def test_a_locked_audit_table_answers_audit_unavailable_within_the_bound(
    schema_url: str, secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    store = PostgresAuditStore(schema_url, TABLE, migrate_at_start=True, lock_timeout=5.0)
    gateway = await secured(audit_store=store)
    gateway.audit.write_timeout = BOUND
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    warm, _ = await _ask(gateway, PERSONAL, caller, nik)
    assert "errors" not in warm, warm

    locker = await psycopg.AsyncConnection.connect(schema_url)
    try:
        await locker.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        # a backlog of background writes and personal requests, all while the table is locked
        aggregates = [_ask(gateway, AGGREGATE, caller, nik) for _ in range(200)]
        personal = [_ask(gateway, PERSONAL, caller, nik) for _ in range(8)]
        outcomes = await asyncio.wait_for(asyncio.gather(*aggregates, *personal), 30)
        for response, seconds in outcomes[200:]:
            assert response["data"] is None
            assert response["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
            assert nik not in str(response)
            assert seconds < BOUND + 1.0, f"a personal request took {seconds:.2f} s"
        for response, _ in outcomes[:200]:  # aggregates are served meanwhile
            assert "errors" not in response
        assert gateway.audit.queue_depth > 0  # their records wait in the bounded queue
    finally:
        await locker.rollback()  # releases the lock
        await locker.close()

    # recovery: the very next personal request is recorded and answered, not queued behind
    # the background backlog
    response, seconds = await asyncio.wait_for(_ask(gateway, PERSONAL, caller, nik), 10)
    assert "errors" not in response, response
    assert response["data"]["penduduk"]["nama"]
    assert seconds < 2 * BOUND, f"the first request after the release took {seconds:.2f} s"
    await gateway.access.drain()
    report = await gateway.audit.verify()
    assert report.ok, report.problems


async def test_the_background_queue_is_bounded_and_counts_drops(
    schema_url: str, secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    store = PostgresAuditStore(schema_url, TABLE, migrate_at_start=True, lock_timeout=0.5)
    gateway = await secured(audit_store=store)
    gateway.audit.write_timeout = BOUND
    gateway.audit._queue_size = 10
    depths: list[int] = []
    gateway.audit.on_queue_depth = depths.append
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    locker = await psycopg.AsyncConnection.connect(schema_url)
    try:
        await _ask(gateway, AGGREGATE, caller, nik)  # creates the tables
        await gateway.access.drain()
        await locker.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        await asyncio.gather(*(_ask(gateway, AGGREGATE, caller, nik) for _ in range(30)))
        assert max(depths) <= 10
        assert gateway.audit.dropped["queue_full"] >= 19
    finally:
        await locker.rollback()
        await locker.close()
    await asyncio.wait_for(gateway.access.drain(), 20)
    assert gateway.audit.queue_depth == 0
