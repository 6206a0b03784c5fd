"""Group commit: concurrent appends share a transaction, and nothing about the chain changes.

Each waiting request gets its own record only once the batch holding it is committed; a failed
commit fails every request of the batch (``AUDIT_UNAVAILABLE``) and stores none of their records;
several processes (gateway workers) extend one chain; a writer killed mid-stream loses no record it
had confirmed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.audit.group import GroupCommit, Item
from gateway.audit.log import AuditLog
from gateway.audit.records import AuditRecord, chain
from gateway.audit.store import AuditUnavailableError, SqliteAuditStore
from gateway.engine import GraphQLRequest
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event
from tests.audit.test_checkpoints import Backend
from tests.auth.harness import OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def _log(backend: Backend) -> AuditLog:
    return AuditLog(backend.open(), SUBJECT_KEY, SIGNING_KEY, write_timeout=30.0)


def _target(backend: Backend) -> str:
    store = backend.open()
    return str(store.path) if isinstance(store, SqliteAuditStore) else backend.table


async def test_concurrent_appends_share_commits_and_keep_their_order(backend: Backend) -> None:
    log = _log(backend)
    try:
        events = [event(n % 60, (log.subject_hash(f"1871{n:012d}"),)) for n in range(200)]
        records = await asyncio.gather(*(log.append(e) for e in events))
        # each caller got the record of its own event, in the order the appends were made
        assert [r.event for r in records] == events
        assert [r.seq for r in records] == list(range(1, 201))
        stored = await log.store.records()
        assert [(r.seq, r.hash) for r in stored] == [(r.seq, r.hash) for r in records]
        group = log.store._group  # type: ignore[attr-defined]
        assert group.records == 200
        assert group.batches < 200  # many records per transaction
        report = await log.verify()
        assert report.ok, report.problems
        assert report.records == 200
        assert len(await log.subject("1871000000000007")) == 1
    finally:
        await log.aclose()


async def test_a_batch_chains_exactly_like_single_appends(backend: Backend) -> None:
    log = _log(backend)
    try:
        events = [event(n, (log.subject_hash(f"{n}"),)) for n in range(20)]
        records = await asyncio.gather(*(log.append(e) for e in events))
        expected: list[AuditRecord] = []
        for e in events:
            expected.append(
                chain(e, (expected[-1].seq, expected[-1].hash) if expected else None, SIGNING_KEY)
            )
        assert records == expected
    finally:
        await log.aclose()


def _refuse_commits(backend: Backend) -> None:
    """Make the store refuse any batch holding a record whose body contains ``boom``: PostgreSQL
    at COMMIT (a deferred constraint trigger), SQLite at the insert."""
    table = backend.table
    if backend.name == "postgres":
        backend.sql(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.body LIKE '%boom%' THEN RAISE EXCEPTION 'commit refused'; END IF; "
            "RETURN NULL; END $$;"
            f"CREATE CONSTRAINT TRIGGER {table}_refuse AFTER INSERT ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {table}_refuse();"
        )
    else:
        backend.sql(
            f"CREATE TRIGGER {table}_refuse BEFORE INSERT ON {table} "
            "WHEN NEW.body LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'commit refused'); END;"
        )


async def test_a_failed_commit_fails_every_waiting_request_and_stores_none(
    backend: Backend,
) -> None:
    log = _log(backend)
    try:
        await log.append(event(1))  # the tables exist
        _refuse_commits(backend)
        events = [event(n) for n in range(2, 12)]
        events[4] = dataclasses.replace(events[4], operation_name="boom")
        results = await asyncio.gather(*(log.append(e) for e in events), return_exceptions=True)
        assert all(isinstance(r, AuditUnavailableError) for r in results), results
        assert {r.code for r in results if isinstance(r, AuditUnavailableError)} == {
            "AUDIT_UNAVAILABLE"
        }
        assert [r.seq for r in await log.store.records()] == [1]  # nothing of the batch
        # the store works again for the next requests; the chain has no hole
        after = await asyncio.gather(*(log.append(event(n)) for n in range(20, 25)))
        assert [r.seq for r in after] == [2, 3, 4, 5, 6]
        assert (await log.verify()).ok
    finally:
        await log.aclose()
        if backend.name == "postgres":
            backend.sql(f"DROP FUNCTION IF EXISTS {backend.table}_refuse() CASCADE;")


async def test_a_failed_commit_releases_no_personal_data(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld, tmp_path: Path
) -> None:
    path = tmp_path / "refusing.sqlite3"
    gateway = await secured(audit_store=SqliteAuditStore(path))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON jamajama_audit "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
    )
    conn.close()
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    niks = opd_world.niks(5)
    results = await asyncio.gather(
        *(
            gateway.gateway.process(
                GraphQLRequest(
                    "query($n: String!) { penduduk(nik: $n) { nama tanggalLahir } }",
                    {"n": nik},
                    principal=caller,
                )
            )
            for nik in niks
        )
    )
    for nik, result in zip(niks, results, strict=True):
        assert result.response["data"] is None
        assert result.response["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
        assert nik not in str(result.response)


def _writer(backend: Backend, count: int, appenders: int) -> subprocess.Popen[str]:
    command = (sys.executable, "-m", "tests.audit.writer", backend.name, _target(backend))
    return subprocess.Popen(
        [*command, str(count), str(appenders)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_two_worker_processes_extend_one_chain(backend: Backend) -> None:
    log = _log(backend)
    try:
        await log.append(event(0))  # migrated before the workers start
        writers = [_writer(backend, 150, 16) for _ in range(2)]
        confirmed: list[tuple[int, str]] = []
        for writer in writers:
            out, _ = await asyncio.to_thread(writer.communicate, timeout=120)
            assert writer.returncode == 0
            confirmed += [(int(s), h) for s, h in (line.split() for line in out.splitlines())]
        assert len(confirmed) == 300
        stored = await log.store.records()
        assert [r.seq for r in stored] == list(range(1, 302))  # no fork, no gap
        assert set(confirmed) <= {(r.seq, r.hash) for r in stored}
        report = await log.verify()
        assert report.ok, report.problems
    finally:
        await log.aclose()


async def test_a_killed_writer_loses_no_confirmed_record(backend: Backend) -> None:
    log = _log(backend)
    try:
        await log.append(event(0))
        writer = _writer(backend, 0, 32)  # appends until killed
        assert writer.stdout is not None
        confirmed: list[tuple[int, str]] = []
        while len(confirmed) < 300:
            line = await asyncio.to_thread(writer.stdout.readline)
            assert line, "the writer stopped"
            seq, digest = line.split()
            confirmed.append((int(seq), digest))
        os.kill(writer.pid, signal.SIGKILL)  # mid-batch, most likely: no clean shutdown
        await asyncio.to_thread(writer.wait)
        writer.stdout.close()
        stored = {(r.seq, r.hash) for r in await log.store.records()}
        assert set(confirmed) <= stored  # every record a request was released on is there
        report = await log.verify()
        assert report.ok, report.problems
        # and the chain goes on after the crash
        record = await log.append(event(1))
        assert record.seq == report.records + 1
    finally:
        await log.aclose()


# --- the writer itself, with a fake transaction --------------------------------------------------


async def test_a_caller_that_stopped_waiting_is_not_written() -> None:
    written: list[Sequence[Item]] = []
    gate = asyncio.Event()

    async def write(items: Sequence[Item]) -> list[AuditRecord]:
        written.append(items)
        await gate.wait()
        return [chain(e, None, None) for e, _ in items]

    group = GroupCommit(write, AuditUnavailableError)
    first = asyncio.create_task(group.submit(event(1), None))
    await asyncio.sleep(0)  # the first batch [event 1] is in its transaction
    await asyncio.sleep(0)
    late = asyncio.create_task(group.submit(event(2), None))
    kept = asyncio.create_task(group.submit(event(3), None))
    await asyncio.sleep(0)
    late.cancel()  # e.g. its write timeout
    gate.set()
    await first
    await kept
    assert [[e.operation_name for e, _ in items] for items in written] == [["Op1"], ["Op3"]]


async def test_an_unexpected_error_fails_the_batch_with_a_stable_error_and_the_writer_goes_on() -> (
    None
):
    calls = 0

    async def write(items: Sequence[Item]) -> list[AuditRecord]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug")
        return [chain(e, None, None) for e, _ in items]

    group = GroupCommit(write, AuditUnavailableError)
    results = await asyncio.gather(
        *(group.submit(event(n), None) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, AuditUnavailableError) for r in results)
    record = await group.submit(event(4), None)
    assert record.event == event(4)
