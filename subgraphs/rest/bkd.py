"""BKD Provinsi Lampung (civil servants): an employee by NIP, employees of residents, OPD list.

Its own style (a Spring Boot application): camelCase, Spring pages (``content``,
``totalElements``, ``page``, ``size``), Spring error bodies (``timestamp``, ``status``,
``error``, ``message``, ``path``), ``Authorization: Bearer <key>``. NIP and NIK (personal
identifiers) only in POST bodies.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from subgraphs.kit.generator import REFERENCE_DATE

from .common import BadRequest, build_service, json_body, op, openapi_document, param
from .world import OPD, RestWorld

TITLE = "BKD Lampung SIMPEG API"
REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


def _error(status: int, message: str, request: Request) -> dict[str, Any]:
    return {
        "timestamp": f"{REFERENCE_DATE.isoformat()}T00:00:00.000+07:00",
        "status": status,
        "error": REASONS.get(status, "Error"),
        "message": message,
        "path": request.url.path,
    }


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError as error:
        raise BadRequest(f"{name} must be an integer") from error


def create_app(world: RestWorld, api_key: str) -> Starlette:
    by_nip = {p["nip"]: p for p in world.pegawai}
    by_nik = {p["nik"]: p for p in world.pegawai}

    async def cari(request: Request) -> Response:
        nip = (await json_body(request)).get("nip")
        found = by_nip.get(nip) if isinstance(nip, str) else None
        if found is None:
            return JSONResponse(_error(404, "Pegawai tidak ditemukan", request), 404)
        return JSONResponse(found)

    async def by_niks(request: Request) -> Response:
        niks = (await json_body(request)).get("nik")
        if not isinstance(niks, list):
            raise BadRequest("nik must be an array")
        return JSONResponse([{"nik": n, "pegawai": by_nik.get(n)} for n in niks])

    async def opd(request: Request) -> Response:
        page, size = _int(request, "page", 0), _int(request, "size", 20)
        if page < 0 or not 1 <= size <= 100:
            raise BadRequest("page >= 0 and 1 <= size <= 100")
        counts = Counter(p["kodeOpd"] for p in world.pegawai)
        rows = [{"kodeOpd": k, "namaOpd": n, "jumlahPegawai": counts[k]} for k, n in OPD]
        return JSONResponse({
            "content": rows[page * size : (page + 1) * size], "page": page, "size": size,
            "totalElements": len(rows), "totalPages": -(-len(rows) // size),
        })  # fmt: skip

    async def statistik(request: Request) -> Response:
        kode = request.path_params["kode"]
        rows = [p for p in world.pegawai if p["kodeWilayahKerja"].startswith(kode[:5])]
        if len(kode) not in (2, 5):
            return JSONResponse(_error(404, "statistik per provinsi atau kab/kota", request), 404)
        return JSONResponse({
            "kodeWilayah": kode, "jumlahPegawai": len(rows),
            "perGolongan": dict(sorted(Counter(p["golongan"] for p in rows).items())),
        })  # fmt: skip

    return build_service(
        title=TITLE,
        routes=[
            ("POST", "/api/pegawai/cari", cari),
            ("POST", "/api/pegawai/by-nik", by_niks),
            ("GET", "/api/opd", opd),
            ("GET", "/api/statistik/wilayah/{kode}", statistik),
        ],
        openapi=OPENAPI,
        key_header="authorization",
        api_key=api_key,
        error_body=_error,
        bearer=True,
    )


OPENAPI = openapi_document(
    TITLE,
    "Civil servants (ASN) of Lampung province and the OPDs they work for.",
    {"type": "http", "scheme": "bearer"},
    {
        "/api/pegawai/cari": {"post": op("An employee by NIP", body={"nip": {"type": "string"}})},
        "/api/pegawai/by-nik": {"post": op(
            "Employees among residents (NIK list)",
            body={"nik": {"type": "array", "items": {"type": "string"}}})},
        "/api/opd": {"get": op("OPDs (paged)", params=[param("page", kind="integer"),
                                                      param("size", kind="integer")])},
        "/api/statistik/wilayah/{kode}": {"get": op("Employees per region",
                                                    params=[param("kode", "path")])},
    },
)  # fmt: skip
