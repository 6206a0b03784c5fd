"""Dasbor Provinsi: the 15 kabupaten/kota (and the kecamatan of one) from one federated query
on the public endpoint — population, JKN coverage, schools, families receiving assistance.

Sorting is server-side (links in the table headers, usable without JavaScript); the bar chart is
drawn by the bundled Chart.js from the same figures. A figure a subgraph could not give (null,
with an error) shows as "tidak tersedia" and the rest renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.portal.app import Portal
from gateway.portal.graph import GraphClient, GraphResult
from gateway.portal.layout import render
from gateway.portal.pages import Page

FIGURES = """
  kode
  nama
  jumlahPenduduk
  cakupanJkn
  jumlahSekolah
  jumlahKeluargaPenerima
"""
PROVINSI = f"query DasborProvinsi {{ kabupatenKota {{ {FIGURES} }} }}"
KECAMATAN = (
    f"query DasborKecamatan($kode: String!) {{ wilayah(kode: $kode) {{ kode nama tingkat "
    f"children {{ {FIGURES} }} }} }}"
)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    #: the OPD whose subgraph gives it (named when it is unavailable)
    source: str
    percent: bool = False


COLUMNS = (
    Column("jumlahPenduduk", "Penduduk", "Dinas Kependudukan dan Pencatatan Sipil"),
    Column("cakupanJkn", "Cakupan JKN", "Dinas Kesehatan", percent=True),
    Column("jumlahSekolah", "Sekolah", "Dinas Pendidikan dan Kebudayaan"),
    Column("jumlahKeluargaPenerima", "Keluarga penerima bantuan", "Dinas Sosial"),
)
SORTABLE = {"nama", *(c.key for c in COLUMNS)}


def _sorted(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows by ``key``; unavailable figures last whichever the direction."""
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    return sorted(present, key=lambda r: r[key], reverse=descending) + missing


def _unavailable(result: GraphResult, rows: list[dict[str, Any]]) -> list[Column]:
    """The columns a subgraph failed to give (null everywhere, or named by an error's path)."""
    failed = {p.rsplit(".", 1)[-1] for p in result.failed_paths()}
    return [
        c for c in COLUMNS if c.key in failed or (rows and all(r.get(c.key) is None for r in rows))
    ]


def _chart_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "labels": [r["nama"] for r in rows],
        "series": [
            {
                "key": c.key,
                "label": c.label,
                "percent": c.percent,
                "values": [
                    None
                    if r.get(c.key) is None
                    else round(100 * r[c.key], 1)
                    if c.percent
                    else r[c.key]
                    for r in rows
                ],
            }
            for c in COLUMNS
        ],
    }


async def _table(
    request: Request, result: GraphResult, rows: list[dict[str, Any]], **context: Any
) -> Response:
    key = request.query_params.get("urut", "nama")
    key = key if key in SORTABLE else "nama"
    descending = request.query_params.get("arah") == "turun"
    rows = _sorted(rows, key, descending)
    return render(
        request,
        "dasbor.html",
        rows=rows,
        columns=COLUMNS,
        sort_key=key,
        descending=descending,
        unavailable=_unavailable(result, rows),
        unreachable=result.unreachable,
        chart=_chart_data(rows),
        **context,
    )


async def provinsi(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request)
    result = await GraphClient(portal.settings).query(PROVINSI, operation="DasborProvinsi")
    rows = list((result.data or {}).get("kabupatenKota") or [])
    return await _table(request, result, rows, wilayah=None)


async def kecamatan(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request)
    kode = request.path_params["kode"]
    result = await GraphClient(portal.settings).query(
        KECAMATAN, {"kode": kode}, operation="DasborKecamatan"
    )
    wilayah = (result.data or {}).get("wilayah")
    if wilayah is None and not result.unreachable:
        return render(request, "tidak-ditemukan.html", status_code=404, what=f"Wilayah {kode}")
    rows = list((wilayah or {}).get("children") or [])
    return await _table(request, result, rows, wilayah=wilayah)


PAGE = Page(
    path="/dasbor",
    routes=[
        Route("/dasbor", provinsi, methods=["GET"]),
        Route("/dasbor/{kode:str}", kecamatan, methods=["GET"]),
    ],
    nav="Dasbor Provinsi",
    roles=(),
)
