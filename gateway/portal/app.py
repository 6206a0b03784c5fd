"""The portal's Starlette application: the pages, the static files, sessions, CSRF checks and
the security headers. ``create_app(settings)`` is its only entry point.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.favicon import favicon_route
from gateway.portal import layout
from gateway.portal.config import PortalSettings
from gateway.portal.opds import OpdProfiles
from gateway.portal.pages import Page, load
from gateway.portal.session import COOKIE, Session, SessionCodec

STATIC = Path(__file__).parent / "static"
#: the biggest form body the portal reads
MAX_FORM_BYTES = 64 * 1024
#: no inline script, nothing from another origin (the chart library is served from /static)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SignInRequired(Exception):
    """The page needs a signed-in visitor (redirect to sign-in) or a role they lack (403)."""

    def __init__(self, signed_in: bool) -> None:
        self.signed_in = signed_in


class CsrfRejected(Exception):
    """A form arrived without this session's CSRF token."""


class Portal:
    """What every page handler reaches through ``request.app.state.portal``."""

    def __init__(self, settings: PortalSettings, pages: list[Page]) -> None:
        self.settings = settings
        secret = settings.session_secret
        if not secret:
            if not settings.dev:
                raise ValueError(
                    "JAMAJAMA_PORTAL_SESSION_SECRET is required outside development (>= 32 chars)"
                )
            secret = secrets.token_urlsafe(32)  # dev: sessions end when the portal restarts
        self.codec = SessionCodec(secret, secure=not settings.dev)
        self.templates = layout.environment()
        self.pages = pages
        #: the data-owning OPDs' profiles (governed data, re-read when the file changes)
        self.opds = OpdProfiles(settings.opds_file or None)
        #: what pages keep between requests (e.g. the previous metrics scrape)
        self.state: dict[str, object] = {}

    def session(self, request: Request) -> Session:
        cached = request.scope.get("portal.session")
        if isinstance(cached, Session):
            return cached
        loaded = self.codec.loads(request.cookies.get(COOKIE))
        session = loaded or Session()
        request.scope["portal.session"] = session
        # an anonymous visitor's session is saved by the page, so its CSRF token survives
        request.scope["portal.session.new"] = loaded is None
        return session

    def require(self, request: Request, *roles: str) -> Session:
        """The signed-in session having one of ``roles`` (any role when none is given)."""
        session = self.session(request)
        if not session.signed_in:
            raise SignInRequired(signed_in=False)
        if roles and not session.has(*roles):
            raise SignInRequired(signed_in=True)
        return session

    async def form(self, request: Request) -> dict[str, str]:
        """The URL-encoded form of a POST, after checking its CSRF token against the session."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise CsrfRejected
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        expected = self.session(request).csrf
        if not secrets.compare_digest(fields.get("csrf", ""), expected):
            raise CsrfRejected
        return fields

    def redirect(self, url: str, session: Session | None = None) -> Response:
        """A 303 to ``url``, saving ``session`` in the cookie when given."""
        response = RedirectResponse(url, status_code=303)
        if session is not None:
            self.codec.save(response, session)
        return response


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Cache-Control"] = "no-store"
        return response


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if not exc.signed_in:
        return RedirectResponse(f"/masuk?lanjut={request.url.path}", status_code=303)
    return layout.render(request, "ditolak.html", status_code=403)


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(
        "Formulir ditolak: token CSRF tidak cocok (muat ulang halaman).", status_code=403
    )


def create_app(settings: PortalSettings, pages: list[Page] | None = None) -> Starlette:
    pages = load() if pages is None else pages
    routes = [
        *(route for page in pages for route in page.routes),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        favicon_route(),
        Route("/healthz", lambda _: JSONResponse({"status": "ok", "service": "portal"})),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={SignInRequired: _sign_in_required, CsrfRejected: _csrf_rejected},
    )
    app.state.portal = Portal(settings, pages)
    return app
