"""Kredensial aplikasi (Operator): each consumer application's keys, their validity, and the two
actions — rotate (a new key; the old ones end after a grace period) and revoke one key now.
Every action goes through ``gateway.access_requests.credentials`` (the CLI's rules and audit
records). A new key is shown once, on the page that answers the rotation, and never stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access_requests.credentials import DEFAULT_GRACE, Credentials
from gateway.access_requests.model import AccessRequestError
from gateway.portal.access_backend import backend
from gateway.portal.layout import render
from gateway.portal.pages import Page
from gateway.portal.roles import OPERATOR

#: the grace periods offered (hours: label)
GRACE = {0: "Langsung (tanpa masa tenggang)", 1: "1 jam", 24: "24 jam", 168: "7 hari"}
STATE = {
    "active": "Aktif",
    "grace": "Masa tenggang",
    "expired": "Kedaluwarsa",
    "revoked": "Dicabut",
}


async def _credentials(request: Request) -> Credentials:
    found = await backend(request)
    return Credentials(found.requests.registry, found.audit)


async def _view(
    request: Request, *, message: str = "", error: str = "", key: str = "", status: int = 200
) -> Response:
    portal = request.app.state.portal
    portal.require(request, OPERATOR)
    credentials = await _credentials(request)
    applications = [
        (app, await credentials.of(app.id)) for app in await credentials.registry.list()
    ]
    return render(
        request,
        "kredensial.html",
        status_code=status,
        applications=applications,
        now=datetime.now(UTC),
        grace=GRACE,
        default_grace=int(DEFAULT_GRACE.total_seconds() // 3600),
        states=STATE,
        message=message,
        error=error,
        key=key,
    )


async def kredensial(request: Request) -> Response:
    return await _view(request)


async def rotasi(request: Request) -> Response:
    portal = request.app.state.portal
    session = portal.require(request, OPERATOR)
    form = await portal.form(request)
    try:
        hours = int(form.get("tenggang", ""))
    except ValueError:
        return await _view(request, error="Masa tenggang tidak valid.", status=400)
    if hours not in GRACE:
        return await _view(request, error="Masa tenggang tidak valid.", status=400)
    application = request.path_params["application"]
    try:
        rotation = await (await _credentials(request)).rotate(
            application, session.subject, timedelta(hours=hours)
        )
    except AccessRequestError as error:
        return await _view(request, error=f"{error.message} ({error.code})", status=400)
    ending = ", ".join(c.id for c in rotation.ending) or "tidak ada"
    return await _view(
        request,
        message=f"Kunci baru {rotation.credential.id} untuk {application} diterbitkan; "
        f"kunci lama yang berakhir: {ending}.",
        key=rotation.key,
    )


async def cabut(request: Request) -> Response:
    portal = request.app.state.portal
    session = portal.require(request, OPERATOR)
    form = await portal.form(request)
    credential_id = request.path_params["credential"]
    try:
        await (await _credentials(request)).revoke(
            credential_id, session.subject, form.get("alasan", "")
        )
    except AccessRequestError as error:
        return await _view(request, error=f"{error.message} ({error.code})", status=400)
    return await _view(request, message=f"Kunci {credential_id} dicabut.")


PAGE = Page(
    path="/kredensial",
    routes=[
        Route("/kredensial", kredensial, methods=["GET"]),
        Route("/kredensial/{application:str}/rotasi", rotasi, methods=["POST"]),
        Route("/kredensial/kunci/{credential:str}/cabut", cabut, methods=["POST"]),
    ],
    nav="Kredensial",
    roles=(OPERATOR,),
)
