"""Audit (DPO): who accessed a resident's data (NIK or No. KK), refused attempts included;
the log's integrity check; the resident's report as CSV or PDF (UU 27/2022: 3x24 hours);
per-application statistics and alerts of unusual personal-data access.

Searches and exports are POSTs: an identifier never lands in a URL, a proxy log or the
browser's history. The alerts are ``gateway.audit.alerts``' (the one definition); their gauge for
Prometheus is on the gateway's ``/metrics``, where Prometheus scrapes, not here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.audit.alerts import detect
from gateway.audit.report import AuditSearchError, resident_report, statistics, to_csv, to_pdf
from gateway.portal.access_backend import backend
from gateway.portal.layout import render
from gateway.portal.pages import Page
from gateway.portal.roles import DPO


async def _view(request: Request, status: int = 200, **context: object) -> Response:
    request.app.state.portal.require(request, DPO)
    found = await backend(request)
    records = await found.audit.store.records()
    now = datetime.now(UTC)
    alerts = detect(records, now, found.rules)
    return render(
        request,
        "audit.html",
        status_code=status,
        stats=statistics(records),
        alerts=alerts,
        rules=found.rules,
        **context,
    )


async def audit(request: Request) -> Response:
    return await _view(request)


async def cari(request: Request) -> Response:
    portal = request.app.state.portal
    portal.require(request, DPO)
    form = await portal.form(request)
    kind, value = form.get("jenis", "nik"), form.get("nomor", "")
    try:
        report = await resident_report((await backend(request)).audit, value, kind)
    except AuditSearchError as error:
        return await _view(request, 400, error=f"{error.message} ({error.code})", nomor=value)
    return await _view(request, report=report, jenis=kind, nomor=report.identifier)


async def ekspor(request: Request) -> Response:
    portal = request.app.state.portal
    portal.require(request, DPO)
    form = await portal.form(request)
    try:
        report = await resident_report(
            (await backend(request)).audit, form.get("nomor", ""), form.get("jenis", "nik")
        )
    except AuditSearchError as error:
        return await _view(request, 400, error=f"{error.message} ({error.code})")
    stamp = report.produced_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"laporan-akses-{stamp}"
    if form.get("format") == "pdf":
        body, media, name = to_pdf(report), "application/pdf", f"{name}.pdf"
    else:
        body, media, name = to_csv(report).encode(), "text/csv; charset=utf-8", f"{name}.csv"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def verifikasi(request: Request) -> Response:
    portal = request.app.state.portal
    portal.require(request, DPO)
    await portal.form(request)
    report = await (await backend(request)).audit.verify()
    return await _view(request, integrity=report)


PAGE = Page(
    path="/audit",
    routes=[
        Route("/audit", audit, methods=["GET"]),
        Route("/audit/cari", cari, methods=["POST"]),
        Route("/audit/ekspor", ekspor, methods=["POST"]),
        Route("/audit/verifikasi", verifikasi, methods=["POST"]),
    ],
    nav="Audit",
    roles=(DPO,),
)
