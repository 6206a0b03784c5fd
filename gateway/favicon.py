"""``/favicon.ico`` for every service of the project (gateway, subgraphs, registry).

Browsers ask for it on every page they show; without it each visit logs a 404. One small icon,
shipped in the package, cached for a day. A top-level module importing nothing of the project, so
the registry (a layer below gateway.http) can serve it too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ICON = Path(__file__).parent / "http" / "static" / "favicon.ico"


@cache
def _icon() -> bytes:
    return ICON.read_bytes()


async def favicon(request: Request) -> Response:
    return Response(
        _icon(),
        media_type="image/x-icon",
        headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"},
    )


def favicon_route() -> Route:
    return Route("/favicon.ico", favicon, methods=["GET", "HEAD"])
