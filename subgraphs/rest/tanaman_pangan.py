"""Dinas Tanaman Pangan dan Hortikultura: farmers and planted area (padi, jagung) per region.

Its own style: ``/v1``, snake_case, ``{"meta": {...}, "data": ...}`` envelopes with
``halaman``/``per_halaman`` pagination, errors as ``{"meta": {"code", "message"}, "data": null}``,
the API key in ``X-API-KEY``. A farmer's NIK is looked up in the body.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import BadRequest, build_service, json_body, op, openapi_document, param
from .world import RestWorld

TITLE = "Dinas Tanaman Pangan Lampung SIMLUHTAN API"


def _error(status: int, message: str, _: Request) -> dict[str, Any]:
    return {"meta": {"code": status, "message": message}, "data": None}


def _page(request: Request) -> tuple[int, int]:
    try:
        halaman = int(request.query_params.get("halaman", 1))
        per = int(request.query_params.get("per_halaman", 20))
    except ValueError as error:
        raise BadRequest("halaman dan per_halaman harus bilangan bulat") from error
    if halaman < 1 or not 1 <= per <= 100:
        raise BadRequest("halaman >= 1, 1 <= per_halaman <= 100")
    return halaman, per


def create_app(world: RestWorld, api_key: str) -> Starlette:
    by_nik = {p["nik"]: p for p in world.petani}

    def luas(kode: str) -> dict[str, Any]:
        rows = [p for p in world.petani if p["kode_desa"].startswith(kode)]
        return {
            "kode_wilayah": kode,
            "jumlah_petani": len(rows),
            "luas_tanam_padi_ha": round(sum(p["luas_tanam_padi_ha"] for p in rows), 2),
            "luas_tanam_jagung_ha": round(sum(p["luas_tanam_jagung_ha"] for p in rows), 2),
        }

    async def petani_desa(request: Request) -> Response:
        halaman, per = _page(request)
        rows = world.petani_by_desa.get(request.path_params["kode_desa"], [])
        return JSONResponse({
            "meta": {"code": 200, "halaman": halaman, "per_halaman": per, "total": len(rows)},
            "data": rows[(halaman - 1) * per : halaman * per],
        })  # fmt: skip

    async def luas_tanam(request: Request) -> Response:
        kode = (await json_body(request)).get("kode_wilayah")
        if not isinstance(kode, list) or not all(isinstance(k, str) for k in kode):
            raise BadRequest("kode_wilayah harus daftar kode wilayah")
        return JSONResponse({"meta": {"code": 200}, "data": [luas(k) for k in kode]})

    async def cari(request: Request) -> Response:
        found = by_nik.get((await json_body(request)).get("nik") or "")
        if found is None:
            return JSONResponse(_error(404, "petani tidak terdaftar", request), 404)
        return JSONResponse({"meta": {"code": 200}, "data": found})

    return build_service(
        title=TITLE,
        routes=[
            ("GET", "/v1/desa/{kode_desa}/petani", petani_desa),
            ("POST", "/v1/luas-tanam", luas_tanam),
            ("POST", "/v1/petani/cari", cari),
        ],
        openapi=OPENAPI,
        key_header="x-api-key",
        api_key=api_key,
        error_body=_error,
    )


OPENAPI = openapi_document(
    TITLE,
    "Registered farmers and planted area (ha) per desa, kecamatan, regency or province.",
    {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
    {
        "/v1/desa/{kode_desa}/petani": {"get": op("Farmers of a desa (paged)", params=[
            param("kode_desa", "path"), param("halaman", kind="integer"),
            param("per_halaman", kind="integer")])},
        "/v1/luas-tanam": {"post": op("Planted area per region code (batch)", body={
            "kode_wilayah": {"type": "array", "items": {"type": "string"}}})},
        "/v1/petani/cari": {"post": op("A farmer by NIK", body={"nik": {"type": "string"}})},
    },
)  # fmt: skip
