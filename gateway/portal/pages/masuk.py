"""Sign-in and sign-out: the development role picker, or the OIDC flow against the configured
issuer (``gateway.portal.oidc``). Every path ends with a new session (fresh CSRF token)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.portal import oidc
from gateway.portal.app import Portal
from gateway.portal.layout import render
from gateway.portal.pages import Page
from gateway.portal.roles import APP_OWNER, OPD_ADMIN, dev_personas, roles_from_claims
from gateway.portal.session import Session


def _next(value: str | None) -> str:
    """Only a local path is followed after sign-in (no open redirect)."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


async def masuk(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    return render(
        request,
        "masuk.html",
        personas=dev_personas(portal.opds) if portal.settings.dev else [],
        oidc=portal.settings.oidc is not None,
        lanjut=_next(request.query_params.get("lanjut")),
        error=request.query_params.get("galat", ""),
    )


async def masuk_dev(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    form = await portal.form(request)
    if not portal.settings.dev:
        return render(request, "ditolak.html", status_code=403)
    persona = next((p for p in dev_personas(portal.opds) if p.key == form.get("persona")), None)
    if persona is None:
        return portal.redirect("/masuk?galat=peran-tidak-dikenal")
    session = Session(
        subject=persona.subject,
        name=persona.name,
        roles=persona.roles,
        opd=persona.opd,
        application=persona.application,
    )
    return portal.redirect(_next(form.get("lanjut")), session)


async def masuk_oidc(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    await portal.form(request)
    settings = portal.settings.oidc
    if settings is None:
        return portal.redirect("/masuk?galat=oidc-tidak-dikonfigurasi")
    try:
        url, pending = await asyncio.to_thread(oidc.start, settings)
    except oidc.OidcError:
        return portal.redirect("/masuk?galat=penyedia-identitas")
    session = portal.session(request)
    session.pending = pending
    return portal.redirect(url, session)


async def callback(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    settings = portal.settings.oidc
    session = portal.session(request)
    params = request.query_params
    if settings is None or "code" not in params:
        return portal.redirect("/masuk?galat=masuk-gagal")
    try:
        claims = await asyncio.to_thread(
            oidc.finish, settings, session.pending, params["code"], params.get("state", "")
        )
    except oidc.OidcError:
        return portal.redirect("/masuk?galat=masuk-gagal")
    roles = roles_from_claims(claims)
    fresh = Session(
        subject=str(claims["sub"]),
        name=str(claims.get("name") or claims.get("email") or claims["sub"]),
        roles=roles,
        opd=str(claims.get("opd", "")) if OPD_ADMIN in roles else "",
        application=str(claims.get("application", "")) if APP_OWNER in roles else "",
    )
    return portal.redirect("/", fresh)


async def keluar(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    await portal.form(request)
    response = portal.redirect("/")
    portal.codec.clear(response)
    return response


PAGE = Page(
    path="/masuk",
    routes=[
        Route("/masuk", masuk, methods=["GET"]),
        Route("/masuk/dev", masuk_dev, methods=["POST"]),
        Route("/masuk/oidc", masuk_oidc, methods=["POST"]),
        Route("/masuk/callback", callback, methods=["GET"]),
        Route("/keluar", keluar, methods=["POST"]),
    ],
)
