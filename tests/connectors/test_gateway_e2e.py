"""The gateway serves connector subgraphs end to end, over HTTP: the five Strawberry OPD subgraphs
and the five REST OPDs (real loopback servers) behind one secured gateway on the ten-OPD
supergraph composed by ``@apollo/composition`` (tests/connectors/data/opd-supergraph.graphql;
``test_the_committed_supergraph_is_what_apollo_composes`` keeps it current).

Authorization, masking and audit act on supergraph fields, so connector fields get them exactly
as subgraph fields do; a REST service that is down degrades only its own fields.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.assembly import assemble
from gateway.audit.store import SqliteAuditStore
from gateway.auth.cli import mint_token
from gateway.auth.config import ApplicationSeed, PurposeApproval, PurposeSeed
from gateway.config import Settings, dev_settings
from gateway.connectors.config import ConnectorSourceSection, ConnectorsSection
from gateway.errors import GatewayError
from subgraphs.rest import REST_OPDS
from subgraphs.rest.world import RestWorld
from tests.auth.harness import OpdWorld
from tests.connectors.conftest import RestOpd

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = Path(__file__).parent / "data" / "opd-supergraph.graphql"
REFERENCE = ROOT / "tools" / "reference"

#: Bapenda's own tax-collection application (e-Samsat keliling): vehicles and their owners
SAMSAT = ApplicationSeed(
    id="samsat-keliling",
    name="Samsat Keliling (Bapenda)",
    opd="Bapenda",
    scopes=["kependudukan:read", "kependudukan:nik", "bapenda:read", "pertanian:read"],
    purposes=["penagihan_pkb"],
)
PENAGIHAN = PurposeSeed(
    id="penagihan_pkb",
    name="Penagihan pajak kendaraan bermotor",
    legal_basis="Perda Lampung 4/2023 (Pajak Daerah)",
    valid_from=date(2025, 1, 1),
    valid_until=date(2027, 12, 31),
    approvals={
        "Bapenda": PurposeApproval(
            scopes=["kependudukan:read", "kependudukan:nik", "bapenda:read", "pertanian:read"],
            policies=["data_pribadi"],
        )
    },
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def connector_settings(
    rest_opds: dict[str, RestOpd], base_urls: dict[str, str] | None = None
) -> ConnectorsSection:
    sources = {}
    for name, opd in rest_opds.items():
        path = urlsplit(opd.model.sources[opd.source].base_url.source).path
        key = f"{name}.{opd.source}"
        sources[key] = ConnectorSourceSection(
            base_url=(base_urls or {}).get(key, opd.url + path),
            config={"apiKey": opd.key},  # type: ignore[dict-item]
        )
    return ConnectorsSection(sources=sources, timeout=5)


def gateway_settings(tmp_path: Path, connectors: ConnectorsSection) -> Settings:
    settings = dev_settings(Settings(), tmp_path)
    applications = settings.auth.applications.model_copy(
        update={
            "seed": [*settings.auth.applications.seed, SAMSAT],
            "purposes": [*settings.auth.applications.purposes, PENAGIHAN],
        }
    )
    auth = settings.auth.model_copy(update={"applications": applications})
    return settings.model_copy(update={"auth": auth, "connectors": connectors})


@pytest.fixture
async def client(
    opd_world: OpdWorld, rest_opds: dict[str, RestOpd], tmp_path: Path, request: Any
) -> AsyncIterator[httpx.AsyncClient]:
    base_urls = getattr(request, "param", None)
    settings = gateway_settings(tmp_path, connector_settings(rest_opds, base_urls))
    assembly = assemble(
        settings, supergraph_sdl=SUPERGRAPH.read_text(), subgraph_urls=opd_world.urls
    )
    app = assembly.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


def headers(application: str | None, purpose: str | None = None) -> dict[str, str]:
    out = {"content-type": "application/json"}
    if application == SAMSAT.id:
        token = mint_token(application, scopes=SAMSAT.scopes, opd=SAMSAT.opd)
        out["authorization"] = f"Bearer {token}"
    elif application:
        out["authorization"] = f"Bearer {mint_token(application)}"
    if purpose:
        out["x-jamajama-purpose"] = purpose
    return out


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    application: str | None = "samsat-keliling",
    purpose: str | None = "penagihan_pkb",
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers(application, purpose),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def owner_with_vehicles(world: RestWorld, opd_world: OpdWorld) -> tuple[str, list[str]]:
    known = set(opd_world.niks())
    by_owner: dict[str, list[str]] = {}
    for vehicle in world.kendaraan:
        by_owner.setdefault(vehicle["nik_pemilik"], []).append(vehicle["nopol"])
    nik = next(n for n in sorted(by_owner) if n in known)
    return nik, sorted(by_owner[nik])


CROSS_AGENCY = """
query ($nik: String!) {
  penduduk(nik: $nik) {
    nama
    wilayah { nama }
    kendaraan { nopol merek pajak { pkb status } }
  }
}
"""


async def test_a_residents_vehicle_tax_from_bapenda_with_their_data_from_kependudukan(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld
) -> None:
    nik, plates = owner_with_vehicles(rest_world, opd_world)
    body = await post(client, CROSS_AGENCY, {"nik": nik})
    assert "errors" not in body, body
    resident = body["data"]["penduduk"]
    assert resident["nama"] and resident["wilayah"]["nama"]
    assert sorted(v["nopol"] for v in resident["kendaraan"]) == plates
    expected = {v["nopol"]: v for v in rest_world.kendaraan if v["nik_pemilik"] == nik}
    for vehicle in resident["kendaraan"]:
        source = expected[vehicle["nopol"]]
        assert vehicle["merek"] == source["merek"]
        assert vehicle["pajak"]["pkb"] == source["pajak"]["pkb"]
        status = {"L": "LUNAS", "B": "BELUM_BAYAR"}[source["pajak"]["status_bayar"]]
        assert vehicle["pajak"]["status"] == status


async def test_a_vehicle_by_plate_then_its_owner_across_agencies(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld
) -> None:
    nik, plates = owner_with_vehicles(rest_world, opd_world)
    query = """query ($nopol: String!) {
      kendaraan(nopol: $nopol) { nopol tahunBuat pemilik { nik nama kendaraan { nopol } } }
    }"""
    body = await post(client, query, {"nopol": plates[0]})
    assert "errors" not in body, body
    vehicle = body["data"]["kendaraan"]
    assert vehicle["nopol"] == plates[0]
    owner = vehicle["pemilik"]
    assert owner["nik"] == nik and owner["nama"]
    # Penduduk.kendaraan of a Penduduk that a connector made: the type's $batch connector
    assert sorted(v["nopol"] for v in owner["kendaraan"]) == plates


async def test_an_aggregate_per_kabupaten_across_connector_and_subgraph_opds(
    client: httpx.AsyncClient, rest_world: RestWorld
) -> None:
    query = """{ kabupatenKota {
      kode nama jumlahPenduduk
      rekapKendaraan { jumlahKendaraan }
      luasTanam { jumlahPetani padiHa }
    } }"""
    body = await post(client, query, application="dasbor-gubernur", purpose=None)
    assert "errors" not in body, body
    rows = body["data"]["kabupatenKota"]
    assert len(rows) == 15
    for row in rows:
        vehicles = [v for v in rest_world.kendaraan if v["kode_wilayah"].startswith(row["kode"])]
        assert row["rekapKendaraan"]["jumlahKendaraan"] == len(vehicles)
        assert row["luasTanam"]["jumlahPetani"] >= 0
    assert sum(r["rekapKendaraan"]["jumlahKendaraan"] for r in rows) == len(rest_world.kendaraan)


async def test_connector_personal_data_is_refused_without_scope_or_purpose(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld
) -> None:
    nik, _ = owner_with_vehicles(rest_world, opd_world)
    query = "query ($nik: String!) { penduduk(nik: $nik) { nama kendaraan { nopol } } }"
    # SIBANSOS has no bapenda:read scope
    body = await post(client, query, {"nik": nik}, "sibansos", "penyaluran_bansos")
    assert body["data"]["penduduk"]["nama"] and body["data"]["penduduk"]["kendaraan"] is None
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"UNAUTHORIZED_FIELD_OR_TYPE"}
    assert {tuple(e["path"]) for e in body["errors"]} == {("penduduk", "kendaraan")}
    # the right application, but no purpose: personal data needs one
    body = await post(client, query, {"nik": nik}, purpose=None)
    assert body["data"]["penduduk"] is None or body["data"]["penduduk"]["kendaraan"] is None
    assert body["errors"]


async def test_an_identifier_from_a_connector_is_masked_without_reveal_scope(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld, tmp_path: Path
) -> None:
    """The owner's NIK comes out of Bapenda's mapping (``pemilik: { nik: nik_pemilik }``):
    without kependudukan:nik the caller reads a pseudonym, as for Disdukcapil's own field."""
    nik, plates = owner_with_vehicles(rest_world, opd_world)
    query = "query ($nopol: String!) { kendaraan(nopol: $nopol) { pemilik { nik } } }"
    token = mint_token(SAMSAT.id, scopes=["bapenda:read", "kependudukan:read"], opd=SAMSAT.opd)
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"nopol": plates[0]}},
        headers={"authorization": f"Bearer {token}", "x-jamajama-purpose": "penagihan_pkb"},
    )
    body = response.json()
    shown = body["data"]["kendaraan"]["pemilik"]["nik"]
    assert shown and shown != nik
    revealed = await post(client, query, {"nopol": plates[0]})
    assert revealed["data"]["kendaraan"]["pemilik"]["nik"] == nik


