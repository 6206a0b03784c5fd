""" "Siapa mengakses data saya" misses nothing: family-level reads are filed under every member's
NIK, pupils read through ``Sekolah.siswa`` under theirs; identifiers released in cursors or keys
and refused lookups are indexed through the indexing API (``Disclosures``).

End to end over the five OPD subgraphs (real HTTP), like tests/audit/test_history.py.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from gateway.audit import cli
from gateway.audit.log import AuditLog
from gateway.audit.records import Disclosures
from gateway.audit.store import PostgresAuditStore, SqliteAuditStore
from gateway.audit.subjects import collect_subjects, subject_selection
from tests.audit.test_chain import SIGNING_KEY, SUBJECT_KEY, event
from tests.audit.test_history import family
from tests.auth.harness import OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = pytest.mark.anyio

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def audit_store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """None: the harness's SQLite store; or a PostgreSQL one in its own table, dropped after."""
    if request.param == "sqlite":
        yield None
        return
    table = f"jj_audit_{uuid.uuid4().hex[:12]}"
    yield PostgresAuditStore(POSTGRES_URL, table, migrate_at_start=True)
    store = PostgresAuditStore(POSTGRES_URL, table)
    await store.drop()
    await store.aclose()


def members(opd_world: OpdWorld, no_kk: str) -> list[str]:
    conn = sqlite3.connect(opd_world.directory / "kependudukan.sqlite3")
    try:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(penduduk)")]
        kk = next(c for c in columns if c in ("no_kk", "nokk", "keluarga"))
        return [r[0] for r in conn.execute(f"SELECT nik FROM penduduk WHERE {kk} = ?", (no_kk,))]
    finally:
        conn.close()


def school_with_pupils(opd_world: OpdWorld) -> tuple[str, list[str]]:
    conn = sqlite3.connect(opd_world.directory / "pendidikan.sqlite3")
    try:
        npsn = conn.execute(
            "SELECT npsn FROM siswa GROUP BY npsn HAVING COUNT(*) >= 2 ORDER BY npsn LIMIT 1"
        ).fetchone()[0]
        niks = [r[0] for r in conn.execute("SELECT nik FROM siswa WHERE npsn = ?", (npsn,))]
        return npsn, niks
    finally:
        conn.close()


async def test_a_family_level_read_is_filed_under_every_member(
    secured: SecuredFactory,
    principal: PrincipalFactory,
    opd_world: OpdWorld,
    audit_store: Any,
) -> None:
    _, _, no_kk = family(opd_world)
    everyone = members(opd_world, no_kk)
    assert len(everyone) >= 2
    gateway = await secured(audit_store=audit_store)
    response = await gateway.run(
        "query Welfare($k: String!) { keluarga(noKk: $k) { desilKesejahteraan "
        "penerimaBansos { tahun } } }",
        await principal("sibansos", purpose="penyaluran_bansos"),
        {"k": no_kk},
    )
    assert "errors" not in response, response
    assert set(response["data"]["keluarga"]) == {"desilKesejahteraan", "penerimaBansos"}
    # membership comes with the family from kependudukan: no extra fetch
    assert sorted(name for name, _ in gateway.transport.bodies) == ["kependudukan", "sosial"]
    for nik in everyone:
        assert [r.event.operation_name for r in await gateway.audit.subject(nik)] == ["Welfare"]
    assert [r.event.operation_name for r in await gateway.audit.subject(no_kk)] == ["Welfare"]
    assert (await gateway.audit.verify()).ok


async def test_pupils_read_through_a_school_are_filed_under_their_niks(
    secured: SecuredFactory,
    principal: PrincipalFactory,
    opd_world: OpdWorld,
    audit_store: Any,
) -> None:
    npsn, pupils = school_with_pupils(opd_world)
    gateway = await secured(audit_store=audit_store)
    response = await gateway.run(
        "query Pupils($s: String!) { sekolah(npsn: $s) { siswa(first: 100) { nodes { kelas } } } }",
        await principal("sibansos", purpose="penyaluran_bansos"),
        {"s": npsn},
    )
    assert "errors" not in response, response
    assert len(response["data"]["sekolah"]["siswa"]["nodes"]) == len(pupils)
    assert "penduduk" not in response["data"]["sekolah"]["siswa"]["nodes"][0]  # hidden again
    assert [name for name, _ in gateway.transport.bodies] == ["pendidikan"]  # the key it holds
    for nik in pupils:
        history = await gateway.audit.subject(nik)
        assert [r.event.operation_name for r in history] == ["Pupils"], nik


