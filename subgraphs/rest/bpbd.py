"""BPBD Provinsi Lampung: disaster events per kecamatan, and totals per region.

Its own style, JSON:API-like: ``{"data": [{"type", "id", "attributes"}], "meta", "links"}`` with
``page``/``limit`` pagination and a ``links.next`` URL; errors as
``{"errors": [{"status", "title", "detail"}]}``; the API key in an ``apikey`` header.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import BadRequest, build_service, op, openapi_document, param
from .world import RestWorld

TITLE = "BPBD Lampung Data Kejadian Bencana API"
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


def _error(status: int, message: str, _: Request) -> dict[str, Any]:
    return {"errors": [{"status": str(status), "title": TITLES.get(status, "Error"),
                        "detail": message}]}  # fmt: skip


def _resource(event: dict[str, Any]) -> dict[str, Any]:
    attributes = {k: v for k, v in event.items() if k != "id"}
    return {"type": "kejadian", "id": event["id"], "attributes": attributes}


def create_app(world: RestWorld, api_key: str) -> Starlette:
    by_id = {e["id"]: e for e in world.kejadian}

    async def daftar(request: Request) -> Response:
        kecamatan = request.query_params.get("kecamatan", "")
        try:
            page = int(request.query_params.get("page", 1))
            limit = int(request.query_params.get("limit", 20))
        except ValueError as error:
            raise BadRequest("page and limit must be integers") from error
        if page < 1 or not 1 <= limit <= 100:
            raise BadRequest("page >= 1 and 1 <= limit <= 100")
        rows = [e for e in world.kejadian if e["kode_kecamatan"].startswith(kecamatan)]
        chunk = rows[(page - 1) * limit : page * limit]
        more = page * limit < len(rows)
        nxt = f"/kejadian?kecamatan={kecamatan}&page={page + 1}&limit={limit}" if more else None
        return JSONResponse({"data": [_resource(e) for e in chunk], "meta": {"total": len(rows)},
                             "links": {"next": nxt}})  # fmt: skip

    async def kejadian(request: Request) -> Response:
        found = by_id.get(request.path_params["id"])
        if found is None:
            return JSONResponse(_error(404, "event not found", request), 404)
        return JSONResponse({"data": _resource(found)})

    async def rekap(request: Request) -> Response:
        kode = request.path_params["kode"]
        rows = [e for e in world.kejadian if e["kode_kecamatan"].startswith(kode)]
        attributes = {
            "jumlah_kejadian": len(rows),
            **{k: sum(e[k] for e in rows) for k in ("korban_jiwa", "rumah_rusak", "pengungsi")},
        }
        return JSONResponse({"data": {"type": "rekap", "id": kode, "attributes": attributes}})

    return build_service(
        title=TITLE,
        routes=[
            ("GET", "/kejadian", daftar),
            ("GET", "/kejadian/{id}", kejadian),
            ("GET", "/rekap/{kode}", rekap),
        ],
        openapi=OPENAPI,
        key_header="apikey",
        api_key=api_key,
        error_body=_error,
    )


OPENAPI = openapi_document(
    TITLE,
    "Disaster events recorded by BPBD, per kecamatan, with casualties and damage.",
    {"type": "apiKey", "in": "header", "name": "apikey"},
    {
        "/kejadian": {"get": op("Events (paged), optionally in one region", params=[
            param("kecamatan"), param("page", kind="integer"), param("limit", kind="integer")])},
        "/kejadian/{id}": {"get": op("One event", params=[param("id", "path")])},
        "/rekap/{kode}": {"get": op("Totals for a region code", params=[param("kode", "path")])},
    },
)  # fmt: skip
