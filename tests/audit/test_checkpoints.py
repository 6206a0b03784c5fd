"""Signed checkpoints of the chain head, against SQLite and the real PostgreSQL.

Someone with write access to the store (who can drop the append-only triggers) deletes the
newest records, or rewrites the chain from a middle record; without the signing key they cannot
forge a checkpoint, and the checkpoints outside the store (the append-only file, a witness) name
what is missing or different.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.audit import cli
from gateway.audit.anchor import Anchor
from gateway.audit.checkpoints import CheckpointSigner, signature_valid
from gateway.audit.log import AuditLog
from gateway.audit.records import chain
from gateway.audit.store import AuditStore, PostgresAuditStore, SqliteAuditStore
from gateway.audit.witness import CheckpointFile, UrlWitness
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event
from tests.servers import serve

pytestmark = pytest.mark.anyio

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Backend:
    """One store under test and raw SQL access to it, as an attacker with the database has."""

    name: str
    table: str
    open: Callable[[], AuditStore]
    sql: Callable[[str], None]
    #: the statements that turn the append-only triggers off
    disable: Callable[[], str]


def _sqlite(tmp_path: Path) -> Backend:
    path = tmp_path / "audit.sqlite3"

    def sql(statement: str) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.executescript(statement)
        finally:
            conn.close()

    def drop_triggers() -> str:
        conn = sqlite3.connect(path)
        try:
            names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return "".join(f"DROP TRIGGER {n};" for (n,) in names.fetchall())
        finally:
            conn.close()

    return Backend("sqlite", "jamajama_audit", lambda: SqliteAuditStore(path), sql, drop_triggers)


def _postgres(table: str) -> Backend:
    def sql(statement: str) -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(statement.encode())

    def disable() -> str:
        return "".join(
            f"ALTER TABLE {table}{s} DISABLE TRIGGER USER;"
            for s in ("", "_subjects", "_checkpoints")
        )

    return Backend(
        "postgres",
        table,
        lambda: PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True),
        sql,
        disable,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield _sqlite(tmp_path)
        return
    table = f"jj_audit_{uuid.uuid4().hex[:12]}"
    yield _postgres(table)
    store = PostgresAuditStore(POSTGRES_URL, table)
    await store.drop()
    await store.aclose()


def anchored_log(
    backend: Backend, tmp_path: Path, *, every_records: int = 1000, every_seconds: float = 60.0,
    witness: UrlWitness | None = None,
) -> AuditLog:  # fmt: skip
    store = backend.open()
    anchor = Anchor(
        store,
        backend.table,
        CheckpointSigner(SIGNING_KEY),
        file=CheckpointFile(tmp_path / "witness-volume" / "checkpoints.jsonl"),
        witness=witness,
        every_records=every_records,
        every_seconds=every_seconds,
    )
    return AuditLog(store, SUBJECT_KEY, SIGNING_KEY, anchor=anchor)


async def fill(log: AuditLog, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        await log.append(event(n % 60, (log.subject_hash(f"18710101019000{n % 100:02d}"),)))


async def test_deleting_the_newest_records_is_detected(backend: Backend, tmp_path: Path) -> None:
    log = anchored_log(backend, tmp_path)
    try:
        await fill(log, 10)
        assert (await log.checkpoint()) is not None
        assert (await log.verify()).ok
        # the attacker removes the last two records and the checkpoints the database holds
        backend.sql(
            backend.disable()
            + f"DELETE FROM {backend.table} WHERE seq > 8;"
            + f"DELETE FROM {backend.table}_subjects WHERE seq > 8;"
            + f"DELETE FROM {backend.table}_checkpoints;"
        )
        report = await log.verify()
        messages = [p.message for p in report.problems]
        assert len(messages) == 1, messages
        assert messages[0].startswith("records 9..10 are missing: the checkpoint of ")
        assert (
            "checkpoints.jsonl) counted 10 records (the newest records were deleted)"
            in (messages[0])
        )
        assert report.problems[0].seq == 9 and report.records == 8
    finally:
        await log.aclose()


async def test_a_chain_rewritten_from_a_middle_record_is_detected(
    backend: Backend, tmp_path: Path
) -> None:
    """The attacker recomputes every hash from record 4 on and forges an unsigned checkpoint for
    the new head; without the signing key neither the records nor the checkpoint verify."""
    log = anchored_log(backend, tmp_path)
    try:
        await fill(log, 6)
        await log.checkpoint()
        records = await log.store.records()
        rewritten, previous = [], (records[2].seq, records[2].hash)
        for record in records[3:]:
            new = chain(record.event.__class__(**{
                **{f: getattr(record.event, f) for f in record.event.__slots__},
                "purpose": "lainnya",
            }), previous, None)  # fmt: skip
            rewritten.append((new, record.signature))
            previous = (new.seq, new.hash)
        statements = [backend.disable(), f"DELETE FROM {backend.table} WHERE seq > 3;"]
        for new, old_signature in rewritten:
            body = new.body.replace("'", "''")
            statements.append(
                f"INSERT INTO {backend.table} (seq, prev_hash, hash, body, signature) VALUES "
                f"({new.seq}, '{new.prev_hash}', '{new.hash}', '{body}', '{old_signature}');"
            )
        statements.append(f"DELETE FROM {backend.table}_checkpoints;")
        statements.append(
            f"INSERT INTO {backend.table}_checkpoints (count, head, time, public_key, signature) "
            f"VALUES (6, '{previous[1]}', '2026-12-01T00:00:00.000+00:00', NULL, NULL);"
        )
        backend.sql("".join(statements))
        problems = [(p.seq, p.message) for p in (await log.verify()).problems]
        messages = [m for _, m in problems]
        for seq in (4, 5, 6):
            assert f"record {seq} has an invalid signature" in messages
        assert any(
            m.startswith("record 6 differs from the checkpoint of ")
            and "the chain was rewritten at or before record 6" in m
            for m in messages
        ), messages
        assert any("(database) has no valid signature (forged or altered)" in m for m in messages)
        assert min(seq for seq, _ in problems) == 4  # the first record at fault is named
    finally:
        await log.aclose()


async def wait_for_checkpoint(log: AuditLog, count: int) -> list[int]:
    """The checkpoint counts once one reaches ``count`` (bounded wait: background writes)."""
    counts: list[int] = []
    for _ in range(200):
        counts = [c.count for c in await log.store.checkpoints()]
        if counts and counts[-1] >= count:
            break
        await asyncio.sleep(0.05)
    return counts


async def test_a_checkpoint_every_n_records(backend: Backend, tmp_path: Path) -> None:
    log = anchored_log(backend, tmp_path, every_records=3)  # the timer (60 s) never fires here
    try:
        await fill(log, 3)
        assert await wait_for_checkpoint(log, 3) == [3]
        await fill(log, 2, start=4)
        await asyncio.sleep(0.2)
        assert [c.count for c in await log.store.checkpoints()] == [3]  # 2 < N: not yet
        await fill(log, 1, start=6)
        assert await wait_for_checkpoint(log, 6) == [3, 6]
        assert log.anchor is not None and log.anchor.file is not None
        assert [c.count for c in log.anchor.file.read()] == [3, 6]
        report = await log.verify()
        assert report.ok and report.anchored == 6 and report.checkpoints == 2
    finally:
        await log.aclose()


async def test_a_checkpoint_t_seconds_after_the_first_unanchored_record(
    backend: Backend, tmp_path: Path
) -> None:
    log = anchored_log(backend, tmp_path, every_seconds=0.3)
    try:
        await fill(log, 2)
        assert await log.store.checkpoints() == []
        assert await wait_for_checkpoint(log, 2) == [2]
        await fill(log, 1, start=3)
        assert await wait_for_checkpoint(log, 3) == [2, 3]
    finally:
        await log.aclose()


async def test_the_final_head_is_anchored_at_close(backend: Backend, tmp_path: Path) -> None:
    log = anchored_log(backend, tmp_path)
    await fill(log, 4)
    await log.aclose()
    log = anchored_log(backend, tmp_path)
    try:
        assert [c.count for c in await log.store.checkpoints()] == [4]
    finally:
        await log.aclose()


async def test_the_checkpoints_table_is_append_only(backend: Backend, tmp_path: Path) -> None:
    log = anchored_log(backend, tmp_path)
    try:
        await fill(log, 2)
        await log.checkpoint()
        for statement in (
            f"DELETE FROM {backend.table}_checkpoints;",
            f"UPDATE {backend.table}_checkpoints SET count = 9;",
        ):
            with pytest.raises((sqlite3.IntegrityError, psycopg.errors.RaiseException)):
                backend.sql(statement)
        assert len(await log.store.checkpoints()) == 1
    finally:
        await log.aclose()


async def test_a_third_party_verifies_checkpoints_with_the_public_key_only(
    tmp_path: Path,
) -> None:
    signer = CheckpointSigner(SIGNING_KEY)
    checkpoint = signer.sign("jamajama_audit", 10, "a" * 64)
    assert signature_valid(checkpoint, signer.public_key)
    for forged in (
        checkpoint.__class__(**{**json.loads(checkpoint.to_json()), "count": 11}),
        checkpoint.__class__(**{**json.loads(checkpoint.to_json()), "head": "b" * 64}),
    ):
        assert not signature_valid(forged, signer.public_key)
    other = CheckpointSigner(b"another key")
    assert not signature_valid(checkpoint, other.public_key)
    assert signer.public_key == CheckpointSigner(SIGNING_KEY).public_key  # derived, stable


@pytest.mark.postgres
async def test_one_checkpoint_writer_at_a_time_on_postgres(tmp_path: Path) -> None:
    table = f"jj_audit_{uuid.uuid4().hex[:12]}"
    log = anchored_log(_postgres(table), tmp_path)
    try:
        await fill(log, 3)
        lock_id = zlib.crc32(f"{table}_checkpoints".encode())
        async with await psycopg.AsyncConnection.connect(POSTGRES_URL) as other:
            await other.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id,))
            assert await log.checkpoint() is None  # another writer holds it: skipped
            assert await log.store.checkpoints() == []
        written = await log.checkpoint()  # the other transaction ended: its lock is gone
        assert written is not None and written.count == 3
    finally:
        await log.aclose()
        store = PostgresAuditStore(POSTGRES_URL, table)
        await store.drop()
        await store.aclose()


async def test_one_checkpoint_writer_at_a_time_on_sqlite(tmp_path: Path) -> None:
    backend = _sqlite(tmp_path)
    log = anchored_log(backend, tmp_path)
    try:
        await fill(log, 3)
        other = sqlite3.connect(tmp_path / "audit.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the embedded database's write lock
        writing = asyncio.create_task(log.checkpoint())
        await asyncio.sleep(0.3)
        assert not writing.done()
        other.execute("COMMIT")
        other.close()
        written = await asyncio.wait_for(writing, 10)
        assert written is not None and written.count == 3
    finally:
        await log.aclose()


async def test_checkpoints_reach_an_external_witness(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    async def take(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/checkpoints", take, methods=["POST"])])
    with serve(app) as url:
        log = anchored_log(_sqlite(tmp_path), tmp_path, witness=UrlWitness(f"{url}/checkpoints"))
        try:
            await fill(log, 2)
            await log.checkpoint()
        finally:
            await log.aclose()
    assert [r["count"] for r in received] == [2]
    assert received[0]["chain"] == "jamajama_audit" and len(received[0]["head"]) == 64
    assert signature_valid(
        CheckpointFile(tmp_path / "witness-volume" / "checkpoints.jsonl").read()[0],
        received[0]["public_key"],
    )


async def test_a_witness_down_never_blocks_appends(tmp_path: Path) -> None:
    log = anchored_log(
        _sqlite(tmp_path), tmp_path, witness=UrlWitness("http://127.0.0.1:1/x", timeout=1)
    )
    try:
        await fill(log, 2)
        written = await log.checkpoint()  # logged, not raised
        assert written is not None and written.count == 2
        await fill(log, 1, start=3)
    finally:
        await log.aclose()


def test_verify_command_names_the_deleted_tail_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A third party holding a copy of the checkpoints and the public key only."""
    path = tmp_path / "db" / "audit.sqlite3"
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[audit]\nsqlite_path = "{path}"\nsubject_key = "{SUBJECT_KEY.decode()}"\n'
        f'signing_key = "{SIGNING_KEY.decode()}"\ncheckpoint_every_records = 4\n'
    )
    parser = _parser()

    async def write() -> None:
        from gateway.audit.log import open_audit_log
        from gateway.config import load_settings

        log = open_audit_log(load_settings(config).audit)
        await fill(log, 6)
        await log.aclose()  # anchors the final head (6)

    asyncio.run(write())
    copy = tmp_path / "witness-copy.jsonl"
    copy.write_bytes(path.with_suffix(".checkpoints.jsonl").read_bytes())
    assert cli.run(parser.parse_args(["public-key", "--config", str(config)])) == 0
    public_key = capsys.readouterr().out.strip()
    assert public_key == CheckpointSigner(SIGNING_KEY).public_key
    verify = ["verify", "--config", str(config), "--json"]
    assert cli.run(parser.parse_args(verify)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["records"] == 6 and report["anchored"] == 6 and report["problems"] == []
    # the operator deletes the newest record, the database's checkpoints and their own file
    _sqlite(path.parent).sql(
        _sqlite(path.parent).disable()
        + "DELETE FROM jamajama_audit WHERE seq = 6; DELETE FROM jamajama_audit_subjects "
        "WHERE seq = 6; DELETE FROM jamajama_audit_checkpoints;"
    )
    path.with_suffix(".checkpoints.jsonl").unlink()
    assert cli.run(parser.parse_args(verify)) == 0  # nothing left to compare with ...
    capsys.readouterr()
    third_party = [*verify[:3], "--checkpoint-file", str(copy), "--public-key", public_key]
    assert cli.run(parser.parse_args(third_party)) == 1  # ... but the witness's copy has it
    out = capsys.readouterr().out
    assert "record 6 is missing: the checkpoint of " in out and "TAMPERED" in out
    other_key = CheckpointSigner(b"not the key").public_key
    assert cli.run(parser.parse_args([*third_party[:-1], other_key])) == 1
    assert "has no valid signature" in capsys.readouterr().out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser


def test_a_gateway_anchors_its_final_head_at_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from gateway.assembly import assemble
    from gateway.config import load_settings

    monkeypatch.setenv("JAMAJAMA_AUTH__JWT__SECRET", "s" * 40)
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[audit]\nsqlite_path = "{tmp_path / "audit.sqlite3"}"\n'
        f'subject_key = "{SUBJECT_KEY.decode()}"\nsigning_key = "{SIGNING_KEY.decode()}"\n'
        f'checkpoint_file = "{tmp_path / "elsewhere" / "checkpoints.jsonl"}"\n'
        f'[auth.applications]\nsqlite_path = "{tmp_path / "apps.sqlite3"}"\n'
    )
    supergraph = Path(__file__).parent.parent.parent / "schema" / "supergraph.graphql"
    assembly = assemble(load_settings(config), supergraph_sdl=supergraph.read_text())
    with serve(assembly.app) as url:  # uvicorn: the lifespan's shutdown runs when it stops
        for _ in range(3):  # recorded (anonymous, refused or failed: every operation is)
            httpx.post(f"{url}/graphql", json={"query": "{ kabupatenKota { jumlahPenduduk } }"})
    written = CheckpointFile(tmp_path / "elsewhere" / "checkpoints.jsonl").read()
    assert [c.count for c in written] == [3]
    assert signature_valid(written[0], CheckpointSigner(SIGNING_KEY).public_key)


async def test_replicas_anchor_one_chain_concurrently(
    backend: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two replicas (two stores on one database) append and checkpoint at once: every
    checkpoint is valid, none is written twice, nothing fails."""
    replicas = [anchored_log(backend, tmp_path, every_records=2) for _ in range(2)]
    try:
        await asyncio.gather(*(fill(replicas[n % 2], 1, start=n) for n in range(1, 41)))
    finally:
        for log in replicas:
            await log.aclose()
    log = anchored_log(backend, tmp_path)
    try:
        counts = [c.count for c in await log.store.checkpoints()]
        assert counts == sorted(set(counts)) and counts[-1] == 40
        report = await log.verify()
        assert report.ok, report.problems
        assert report.records == 40 and report.anchored == 40
    finally:
        await log.aclose()
    assert "checkpoint not written" not in caplog.text