def test_nested_subject_paths_are_fetched_under_reserved_aliases() -> None:
    selection = subject_selection("anggota.nik")
    assert selection.alias is not None and selection.alias.value == (
        "jamajamaAuditSubject_anggota_nik"
    )
    data = {
        "keluarga": {
            "jamajamaAuditSubject": "1871010101900001",
            "jamajamaAuditSubject_anggota_nik": [
                {"jamajamaAuditSubject": "1871010101900002"},
                {"jamajamaAuditSubject": "1871010101900003"},
            ],
            "desilKesejahteraan": 3,
        }
    }
    assert collect_subjects(data) == {f"187101010190000{n}" for n in (1, 2, 3)}


class _Mapping(dict[str, Any]):
    pass


class _List(list[Any]):
    pass


class _Text(str):
    pass


def test_subjects_are_found_at_any_depth_and_in_values_of_other_classes() -> None:
    """The walk takes a fast path for plain JSON types; a mapping, list or string of a subclass
    (which the executor does not build today) must not let a subject slip out of the index."""
    data = [
        [{"a": [[{"jamajamaAuditSubject": "1"}]], "n": 1, "f": 1.5, "b": True, "z": None}],
        _Mapping(x=_List([_Mapping(jamajamaAuditSubject=_Text("2"))])),
        {"jamajamaAuditSubject_anggota_nik": _List([{"jamajamaAuditSubject": "3"}])},
        {"nik": "4", "jamajamaAuditSubjectX": "5", "other": {"jamajamaAuditSubject": 6}},
        "7",
    ]
    assert collect_subjects(data) == {"1", "2", "3", "5"}
    assert collect_subjects(None) == set() and collect_subjects("x") == set()


async def test_a_client_may_not_use_a_reserved_alias(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    _, _, no_kk = family(opd_world)
    gateway = await secured()
    response = await gateway.run(
        "query($k: String!) { keluarga(noKk: $k) { jamajamaAuditSubject_x: noKk } }",
        await principal("sibansos", purpose="penyaluran_bansos"),
        {"k": no_kk},
    )
    assert response.get("data") is None
    assert "reserved by the gateway" in response["errors"][0]["message"]


async def test_identifiers_in_cursors_and_refused_lookups_are_indexed(
    secured: SecuredFactory,
    principal: PrincipalFactory,
    opd_world: OpdWorld,
    audit_store: Any,
) -> None:
    """The indexing API that sealed cursors/keys and lookup decisions hand their identifiers to:
    an operation that returned no personal data is still filed under them, durably."""
    nik, relative, _ = family(opd_world)
    gateway = await secured(audit_store=audit_store)
    caller = await principal("developer", purpose="pengujian")
    query = "query Count { kabupatenKota { jumlahPenduduk } }"
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    prepared = gateway.access.prepare(caller, query, document, operation, {})
    data, _ = await gateway.access.release(
        prepared,
        {"kabupatenKota": []},
        [],
        {"kabupatenKota": []},
        disclosures=Disclosures(released=frozenset({nik}), refused_lookups=frozenset({relative})),
    )
    assert data == {"kabupatenKota": []}
    [released] = await gateway.audit.subject(nik)  # written before release returned
    [refused] = await gateway.audit.subject(relative)
    assert released.seq == refused.seq
    event = released.event
    assert event.released == (gateway.audit.subject_hash(nik),)
    assert event.refused_lookups == (gateway.audit.subject_hash(relative),)
    assert event.subjects == () and event.application == "developer"
    assert (await gateway.audit.verify()).ok


async def test_audit_subject_says_how_each_record_concerns_the_resident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.sqlite3"
    log = AuditLog(SqliteAuditStore(path), SUBJECT_KEY, SIGNING_KEY)
    nik = "1871010101900001"
    hashed = log.subject_hash(nik)
    await log.append(event(1, (hashed,)))
    await log.append(dataclasses.replace(event(2), released=(hashed,)))
    await log.append(dataclasses.replace(event(3), refused_lookups=(hashed,), outcome="rejected"))
    await log.append(event(4))
    await log.aclose()
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[audit]\nsqlite_path = "{path}"\nsubject_key = "{SUBJECT_KEY.decode()}"\n'
        f'signing_key = "{SIGNING_KEY.decode()}"\n'
    )
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["subject", nik, "--config", str(config), "--json"])
    assert await asyncio.to_thread(cli.run, args) == 0  # the command runs its own event loop
    rows = json.loads(capsys.readouterr().out)
    assert [(r["operation"], r["how"], r["outcome"]) for r in rows] == [
        ("Op1", "data returned", "ok"),
        ("Op2", "identifier released in a cursor or key", "ok"),
        ("Op3", "refused lookup", "rejected"),
    ]
    # the index of released and refused identifiers is checked like the returned ones
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER jamajama_audit_subjects_append_only_DELETE")
        conn.execute("DELETE FROM jamajama_audit_subjects WHERE seq = 3")
    finally:
        conn.close()
    log = AuditLog(SqliteAuditStore(path), SUBJECT_KEY, SIGNING_KEY)
    problems = [p.message for p in (await log.verify()).problems]
    await log.aclose()
    assert problems == ["record 3: the data-subject index was altered"]
