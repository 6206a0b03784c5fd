"""A resident's access history is complete, and personal data never leaves without its record.

End to end over the five OPD subgraphs: operations reaching one resident by lookup, by list, as a
family member, with or without asking for the NIK, are each found by ``subject(nik)``; refused
operations are recorded as refused and name no subject; a failing audit store withholds personal
data while aggregates keep working.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.records import AuditEvent, AuditRecord
from gateway.audit.store import AuditUnavailableError, SqliteAuditStore
from gateway.engine import GraphQLRequest
from tests.auth.harness import OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = pytest.mark.anyio


def family(opd_world: OpdWorld) -> tuple[str, str, str]:
    """(a resident's NIK, another member of the same KK, the KK number)."""
    conn = sqlite3.connect(opd_world.directory / "kependudukan.sqlite3")
    try:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(penduduk)")]
        kk = next(c for c in columns if c in ("no_kk", "nokk", "keluarga"))
        row = conn.execute(
            f"SELECT a.nik, b.nik, a.{kk} FROM penduduk a JOIN penduduk b "
            f"ON a.{kk} = b.{kk} AND a.nik < b.nik LIMIT 1"
        ).fetchone()
        return row[0], row[1], row[2]
    finally:
        conn.close()


async def test_every_access_to_a_resident_is_found(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik, relative, no_kk = family(opd_world)
    gateway = await secured()
    sibansos = await principal("sibansos", purpose="penyaluran_bansos")
    sehat = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    dashboard = await principal("dasbor-gubernur")
    region = nik[:2] + "." + nik[2:4] + "." + nik[4:6]
    operations: list[tuple[str, Any, dict[str, Any], bool]] = [
        # (query, caller, variables, expected to touch the resident)
        ("query Lookup($n: String!) { penduduk(nik: $n) { nama } }", sibansos, {"n": nik}, True),
        (  # no NIK asked for: the gateway still learns whose data it returned
            "query Listing($w: String!) { daftarPenduduk(wilayahKode: $w, first: 100) "
            "{ nodes { tanggalLahir } } }",
            sehat,
            {"w": region},
            True,
        ),
        (  # through the relative's family
            "query Family($n: String!) { penduduk(nik: $n) { keluarga { anggota { nama } } } }",
            sibansos,
            {"n": relative},
            True,
        ),
        (  # a refused lookup: no data, but the attempt is filed under the NIK for the DPO
            "query Refused($n: String!) { penduduk(nik: $n) { kepesertaanJkn { aktif } } }",
            dashboard,
            {"n": nik},
            True,
        ),
        (
            "query Other($n: String!) { penduduk(nik: $n) { nama } }",
            sibansos,
            {"n": relative},
            False,
        ),
        ("query Aggregates { kabupatenKota { jumlahPenduduk } }", dashboard, {}, False),
    ]
    for query, caller, variables, _ in operations:
        response = await gateway.run(query, caller, variables)
        assert "data" in response
    history = await gateway.audit.subject(nik)
    assert [r.event.operation_name for r in history] == [
        name
        for (query, _, _, touches) in operations
        if touches
        for name in [query.split()[1].split("(")[0]]
    ]
    first = history[0].event
    assert (first.application, first.opd, first.purpose, first.user) == (
        "sibansos",
        "Dinas Sosial",
        "penyaluran_bansos",
        "operator.dinsos@lampungprov.go.id",
    )
    assert first.fields == ("Penduduk.nama", "Query.penduduk")
    assert first.request_id == "test" and first.outcome == "ok" and first.personal
    refused = next(r.event for r in history if r.event.operation_name == "Refused")
    assert refused.application == "dasbor-gubernur" and refused.outcome != "ok"
    assert (await gateway.audit.verify()).ok
    # the KK is a data subject too
    assert [r.event.operation_name for r in await gateway.audit.subject(no_kk)] == ["Family"]


async def test_refused_operation_is_recorded_with_what_was_refused(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    gateway = await secured()
    await gateway.run(
        "query R($n: String!) { penduduk(nik: $n) { nik tanggalLahir } }",
        await principal("developer", purpose="pengujian"),
        {"n": nik},
    )
    records = await gateway.audit.store.records()
    event = records[-1].event
    assert event.application == "developer" and event.outcome == "partial"
    # a lookup by NIK needs the NIK's reveal rights (issue 12): refused whole, nothing fetched
    assert event.subjects == ()
    assert not event.personal
    assert event.refused == (("penduduk", "Query.penduduk", "it needs the scope kependudukan:nik"),)


async def test_no_identifier_is_stored_in_clear(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld, tmp_path: Path
) -> None:
    nik = opd_world.niks(1)[0]
    path = tmp_path / "clear.sqlite3"
    gateway = await secured(audit_store=SqliteAuditStore(path))
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    response = await gateway.run(
        "query($n: String!) { penduduk(nik: $n) { nik nama keluarga { noKk } } }",
        caller,
        {"n": nik},
    )
    no_kk = response["data"]["penduduk"]["keluarga"]["noKk"]
    await gateway.audit.aclose()
    stored = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("clear*"))
    assert nik.encode() not in stored and no_kk.encode() not in stored
    assert response["data"]["penduduk"]["nama"].encode() not in stored


async def test_record_is_durable_before_personal_data_is_released(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld, tmp_path: Path
) -> None:
    nik = opd_world.niks(1)[0]
    path = tmp_path / "durable.sqlite3"
    gateway = await secured(audit_store=SqliteAuditStore(path))
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    result = await gateway.gateway.process(
        GraphQLRequest(
            "query D($n: String!) { penduduk(nik: $n) { nama } }", {"n": nik}, principal=caller
        )
    )
    assert result.response["data"]["penduduk"]["nama"]
    # read by another connection, without waiting for anything: the record is already there
    conn = sqlite3.connect(path)
    try:
        bodies = [row[0] for row in conn.execute("SELECT body FROM jamajama_audit")]
    finally:
        conn.close()
    assert any('"operation_name":"D"' in body for body in bodies)


class BrokenStore:
    """An audit store that is down."""

    def __init__(self) -> None:
        self.attempts = 0

    async def append(self, event: AuditEvent, signing_key: bytes | None) -> AuditRecord:
        self.attempts += 1
        raise AuditUnavailableError("the audit database is unavailable")

    async def records(self) -> list[AuditRecord]:
        raise AuditUnavailableError("the audit database is unavailable")

    async def by_subject(self, subject: str) -> list[AuditRecord]:
        raise AuditUnavailableError("the audit database is unavailable")

    async def aclose(self) -> None:
        pass


async def test_audit_store_down_fails_closed_for_personal_data_only(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    store = BrokenStore()
    gateway = await secured(audit_store=store)
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    personal = await gateway.run(
        "query($n: String!) { penduduk(nik: $n) { nama tanggalLahir } }", caller, {"n": nik}
    )
    assert personal["data"] is None
    assert personal["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert nik not in str(personal)
    aggregates = await gateway.run("{ kabupatenKota { nama jumlahPenduduk } }", caller)
    assert "errors" not in aggregates
    assert aggregates["data"]["kabupatenKota"][0]["jumlahPenduduk"] > 0
    assert store.attempts == 2  # the aggregate's record was attempted too, in the background
