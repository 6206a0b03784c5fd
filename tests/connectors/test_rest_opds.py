"""The five REST OPD services: each in its own style, with an OpenAPI document, an API key, and
data that agrees with the GraphQL OPDs (same residents, real region codes)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

from subgraphs.kit.reference import regions_by_kode
from subgraphs.rest import REST_OPDS, create_app
from subgraphs.rest.world import RestWorld
from tests.connectors.conftest import RestOpd

#: name -> (key header, value prefix, a path that needs the key, the 401 body's style check)
AUTH: dict[str, tuple[str, str, str, Any]] = {
    "bapenda": ("x-api-key", "", "/api/v1/rekap", lambda b: b["status"] == "error"),
    "bkd": ("authorization", "Bearer ", "/api/opd",
            lambda b: b["status"] == 401 and b["error"] == "Unauthorized" and b["path"]),
    "tanaman_pangan": ("x-api-key", "", "/v1/luas-tanam", lambda b: b["meta"]["code"] == 401),
    "dpmptsp": ("x-oss-key", "", "/api/rekap", lambda b: b["error"]["code"] == "UNAUTHORIZED"),
    "bpbd": ("apikey", "", "/kejadian", lambda b: b["errors"][0]["status"] == "401"),
}  # fmt: skip


def _client(opd: RestOpd) -> httpx.Client:
    header, prefix, _, _ = AUTH[opd.name]
    return httpx.Client(base_url=opd.url, headers={header: prefix + opd.key}, timeout=10)


@pytest.mark.parametrize("name", list(REST_OPDS))
def test_every_route_is_in_the_openapi_document_and_needs_the_key(
    name: str, rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    opd = rest_opds[name]
    spec = httpx.get(f"{opd.url}/openapi.json").json()  # the document itself is public
    assert spec["openapi"].startswith("3.")
    app = create_app(name, rest_world, "k")
    public = ("/openapi.json", "/health")
    routes = {r.path for r in app.routes if r.path not in public}  # type: ignore[attr-defined]
    assert routes == set(spec["paths"])
    # jamajama dev waits on /health: no key, the OPD's name
    assert httpx.get(f"{opd.url}/health").json() == {"status": "ok", "service": name}
    _, _, path, style = AUTH[name]
    method = "post" if "post" in spec["paths"][path] else "get"
    answer = httpx.request(method, f"{opd.url}{path}", json={})
    assert answer.status_code == 401 and style(answer.json())


def test_data_agrees_with_the_graphql_opds(rest_world: RestWorld) -> None:
    residents, codes = rest_world.by_nik, regions_by_kode()
    assert all(k["nik_pemilik"] in residents and k["kode_wilayah"] in codes
               for k in rest_world.kendaraan)  # fmt: skip
    assert all(p["nik"] in residents and p["kodeWilayahKerja"] in codes
               for p in rest_world.pegawai)  # fmt: skip
    assert all(residents[p["nik"]].pekerjaan == "Petani/Pekebun" and p["kode_desa"] in codes
               for p in rest_world.petani)  # fmt: skip
    assert all(i["nik_pemilik"] in residents and i["kode_kecamatan"] in codes
               for i in rest_world.izin)  # fmt: skip
    assert all(e["kode_kecamatan"] in codes for e in rest_world.kejadian)
    assert len({k["nopol"] for k in rest_world.kendaraan}) == len(rest_world.kendaraan)
    assert len({p["nip"] for p in rest_world.pegawai}) == len(rest_world.pegawai)
    assert all(len(p["nip"]) == 18 and p["nip"].isdigit() for p in rest_world.pegawai)
    assert all(len(i["nib"]) == 13 for i in rest_world.izin)
    for table in ("kendaraan", "pegawai", "petani", "izin", "kejadian"):
        assert getattr(rest_world, table), f"{table} is empty at the test scale"


def test_same_seed_same_data(rest_world: RestWorld) -> None:
    again = RestWorld(list(rest_world.residents), rest_world.seed)
    assert again.kendaraan == rest_world.kendaraan
    assert again.kejadian == rest_world.kejadian
    other = RestWorld(list(rest_world.residents), rest_world.seed + 1)
    assert other.kendaraan != rest_world.kendaraan


def test_bkd_spring_pages(rest_opds: dict[str, RestOpd]) -> None:
    with _client(rest_opds["bkd"]) as client:
        first = client.get("/api/opd", params={"page": 0, "size": 4}).json()
        last = client.get("/api/opd", params={"page": 2, "size": 4}).json()
        bad = client.get("/api/opd", params={"size": 0})
    assert first["totalElements"] == 9 and first["totalPages"] == 3 and len(first["content"]) == 4
    assert len(last["content"]) == 1
    assert bad.status_code == 400 and bad.json()["error"] == "Bad Request"


def test_bpbd_links_next_walks_every_event(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    seen: list[str] = []
    with _client(rest_opds["bpbd"]) as client:
        url: str | None = "/kejadian?kecamatan=18.01&page=1&limit=7"
        while url is not None:
            page = client.get(url).json()
            seen += [item["id"] for item in page["data"]]
            url = page["links"]["next"]
    assert seen == [e["id"] for e in rest_world.kejadian if e["kode_kecamatan"].startswith("18.01")]


def test_identifiers_are_taken_from_bodies(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    owner = rest_world.izin[0]["nik_pemilik"]
    with _client(rest_opds["dpmptsp"]) as client:
        single = client.post("/api/izin/pemilik", json={"nik": owner}).json()
        batch = client.post("/api/izin/pemilik", json={"nik": [owner, "x"]}).json()
        bad = client.post("/api/izin/pemilik", content=b"[1]")
    assert {i["nib"] for i in single["result"]} >= {rest_world.izin[0]["nib"]}
    assert batch["result"][1] == {"nik": "x", "izin": []}
    assert bad.status_code == 400 and bad.json()["success"] is False


def test_cli_lists_the_rest_opds() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "rest", "list"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert [line.split()[0] for line in out.splitlines()] == list(REST_OPDS)
