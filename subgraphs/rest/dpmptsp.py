"""DPMPTSP Provinsi Lampung (one-stop permits, OSS): business permits by NIB and by owner NIK.

Its own style: ``{"success": true, "result": ...}`` envelopes, errors as
``{"success": false, "error": {"code", "message"}}``, the API key in ``X-OSS-Key``. The NIB is a
business identifier (public register) and goes in the URL; an owner's NIK only in the body.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import BadRequest, build_service, json_body, op, openapi_document, param
from .world import RestWorld

TITLE = "DPMPTSP Lampung Perizinan API"
CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND"}


def _error(status: int, message: str, _: Request) -> dict[str, Any]:
    return {"success": False, "error": {"code": CODES.get(status, "ERROR"), "message": message}}


def create_app(world: RestWorld, api_key: str) -> Starlette:
    by_nib = {i["nib"]: i for i in world.izin}
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in world.izin:
        by_owner[i["nik_pemilik"]].append(i)

    async def izin(request: Request) -> Response:
        found = by_nib.get(request.path_params["nib"])
        if found is None:
            return JSONResponse(_error(404, "NIB tidak terdaftar", request), 404)
        return JSONResponse({"success": True, "result": found})

    async def pemilik(request: Request) -> Response:
        niks = (await json_body(request)).get("nik")
        if isinstance(niks, str):
            return JSONResponse({"success": True, "result": by_owner.get(niks, [])})
        if not isinstance(niks, list):
            raise BadRequest("nik harus string atau daftar string")
        result = [{"nik": n, "izin": by_owner.get(n, [])} for n in niks]
        return JSONResponse({"success": True, "result": result})

    async def rekap(request: Request) -> Response:
        kode = request.query_params.get("wilayah", "18")
        rows = [i for i in world.izin if i["kode_kecamatan"].startswith(kode)]
        skala = Counter(i["skala_usaha"] for i in rows)
        per_skala = {s: skala[s] for s in ("MIKRO", "KECIL", "MENENGAH", "BESAR")}
        result = {"kode_wilayah": kode, "jumlah_izin": len(rows), "per_skala": per_skala}
        return JSONResponse({"success": True, "result": result})

    return build_service(
        title=TITLE,
        routes=[
            ("GET", "/api/izin/{nib}", izin),
            ("POST", "/api/izin/pemilik", pemilik),
            ("GET", "/api/rekap", rekap),
        ],
        openapi=OPENAPI,
        key_header="x-oss-key",
        api_key=api_key,
        error_body=_error,
    )


OPENAPI = openapi_document(
    TITLE,
    "Business permits (NIB) issued through the one-stop service.",
    {"type": "apiKey", "in": "header", "name": "X-OSS-Key"},
    {
        "/api/izin/{nib}": {"get": op("A permit by NIB", params=[param("nib", "path")])},
        "/api/izin/pemilik": {"post": op(
            "Permits of an owner (NIK string) or of several (NIK list: grouped per NIK)",
            body={"nik": {"oneOf": [{"type": "string"},
                                    {"type": "array", "items": {"type": "string"}}]}})},
        "/api/rekap": {"get": op("Permits per region and scale", params=[param("wilayah")])},
    },
)  # fmt: skip
