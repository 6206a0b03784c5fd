"""GraphiQL, served from files shipped in this package (no CDN: the network may be offline).

The bundle in ``static/graphiql/`` is built from the npm packages in ``graphiql-bundle/`` (see its
README). The page's Content-Security-Policy allows nothing but this origin, so a page that tried to
load anything from elsewhere would fail loudly in the browser test.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static" / "graphiql"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def wants_html(accept: str | None) -> bool:
    """A browser navigating to the page (``text/html`` before any JSON type)."""
    if not accept or "text/html" not in accept:
        return False
    return accept.find("text/html") < max(accept.find("application/json"), 0) or (
        "application/json" not in accept and "graphql-response" not in accept
    )


@cache
def _read(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def page() -> Response:
    return Response(
        _read("index.html"),
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": _CSP, "x-content-type-options": "nosniff"},
    )


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    suffix = Path(name).suffix
    if "/" in name or suffix not in _TYPES or not (STATIC / name).is_file():
        return Response(status_code=404)
    return Response(
        _read(name),
        media_type=_TYPES[suffix],
        headers={"cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"},
    )


def available() -> bool:
    return (STATIC / "index.html").is_file()
