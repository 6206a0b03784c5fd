"""Pengajuan akses: a consumer application's owner requests scopes for recorded purposes and
follows the decisions; each OPD admin approves or rejects its own part with a reason (and may
revoke it). Every action goes through ``gateway.access_requests`` (the CLI's rules and records)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access_requests.model import AccessRequestError
from gateway.access_requests.service import Actor
from gateway.portal.access_backend import backend
from gateway.portal.layout import render
from gateway.portal.pages import Page
from gateway.portal.roles import APP_OWNER, OPD_ADMIN, OPERATOR

#: scopes an application may request, per owning OPD (docs/access.md)
SCOPES: dict[str, tuple[str, ...]] = {
    "kependudukan": ("kependudukan:read", "kependudukan:nik"),
    "kesehatan": ("kesehatan:read", "kesehatan:jkn"),
    "pendidikan": ("pendidikan:read", "pendidikan:nisn"),
    "sosial": ("sosial:read",),
}
STATUS = {
    "pending": "Menunggu",
    "approved": "Disetujui",
    "rejected": "Ditolak",
    "revoked": "Dicabut",
    "expired": "Kedaluwarsa",
}
ROLES = (APP_OWNER, OPD_ADMIN, OPERATOR)


async def _view(
    request: Request, message: str = "", error: str = "", status: int = 200
) -> Response:
    portal = request.app.state.portal
    session = portal.require(request, *ROLES)
    service = (await backend(request)).requests
    if session.has(OPERATOR):
        found = await service.list()
    elif session.has(OPD_ADMIN):
        found = await service.list(owner=session.opd)
    else:
        found = await service.list(application=session.application)
    purposes = []
    for seed in sorted(getattr(service.registry, "purpose_seeds", ()), key=lambda p: p.id):
        record = await service.registry.purpose(seed.id)
        if record is not None:
            purposes.append(record)
    return render(
        request,
        "akses.html",
        status_code=status,
        requests=list(reversed(found)),
        now=datetime.now(UTC),
        purposes=purposes,
        scopes=SCOPES,
        opds=portal.opds.names(),
        status_labels=STATUS,
        message=message,
        error=error,
    )


async def akses(request: Request) -> Response:
    return await _view(request)


async def ajukan(request: Request) -> Response:
    portal = request.app.state.portal
    session = portal.require(request, APP_OWNER)
    form = await portal.form(request)
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    service = (await backend(request)).requests
    until = None
    if form.get("berlaku_sampai"):
        try:
            day = datetime.fromisoformat(form["berlaku_sampai"]).date()
        except ValueError:
            return await _view(request, error="Tanggal berlaku tidak valid.", status=400)
        until = datetime.combine(day, time(23, 59, 59), UTC)
    try:
        made = await service.request(
            session.application,
            fields.get("scope", []),
            fields.get("tujuan", []),
            requested_by=session.subject,
            note=form.get("catatan", ""),
            valid_until=until,
        )
    except AccessRequestError as error:
        return await _view(request, error=f"{error.message} ({error.code})", status=400)
    return await _view(request, message=f"Pengajuan {made.id} dikirim ke OPD pemilik data.")


async def putuskan(request: Request) -> Response:
    portal = request.app.state.portal
    session = portal.require(request, OPD_ADMIN, OPERATOR)
    form = await portal.form(request)
    service = (await backend(request)).requests
    action = form.get("aksi", "")
    if action not in ("approve", "reject", "revoke"):
        return await _view(request, error="Aksi tidak dikenal.", status=400)
    actor = Actor(session.subject, session.opd or None, session.has(OPERATOR))
    request_id = request.path_params["request_id"]
    try:
        decided = await getattr(service, action)(
            request_id, form.get("opd", ""), actor, form.get("alasan", "")
        )
    except AccessRequestError as error:
        status = 403 if error.code == "ACCESS_REQUEST_FORBIDDEN" else 400
        return await _view(request, error=f"{error.message} ({error.code})", status=status)
    label = {"approve": "disetujui", "reject": "ditolak", "revoke": "dicabut"}[action]
    return await _view(request, message=f"Bagian {form.get('opd')} dari {decided.id} {label}.")


PAGE = Page(
    path="/akses",
    routes=[
        Route("/akses", akses, methods=["GET"]),
        Route("/akses/ajukan", ajukan, methods=["POST"]),
        Route("/akses/{request_id:str}/putuskan", putuskan, methods=["POST"]),
    ],
    nav="Pengajuan akses",
    roles=ROLES,
)
