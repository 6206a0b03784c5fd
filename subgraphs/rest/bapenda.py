"""Bapenda Provinsi Lampung, e-Samsat: vehicles by owner NIK, tax status, totals per region.

Its own style: ``/api/v1``, snake_case, ``{"status": "success", "data": ...}`` envelopes,
``{"status": "error", "message": ...}`` errors, the API key in ``X-Api-Key``. Owner NIKs travel
in the POST body, never in the URL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import BadRequest, build_service, json_body, op, openapi_document, param
from .world import RestWorld

TITLE = "Bapenda Lampung e-Samsat API"
MAX_BATCH = 100


def _error(status: int, message: str, _: Request) -> dict[str, Any]:
    return {"status": "error", "message": message}


def create_app(world: RestWorld, api_key: str) -> Starlette:
    by_nopol = {k["nopol"]: k for k in world.kendaraan}
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for k in world.kendaraan:
        by_owner[k["nik_pemilik"]].append(k)

    async def kendaraan(request: Request) -> Response:
        found = by_nopol.get(request.path_params["nopol"])
        if found is None:
            return JSONResponse(_error(404, "Kendaraan tidak ditemukan", request), 404)
        return JSONResponse({"status": "success", "data": found})

    async def cari(request: Request) -> Response:
        niks = (await json_body(request)).get("nik_pemilik")
        niks = [niks] if isinstance(niks, str) else niks
        if not isinstance(niks, list) or not all(isinstance(n, str) for n in niks):
            raise BadRequest("nik_pemilik wajib diisi (string atau daftar string)")
        if len(niks) > MAX_BATCH:
            raise BadRequest(f"paling banyak {MAX_BATCH} NIK per permintaan")
        data = [{"nik_pemilik": n, "kendaraan": by_owner.get(n, [])} for n in niks]
        return JSONResponse({"status": "success", "data": data})

    async def rekap(request: Request) -> Response:
        kode = request.query_params.get("kabupaten", "18")
        if len(kode) not in (2, 5):
            return JSONResponse(
                _error(404, "rekap hanya tersedia per provinsi atau kabupaten/kota", request), 404
            )
        rows = [k for k in world.kendaraan if k["kode_wilayah"].startswith(kode)]
        jenis = Counter(k["jenis_kendaraan"] for k in rows)
        data = {
            "kode_wilayah": kode,
            "jumlah_kendaraan": len(rows),
            "roda_dua": jenis["RODA_DUA"],
            "roda_empat": jenis["RODA_EMPAT"],
            "menunggak": sum(1 for k in rows if k["pajak"]["status_bayar"] == "B"),
            "potensi_pkb": sum(k["pajak"]["pkb"] for k in rows),
        }
        return JSONResponse({"status": "success", "data": data})

    return build_service(
        title=TITLE,
        routes=[
            ("GET", "/api/v1/kendaraan/{nopol}", kendaraan),
            ("POST", "/api/v1/kendaraan/cari", cari),
            ("GET", "/api/v1/rekap", rekap),
        ],
        openapi=OPENAPI,
        key_header="x-api-key",
        api_key=api_key,
        error_body=_error,
    )


OPENAPI = openapi_document(
    TITLE,
    "Vehicle registrations and motor vehicle tax (PKB) of Lampung province.",
    {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
    {
        "/api/v1/kendaraan/{nopol}": {"get": op("A vehicle by plate number",
                                                params=[param("nopol", "path")])},
        "/api/v1/kendaraan/cari": {"post": op(
            "Vehicles of one or more owners (NIK in the body, at most 100)",
            body={"nik_pemilik": {"type": "array", "items": {"type": "string"}}})},
        "/api/v1/rekap": {"get": op("Totals per province or regency",
                                    params=[param("kabupaten")])},
    },
)  # fmt: skip
