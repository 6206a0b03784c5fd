"""The hash chain: every edit, removal or reordering of records is detected and named."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import sqlite3
from pathlib import Path

import pytest

from gateway.audit import cli
from gateway.audit.hashing import KeyedHash
from gateway.audit.log import AuditLog
from gateway.audit.records import AuditEvent, chain, verify_chain
from gateway.audit.store import SqliteAuditStore

pytestmark = pytest.mark.anyio

SUBJECT_KEY = b"s" * 32
SIGNING_KEY = b"k" * 32


def event(n: int, subjects: tuple[str, ...] = ()) -> AuditEvent:
    return AuditEvent(
        time=f"2026-11-29T07:00:{n:02d}.000+00:00",
        request_id=f"r{n}",
        application="sibansos",
        opd="Dinas Sosial",
        user="operator",
        purpose="penyaluran_bansos",
        operation_name=f"Op{n}",
        operation_type="query",
        document_hash="0" * 64,
        fields=("Penduduk.nama",),
        subjects=subjects,
        personal=True,
    )


async def filled(path: Path, signing_key: bytes | None = SIGNING_KEY, count: int = 5) -> AuditLog:
    log = AuditLog(SqliteAuditStore(path), SUBJECT_KEY, signing_key)
    for n in range(1, count + 1):
        await log.append(event(n, (log.subject_hash(f"18710101019000{n:02d}"),)))
    return log


def db(path: Path) -> sqlite3.Connection:
    """A connection of someone with write access to the file, who first drops the triggers."""
    conn = sqlite3.connect(path, isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


async def test_the_tables_refuse_updates_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in (
            "UPDATE jamajama_audit SET body = 'x' WHERE seq = 1",
            "DELETE FROM jamajama_audit WHERE seq = 5",
            "DELETE FROM jamajama_audit_subjects",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    finally:
        conn.close()
    assert (await log.verify()).ok
    await log.aclose()


async def test_intact_log_verifies(tmp_path: Path) -> None:
    log = await filled(tmp_path / "a.sqlite3")
    report = await log.verify()
    assert report.ok and report.records == 5
    records = await log.store.records()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    await log.aclose()


async def test_edited_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    with db(path) as conn:
        conn.execute(
            "UPDATE jamajama_audit SET body = replace(body, 'penyaluran_bansos', 'lainnya') "
            "WHERE seq = 3"
        )
    report = await log.verify()
    assert [p.message for p in report.problems] == ["record 3 was altered (hash mismatch)"]
    await log.aclose()


async def test_removed_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    with db(path) as conn:
        conn.execute("DELETE FROM jamajama_audit WHERE seq = 2")
    messages = [p.message for p in (await log.verify()).problems]
    assert messages[0] == "record 2 is missing (removed)"
    assert "record 3 does not follow the record before it" in messages[1]
    await log.aclose()


async def test_reordered_records_are_named(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    with db(path) as conn:  # swap the places of records 2 and 3
        conn.execute("UPDATE jamajama_audit SET seq = -2 WHERE seq = 2")
        conn.execute("UPDATE jamajama_audit SET seq = 2 WHERE seq = 3")
        conn.execute("UPDATE jamajama_audit SET seq = 3 WHERE seq = -2")
    report = await log.verify()
    assert not report.ok
    assert {p.seq for p in report.problems} >= {2, 3}
    await log.aclose()


async def test_rewritten_chain_is_caught_by_signatures(tmp_path: Path) -> None:
    """Whoever can write the store can recompute hashes, but not sign without the key."""
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    records = await log.store.records()
    forged = [
        r.__class__(r.seq, r.prev_hash, r.hash, r.body.replace("Op2", "Ox2"), r.signature)
        for r in records
    ]
    # recompute the whole chain from record 2 on, as an attacker would
    rebuilt = []
    previous: tuple[int, str] | None = None
    for r in forged:
        new = chain(r.event, previous, None)
        rebuilt.append(new.__class__(new.seq, new.prev_hash, new.hash, new.body, r.signature))
        previous = (new.seq, new.hash)
    assert verify_chain(rebuilt, None).ok  # the bare chain is fooled ...
    problems = verify_chain(rebuilt, SIGNING_KEY).problems
    assert {p.message for p in problems} >= {"record 2 has an invalid signature"}  # ... not this
    await log.aclose()


async def test_removed_subject_index_entry_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    with db(path) as conn:
        conn.execute("DELETE FROM jamajama_audit_subjects WHERE seq = 4")
    problems = [p.message for p in (await log.verify()).problems]
    assert problems == ["record 4: the data-subject index was altered"]
    await log.aclose()


async def test_subject_lookup_uses_keyed_hashes(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    log = await filled(path)
    found = await log.subject("1871010101900003")
    assert [r.event.operation_name for r in found] == ["Op3"]
    assert await log.subject("1871010101900099") == []
    assert b"1871010101900003" not in path.read_bytes()
    await log.aclose()


def test_verify_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.sqlite3"

    async def fill() -> None:
        await (await filled(path)).aclose()

    asyncio.run(fill())
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[audit]\nsqlite_path = "{path}"\nsubject_key = "{SUBJECT_KEY.decode()}"\n'
        f'signing_key = "{SIGNING_KEY.decode()}"\n'
    )
    parser = _parser()
    assert cli.run(parser.parse_args(["verify", "--config", str(config)])) == 0
    assert "audit log intact: 5 records" in capsys.readouterr().out
    with db(path) as conn:
        conn.execute("UPDATE jamajama_audit SET body = replace(body, 'Op4', 'Op9') WHERE seq = 4")
    assert cli.run(parser.parse_args(["verify", "--config", str(config)])) == 1
    out = capsys.readouterr().out
    assert "record 4 was altered (hash mismatch)" in out and "TAMPERED" in out
    assert cli.run(parser.parse_args(["subject", "1871010101900002", "--config", str(config)])) == 0
    assert "sibansos (Dinas Sosial)" in capsys.readouterr().out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser


def test_the_canonical_body_is_what_it_always_was() -> None:
    """Bodies are hashed: the serialisation must not drift (the old one, via asdict, is the
    oracle; every optional field set, then none)."""
    import dataclasses
    import json

    def old_body(e: AuditEvent) -> str:
        data = dataclasses.asdict(e)
        data["fields"] = list(e.fields)
        data["subjects"] = list(e.subjects)
        data["refused"] = [{"path": p, "coordinate": c, "reason": r} for p, c, r in e.refused]
        for name in ("released", "refused_lookups"):
            if data[name]:
                data[name] = list(data[name])
            else:
                del data[name]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    full = dataclasses.replace(
        event(3, ("a", "b")),
        refused=(("penduduk.nik", "Penduduk.nik", "purpose"),),
        released=("c",),
        refused_lookups=("d",),
        user='Bü\u00e7ük "x"',
    )
    for e in (event(1), full):
        assert e.body() == old_body(e)
        assert AuditEvent.from_body(e.body()) == e


@pytest.mark.parametrize("key_length", [0, 1, 32, 63, 64, 65, 200])
def test_the_subject_hash_is_hmac_sha256_of_the_key(key_length: int) -> None:
    """``KeyedHash`` builds HMAC's padded keys once; what it files subjects under (and what
    pseudonyms are made of) must stay RFC 2104 HMAC-SHA256 (lookups and ``audit subject``
    recompute it), for keys shorter than, as long as and longer than SHA-256's block."""
    key = bytes((7 * n + key_length) % 256 for n in range(key_length))
    keyed = KeyedHash(key)
    for value in ("", "1871010101900001", "nomor kk ✓", "x" * 300):
        expected = hmac.new(key, value.encode(), hashlib.sha256)
        assert keyed(value) == expected.hexdigest()
        assert keyed.digest(value.encode()) == expected.digest()
    assert keyed("1") != KeyedHash(key + b"!")("1")
