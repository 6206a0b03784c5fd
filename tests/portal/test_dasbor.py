"""Dasbor Provinsi against real subgraphs behind a real gateway: the figures equal the
subgraphs' own, a subgraph down shows its figures as unavailable, the dashboard token sees no
personal data, CORS is open to the portal's origin only."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx

from gateway.portal.app import create_app
from gateway.portal.graph import GraphClient
from tests.portal.conftest import portal_for as _portal
from tests.portal.conftest import sign_in
from tests.portal.world import PORTAL_ORIGIN, PortalWorld
from tests.servers import serve


def _entities(
    url: str, fields: str, codes: list[str], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    reps = [{"__typename": "Wilayah", "kode": c, **((extra or {}).get(c, {}))} for c in codes]
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        f"{{ ... on Wilayah {{ kode {fields} }} }} }}"
    )
    body = httpx.post(url, json={"query": query, "variables": {"r": reps}}, timeout=10).json()
    return {e["kode"]: e for e in body["data"]["_entities"]}


def _cells(html: str) -> dict[str, dict[str, str]]:
    rows = re.findall(r'<tr data-kode="([^"]+)">(.*?)</tr>', html, re.S)
    return {
        kode: dict(re.findall(r'<td class="num" data-key="([^"]+)">(.*?)</td>', body, re.S))
        for kode, body in rows
    }


def test_the_dashboard_figures_equal_the_subgraphs(world: PortalWorld) -> None:
    with (
        serve(create_app(_portal(world.gateway, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, "dpo")
        page = client.get("/dasbor")
    assert page.status_code == 200
    cells = _cells(page.text)
    assert len(cells) == 15
    codes = list(cells)
    urls = world.opd.urls
    pop = _entities(urls["kependudukan"], "jumlahPenduduk", codes)
    jkn = _entities(
        urls["kesehatan"],
        "cakupanJkn",
        codes,
        {c: {"jumlahPenduduk": pop[c]["jumlahPenduduk"]} for c in codes},
    )
    schools = _entities(urls["pendidikan"], "jumlahSekolah", codes)
    families = _entities(urls["sosial"], "jumlahKeluargaPenerima", codes)
    from gateway.portal import fmt

    for kode in codes:
        assert cells[kode]["jumlahPenduduk"] == fmt.angka(pop[kode]["jumlahPenduduk"])
        assert cells[kode]["cakupanJkn"] == fmt.persen(100 * jkn[kode]["cakupanJkn"])
        assert cells[kode]["jumlahSekolah"] == fmt.angka(schools[kode]["jumlahSekolah"])
        assert cells[kode]["jumlahKeluargaPenerima"] == fmt.angka(
            families[kode]["jumlahKeluargaPenerima"]
        )
    assert all(p["jumlahPenduduk"] for p in pop.values())  # real figures, not zeros


def test_a_subgraph_down_shows_its_figures_unavailable_and_the_rest(world: PortalWorld) -> None:
    with (
        serve(create_app(_portal(world.gateway_down, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, "operator")
        page = client.get("/dasbor")
    cells = _cells(page.text)
    assert len(cells) == 15
    assert all(c["cakupanJkn"] == '<span class="na">tidak tersedia</span>' for c in cells.values())
    assert all(re.fullmatch(r"[\d.]+", c["jumlahPenduduk"]) for c in cells.values())
    assert "Cakupan JKN (Dinas Kesehatan)" in page.text


def test_drill_down_lists_the_kecamatan_of_a_kabupaten(world: PortalWorld) -> None:
    with (
        serve(create_app(_portal(world.gateway, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, "dpo")
        page = client.get("/dasbor/18.71")
        missing = client.get("/dasbor/99.99")
    assert page.status_code == 200 and "Kota Bandar Lampung" in page.text
    assert len(_cells(page.text)) > 1
    assert missing.status_code == 404


def test_an_unreachable_gateway_is_an_error_state(tmp_path: Path) -> None:
    from tests.portal.world import closed_port_url

    gateway = closed_port_url().removesuffix("/graphql")
    with serve(create_app(_portal(gateway, gateway))) as url, httpx.Client(base_url=url) as client:
        sign_in(client, "dpo")
        page = client.get("/dasbor")
    assert page.status_code == 200 and "Gateway tidak dapat dihubungi" in page.text


def test_the_dashboard_token_reaches_no_personal_data(world: PortalWorld) -> None:
    graph = GraphClient(_portal(world.gateway, world.registry))
    nik = world.opd.niks(1)[0]
    query = "query($nik: String!) { penduduk(nik: $nik) { nama alamat } }"
    result = asyncio.run(graph.query(query, {"nik": nik}))
    assert result.errors  # refused, with a reason
    assert (result.data or {}).get("penduduk") is None
    assert nik not in str(result.data)


def test_cors_is_open_to_the_portal_origin_only(world: PortalWorld) -> None:
    def preflight(origin: str) -> httpx.Response:
        return httpx.options(
            f"{world.gateway}/graphql",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )

    assert preflight(PORTAL_ORIGIN).headers.get("access-control-allow-origin") == PORTAL_ORIGIN
    assert "access-control-allow-origin" not in preflight("http://evil.example").headers
