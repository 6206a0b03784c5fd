"""Development tokens for GraphiQL's application presets (``jamajama dev`` only).

GraphiQL's preset selector asks ``GET /graphiql/dev/applications`` for the registered consumer
applications (with their approved purposes) and ``POST /graphiql/dev/token`` for a token of one,
so a newcomer does not paste tokens from a terminal. Closed by default: the routes exist only when
the gateway verifies tokens with the development secret (``--dev-auth``), and even then answer
only a browser on the same machine (a loopback client *and* a loopback ``Host``, so a web page
that rebinds its DNS name to 127.0.0.1 is refused too), and a token only to a same-origin JSON
request. Any other gateway answers 404.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth.applications import Application
from gateway.auth.cli import mint_token
from gateway.auth.demo import DEMO_USERS, DEV_SECRET
from gateway.auth.errors import RegistryError

if TYPE_CHECKING:
    from gateway.auth.guard import HttpGuard

LOOPBACK_ONLY = "DEV_TOKENS_LOOPBACK_ONLY"
UNKNOWN_APPLICATION = "UNKNOWN_APPLICATION"
BAD_REQUEST = "BAD_REQUEST"
CROSS_ORIGIN = "DEV_TOKENS_CROSS_ORIGIN"
TOKEN_TTL_SECONDS = 3600
_LOOPBACK_NAMES = frozenset({"localhost"})


def enabled(guard: HttpGuard | None) -> bool:
    """Whether the gateway accepts development tokens (its HS256 secret is the dev secret)."""
    if guard is None or guard.section.jwt.secret is None:
        return False
    return guard.section.jwt.secret.get_secret_value() == DEV_SECRET


def _loopback_address(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str | None) -> str | None:
    """The name of a ``Host`` header without its port (``[::1]:4000`` -> ``::1``)."""
    if not host_header:
        return None
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else None
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


#: headers a proxy adds: a request relayed by a proxy on this machine is not a local browser's
_FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip")


def local(request: Request) -> bool:
    """A request from this machine, addressed to this machine by a loopback name, not relayed."""
    client = request.client.host if request.client else None
    if any(name in request.headers for name in _FORWARDED):
        return False
    return _loopback_address(client) and _loopback_address(_host_name(request.headers.get("host")))


def same_origin(request: Request) -> bool:
    """No ``Origin``, or this gateway's own: another site's page cannot obtain a token, even with
    CORS configured to let it read responses."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host')}"


def _error(status: int, code: str, message: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _refused() -> Response:
    return _error(
        403,
        LOOPBACK_ONLY,
        "development tokens are handed out only to a browser on the gateway's own machine "
        "(open GraphiQL at http://127.0.0.1:PORT or http://localhost:PORT)",
    )


def routes(guard: HttpGuard | None) -> list[Route]:
    """The two routes when development tokens are on; none otherwise."""
    if guard is None or not enabled(guard):
        return []
    endpoints = _DevTokens(guard)
    return [
        Route("/graphiql/dev/applications", endpoints.applications, methods=["GET"]),
        Route("/graphiql/dev/token", endpoints.token, methods=["POST"]),
    ]


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


class _DevTokens:
    """The handlers, over the gateway's application registry and development secret."""

    def __init__(self, guard: HttpGuard) -> None:
        self.registry = guard.registry
        self.jwt = guard.section.jwt

    async def _active(self) -> dict[str, Application]:
        return {a.id: a for a in await self.registry.list() if not a.revoked}

    async def applications(self, request: Request) -> Response:
        if not local(request):
            return _refused()
        try:
            apps = await self._active()
        except RegistryError as error:
            return _error(503, error.code, error.message)
        listed = [
            {"id": a.id, "name": a.name, "opd": a.opd, "purposes": sorted(a.purposes)}
            for a in sorted(apps.values(), key=lambda a: a.id)
        ]
        return _json({"applications": listed})

    async def token(self, request: Request) -> Response:
        if not local(request):
            return _refused()
        if not same_origin(request):
            return _error(403, CROSS_ORIGIN, "development tokens are not handed to other sites")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, BAD_REQUEST, "content-type must be application/json")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        application = body.get("application") if isinstance(body, dict) else None
        if not isinstance(application, str) or not application:
            return _error(400, BAD_REQUEST, 'the body must be JSON: {"application": "<id>"}')
        try:
            app = (await self._active()).get(application)
        except RegistryError as error:
            return _error(503, error.code, error.message)
        if app is None:
            message = f"no active application {application!r} is registered"
            return _error(404, UNKNOWN_APPLICATION, message)
        return _json(
            {
                "token": self._mint(app),
                "purposes": sorted(app.purposes),
                "expires_in": TOKEN_TTL_SECONDS,
            }
        )

    def _mint(self, app: Application) -> str:
        """A token like ``jamajama token mint APP``: the application's registered scopes."""
        assert self.jwt.secret is not None  # enabled() checked it
        return mint_token(
            app.id,
            scopes=sorted(app.scopes),
            user=DEMO_USERS.get(app.id),
            secret=self.jwt.secret.get_secret_value(),
            ttl_seconds=TOKEN_TTL_SECONDS,
            issuer=self.jwt.issuer,
            audience=self.jwt.audience,
            opd=app.opd or None,
        )