async def test_a_personal_data_connector_field_is_audited(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld, tmp_path: Path
) -> None:
    nik, _ = owner_with_vehicles(rest_world, opd_world)
    body = await post(client, CROSS_AGENCY, {"nik": nik})
    assert "errors" not in body
    store = SqliteAuditStore(tmp_path / "audit.sqlite3")
    try:
        records = [json.loads(r.body) for r in await store.records()]
    finally:
        await store.aclose()
    text = json.dumps(records)
    assert "Penduduk.kendaraan" in text
    (record,) = [r for r in records if "Penduduk.kendaraan" in json.dumps(r)]
    assert record["application"] == "samsat-keliling"
    assert record["purpose"] == "penagihan_pkb"


@pytest.mark.parametrize("client", [{"bapenda.samsat": "http://127.0.0.1:9/api/v1"}], indirect=True)
async def test_a_rest_service_down_degrades_only_its_own_fields(
    client: httpx.AsyncClient, rest_world: RestWorld, opd_world: OpdWorld
) -> None:
    nik, _ = owner_with_vehicles(rest_world, opd_world)
    query = """query ($nik: String!) {
      penduduk(nik: $nik) { nama kendaraan { nopol } petani { kelompokTani } }
    }"""
    body = await post(client, query, {"nik": nik})
    resident = body["data"]["penduduk"]
    assert resident["nama"]
    assert resident["kendaraan"] is None
    assert "petani" in resident  # Tanaman Pangan still answers (null: not a farmer, or a value)
    (error,) = body["errors"]
    assert error["path"] == ["penduduk", "kendaraan"]
    assert error["extensions"]["code"] == "HTTP_CLIENT_ERROR"


