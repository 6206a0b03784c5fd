"""Five OPDs that join as the REST/JSON applications they already run (not GraphQL subgraphs).

Each is a small Starlette service in its own style with an OpenAPI document, serving data derived
from the same generated world as the GraphQL OPDs (:mod:`subgraphs.rest.world`). The graph reaches
them through connector SDLs in ``schema/rest/`` (``@source``/``@connect``); see docs/connectors.md.
:data:`REST_OPDS` is the list: name -> (module, default port, subgraph-local source name).
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from .world import RestWorld

REST_OPDS: dict[str, tuple[str, int, str]] = {
    "bapenda": ("subgraphs.rest.bapenda", 4101, "samsat"),
    "bkd": ("subgraphs.rest.bkd", 4102, "simpeg"),
    "tanaman_pangan": ("subgraphs.rest.tanaman_pangan", 4103, "simluhtan"),
    "dpmptsp": ("subgraphs.rest.dpmptsp", 4104, "oss"),
    "bpbd": ("subgraphs.rest.bpbd", 4105, "bencana"),
}


def api_key(name: str) -> str:
    """The OPD's API key: ``$JAMAJAMA_REST_<NAME>_KEY``, else a development key ``dev-<name>``."""
    return os.environ.get(f"JAMAJAMA_REST_{name.upper()}_KEY", f"dev-{name}")


def create_app(name: str, world: RestWorld, key: str | None = None) -> Starlette:
    """The OPD's service, plus ``GET /health`` -> ``{"status": "ok", "service": NAME}`` (no key:
    ``jamajama dev`` waits on it)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    module = importlib.import_module(REST_OPDS[name][0])
    app: Starlette = module.create_app(world, key if key is not None else api_key(name))

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "service": name})

    app.add_route("/health", health, methods=["GET"])
    return app
