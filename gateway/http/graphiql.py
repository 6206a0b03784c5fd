"""GraphiQL, served from files shipped in this package (no CDN: the network may be offline).

The bundle in ``static/graphiql/`` is built from the npm packages in ``graphiql-bundle/`` (see its
README). The page's Content-Security-Policy allows nothing but this origin, so a page that tried to
load anything from elsewhere would fail loudly in the browser test. The gateway and the OPD
subgraphs serve the same bundle; :class:`PageOptions` (written into the page as a ``data-config``
attribute, no inline script) tells it which one it is in and what it may offer.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static" / "graphiql"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_CONFIG_SLOT = b'data-config="{}"'
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


@dataclass(frozen=True, slots=True)
class PageOptions:
    """What the page offers: ``gateway`` (query plan, application presets) or ``subgraph``."""

    mode: Literal["gateway", "subgraph"] = "gateway"
    #: the registry's catalogue page; each field in the docs links to its entry there
    catalogue_url: str | None = None
    #: the preset selector mints development tokens (``gateway.http.dev_tokens``)
    dev_tokens: bool = False


def catalogue_of(registry_url: str | None) -> str | None:
    """The catalogue page of a registry base URL (``[registry_poll] url``), if one is set."""
    return f"{registry_url.rstrip('/')}/catalogue" if registry_url else None


@cache
def _page(options: PageOptions) -> bytes:
    config = html.escape(json.dumps(asdict(options), separators=(",", ":")), quote=True)
    template = _read("index.html")
    if _CONFIG_SLOT not in template:
        raise RuntimeError("static/graphiql/index.html has no data-config slot: rebuild the bundle")
    return template.replace(_CONFIG_SLOT, f'data-config="{config}"'.encode(), 1)


def page(options: PageOptions | None = None) -> Response:
    return Response(
        _page(options or PageOptions()),
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


def asset_route() -> Route:
    return Route("/graphiql/{name}", asset, methods=["GET"])