async def test_plans_print_connector_fetches_with_method_and_url_template(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql/plan",
        json={"query": '{ kendaraan(nopol: "BE 1 A") { merek } }'},
        headers=headers("samsat-keliling", "penagihan_pkb"),
    )
    assert response.status_code == 200, response.text
    plan = response.json()["plan"]
    assert 'Fetch(service: "bapenda") {' in plan
    assert 'connect GET "/kendaraan/{$args.nopol}" (bapenda.samsat)' in plan


@pytest.mark.node
def test_the_committed_supergraph_is_what_apollo_composes(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (REFERENCE / "node_modules" / "@apollo" / "composition").exists():
        pytest.skip("the reference composer is not installed (cd tools/reference && npm ci)")
    args = [node, str(REFERENCE / "compose.mjs"), "--composer", "apollo"]
    for path in [
        *sorted((ROOT / "schema").glob("*.graphql")),
        *sorted((ROOT / "schema" / "rest").glob("*.graphql")),
    ]:
        if path.stem != "supergraph":
            args.append(f"{path.stem}={path}")
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == SUPERGRAPH.read_text().strip(), (
        "regenerate tests/connectors/data/opd-supergraph.graphql with "
        "node tools/reference/compose.mjs --composer apollo ..."
    )


def test_every_rest_opd_is_in_the_committed_supergraph() -> None:
    text = SUPERGRAPH.read_text()
    for name in REST_OPDS:
        assert f'@join__graph(name: "{name}"' in text


def test_a_supergraph_with_invalid_connectors_is_refused_with_every_problem(
    tmp_path: Path,
) -> None:
    broken = SUPERGRAPH.read_text().replace(
        "jumlahPegawai: Int @join__field(graph: BKD) @join__directive(graphs: [BKD], "
        'name: "connect", args: {source: "simpeg", http: {GET: "/statistik/wilayah/{$this.kode}"}',
        "jumlahPegawai: Int @join__field(graph: BKD) @join__directive(graphs: [BKD], "
        'name: "connect", args: {source: "simpeg", http: {GET: "/statistik/wilayah/{$this.kota}"}',
    )
    assert broken != SUPERGRAPH.read_text()
    settings = dev_settings(Settings(), tmp_path)
    with pytest.raises(GatewayError) as caught:
        assemble(settings, supergraph_sdl=broken)
    assert caught.value.code == "CONNECTOR_SCHEMA_INVALID"
    assert "bkd:Wilayah.jumlahPegawai[0]" in caught.value.message
