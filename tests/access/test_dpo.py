"""The DPO's audit domain over records written by a real gateway: a resident's report lists the
access made moments before and the refused attempts, as CSV and PDF; statistics; alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.assembly import Services
from gateway.audit.alerts import AlertMetrics, AlertRules, detect
from gateway.audit.report import (
    AuditSearchError,
    resident_report,
    statistics,
    to_csv,
    to_pdf,
)
from gateway.config import Settings, dev_settings
from gateway.engine import GraphQLRequest
from tests.auth.harness import SUPERGRAPH, OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RESIDENT = """
query Warga($nik: String!) { penduduk(nik: $nik) { nik nama keluarga { desilKesejahteraan } } }
"""
LISTING = '{ daftarPenduduk(wilayahKode: "18", first: 2) { nodes { nama } } }'


async def test_report_statistics_and_alerts(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    gateway = await secured()
    ok = await gateway.run(RESIDENT, await principal("sibansos", "penyaluran_bansos"), {"nik": nik})
    assert ok["data"]["penduduk"]["nama"], ok
    wrong = await principal("sehat-lampung", "penyaluran_bansos")  # not its purpose
    refused = await gateway.run(RESIDENT, wrong, {"nik": nik})
    assert refused["data"] == {"penduduk": None}
    listing = await gateway.run(LISTING, wrong)  # a purpose not approved for sehat-lampung
    assert listing["data"] == {"daftarPenduduk": None}

    now = datetime.now(UTC)
    report = await resident_report(gateway.audit, nik, now=now)
    rows = [(r.application, r.purpose, r.was_refused) for r in report.rows]
    assert rows[0] == ("sibansos", "penyaluran_bansos", False)
    assert report.rows[0].how.startswith("data returned")
    assert ("sehat-lampung", "penyaluran_bansos", True) in rows  # the refused lookup
    assert "Penduduk.nama" in report.rows[0].fields
    assert report.answer_due == now + timedelta(hours=72)
    other = await resident_report(gateway.audit, opd_world.niks(2)[1])
    assert other.rows == ()

    csv_text = to_csv(report)
    assert csv_text.startswith(f"# Laporan akses data NIK {nik}\n# dibuat ")
    assert "waktu,aplikasi,OPD,pengguna,tujuan" in csv_text and "sibansos" in csv_text
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1500

    stats = {s.application: s for s in statistics(await gateway.audit.store.records())}
    assert stats["sibansos"].personal == 1 and stats["sibansos"].refused == 0
    assert stats["sehat-lampung"].refused == 2 and stats["sehat-lampung"].personal == 0

    records = await gateway.audit.store.records()
    by_default = [(a.kind, a.application, a.count) for a in detect(records, now)]
    assert by_default == [("purpose", "sehat-lampung", 1)]  # any; a few operations are not
    rules = AlertRules(volume=1, refusals=1)
    raised = {(a.kind, a.application): a.count for a in detect(records, now, rules)}
    assert raised == {
        ("volume", "sibansos"): 1,
        ("purpose", "sehat-lampung"): 1,
        ("refusals", "sehat-lampung"): 2,
    }
    assert detect(records, now + timedelta(hours=2), rules) == []  # outside the window

    registry = CollectorRegistry()
    metrics = AlertMetrics(registry)
    metrics.publish(detect(records, now, rules))
    labels = {"kind": "purpose", "application": "sehat-lampung"}
    assert registry.get_sample_value("jamajama_audit_alerts", labels) == 1
    metrics.publish([])
    assert registry.get_sample_value("jamajama_audit_alerts", labels) == 0


async def test_a_refused_lookup_is_in_the_residents_report(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    nik = opd_world.niks(1)[0]
    gateway = await secured()
    wrong = await principal("sehat-lampung", "pelayanan_kesehatan")  # no kependudukan:nik
    refused = await gateway.run(RESIDENT, wrong, {"nik": nik})
    assert refused["data"] == {"penduduk": None}
    report = await resident_report(gateway.audit, nik)
    assert [(r.application, r.was_refused) for r in report.rows] == [("sehat-lampung", True)]


async def test_malformed_identifiers_are_refused_with_a_stable_code(
    secured: SecuredFactory,
) -> None:
    gateway = await secured()
    for value, kind in (("12345", "nik"), ("18710112345678AB", "kk"), ("1" * 16, "npwp")):
        with pytest.raises(AuditSearchError) as raised:
            await resident_report(gateway.audit, value, kind)
        assert raised.value.code == "AUDIT_SEARCH_INVALID"


async def test_the_gateway_exports_the_dpo_alerts_on_its_metrics(
    principal: PrincipalFactory, opd_world: OpdWorld, tmp_path: Path
) -> None:
    """Where Prometheus scrapes the gateway: the same alerts as the DPO page, from its audit log."""
    services = Services.from_settings(dev_settings(Settings(), tmp_path))
    gateway = services.open_gateway(SUPERGRAPH.read_text(), opd_world.urls)
    assert services.alerts is not None and services.metrics is not None
    wrong = await principal("sehat-lampung", "penyaluran_bansos")  # not its purpose
    request = GraphQLRequest(LISTING, principal=wrong, request_id="t")
    refused = await gateway.process(request)
    assert refused.response["data"] == {"daftarPenduduk": None}
    assert gateway.access is not None
    await gateway.access.drain()
    exposed = services.metrics.exposition().decode()
    assert "# TYPE jamajama_audit_alerts gauge" in exposed
    assert 'application="sehat-lampung"' not in exposed  # not refreshed yet
    await services.alerts.refresh()
    exposed = services.metrics.exposition().decode()
    assert 'jamajama_audit_alerts{application="sehat-lampung",kind="purpose"} 1.0' in exposed
    await gateway.aclose()
    await services.alerts.aclose()
    await services.transport.aclose()  # type: ignore[attr-defined]
    if gateway.access is not None and gateway.access.audit is not None:
        await gateway.access.audit.aclose()
