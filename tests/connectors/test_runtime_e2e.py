"""``execute_connector`` end to end, over loopback HTTP against the real REST OPD services (and one
small failing service): root connectors, ``$batch`` entities, bounded concurrency, error paths,
timeouts and the circuit breaker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.connectors.model import ConnectorSubgraph
from gateway.connectors.request import HttpRequest
from gateway.connectors.runtime import (
    ConnectorContext,
    ConnectorInput,
    ConnectorResult,
    execute_connector,
)
from gateway.connectors.sdl import read_connectors
from gateway.connectors.transport import AiohttpConnectorTransport, as_fetch_body
from gateway.errors import SubgraphError
from gateway.executor.resilience import CircuitBreaker
from subgraphs.rest.world import RestWorld
from tests.connectors.conftest import RestOpd
from tests.servers import ServerThread


class CountingTransport:
    """The real transport, counting requests and the most requests in flight at once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.requests.append((body["request"].method, url))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self.inner.fetch(subgraph, url, body)
        finally:
            self.in_flight -= 1


def run(
    opd: RestOpd | None,
    coordinate: str,
    inputs: Sequence[ConnectorInput],
    *,
    model: ConnectorSubgraph | None = None,
    base_url: str | None = None,
    key: str | None = None,
    max_concurrency: int = 8,
    timeout: float = 5.0,
    wrap: Any = None,
    source_timeout: float | None = None,
) -> tuple[ConnectorResult, CountingTransport]:
    model = model or (opd.model if opd else None)
    assert model is not None
    source_name = opd.source if opd else next(iter(model.sources))
    source = model.sources[source_name]
    if base_url is None:
        assert opd is not None
        base_url = opd.url + urlsplit(source.base_url.source).path

    async def go() -> tuple[ConnectorResult, CountingTransport]:
        inner = AiohttpConnectorTransport(timeout=timeout)
        counting = CountingTransport(inner)
        transport = wrap(counting) if wrap else counting
        context = ConnectorContext(
            subgraph=model,
            transport=transport,
            config={f"{model.name}.{source_name}": {"apiKey": key or (opd.key if opd else "")}},
            base_urls={f"{model.name}.{source_name}": base_url},
            max_concurrency=max_concurrency,
            timeouts={f"{model.name}.{source_name}": source_timeout} if source_timeout else {},
        )
        try:
            return await execute_connector(model.connector(coordinate), inputs, context), counting
        finally:
            await inner.aclose()

    return asyncio.run(go())


# ------------------------------------------------------------------ root and entity connectors


def test_root_connector_maps_the_envelope_enums_and_an_entity_reference(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    vehicle = rest_world.kendaraan[3]
    result, transport = run(
        rest_opds["bapenda"],
        "bapenda:Query.kendaraan[0]",
        [ConnectorInput(args={"nopol": vehicle["nopol"]}, path=("kendaraan",))],
    )
    assert result.errors == []
    status = {"L": "LUNAS", "B": "BELUM_BAYAR"}[vehicle["pajak"]["status_bayar"]]
    assert result.data == [{
        "nopol": vehicle["nopol"], "jenis": vehicle["jenis_kendaraan"], "merek": vehicle["merek"],
        "tahunBuat": vehicle["tahun_buat"],
        "pajak": {"pkb": vehicle["pajak"]["pkb"], "jatuhTempo": vehicle["pajak"]["jatuh_tempo"],
                  "status": status},
        "pemilik": {"nik": vehicle["nik_pemilik"]},
    }]  # fmt: skip
    nopol = vehicle["nopol"].replace(" ", "%20")
    assert transport.requests == [("GET", f"{rest_opds['bapenda'].url}/api/v1/kendaraan/{nopol}")]


def test_entity_query_field_posts_the_identifier_in_the_body(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    pegawai = rest_world.pegawai[0]
    result, transport = run(
        rest_opds["bkd"],
        "bkd:Query.pegawai[0]",
        [ConnectorInput(args={"nip": pegawai["nip"]}, path=("_entities", 0))],
    )
    assert result.errors == []
    assert result.data[0]["opd"] == {"kode": pegawai["kodeOpd"], "nama": pegawai["namaOpd"]}
    assert result.data[0]["penduduk"] == {"nik": pegawai["nik"]}
    assert pegawai["nip"] not in transport.requests[0][1]  # never in the URL


def test_batch_entity_connector_makes_one_call_and_matches_by_key(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    owners = sorted({k["nik_pemilik"] for k in rest_world.kendaraan})[:4]
    without = next(r.nik for r in rest_world.residents if r.nik not in set(owners) and r.umur < 10)
    niks = [owners[2], without, owners[0], owners[1], owners[3]]
    inputs = [
        ConnectorInput(this={"__typename": "Penduduk", "nik": n}, path=("_entities", i))
        for i, n in enumerate(niks)
    ]
    result, transport = run(rest_opds["bapenda"], "bapenda:Penduduk[0]", inputs)
    assert result.errors == []
    assert len(transport.requests) == 1
    assert transport.requests[0][0] == "POST"
    for nik, value in zip(niks, result.data, strict=True):
        expected = sorted(k["nopol"] for k in rest_world.kendaraan if k["nik_pemilik"] == nik)
        assert value["nik"] == nik
        assert sorted(k["nopol"] for k in value["kendaraan"]) == expected


def test_batch_max_size_splits_into_chunks_and_sums_agree_with_the_data(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    kecamatan = sorted({p["kode_desa"][:8] for p in rest_world.petani})[:120]
    inputs = [
        ConnectorInput(this={"kode": k}, path=("_entities", i)) for i, k in enumerate(kecamatan)
    ]
    result, transport = run(rest_opds["tanaman_pangan"], "tanaman_pangan:Wilayah[0]", inputs)
    assert result.errors == []
    assert len(transport.requests) == 3  # maxSize 50
    for kode, value in zip(kecamatan, result.data, strict=True):
        rows = [p for p in rest_world.petani if p["kode_desa"].startswith(kode)]
        assert value["kode"] == kode
        assert value["luasTanam"]["jumlahPetani"] == len(rows)
        assert value["luasTanam"]["padiHa"] == pytest.approx(
            sum(p["luas_tanam_padi_ha"] for p in rows), abs=0.01
        )


def test_unbatched_connector_runs_with_bounded_concurrency(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    kecamatan = sorted({e["kode_kecamatan"] for e in rest_world.kejadian})[:12]
    inputs = [ConnectorInput(this={"kode": k}, path=("wilayah", i, "rekapBencana"))
              for i, k in enumerate(kecamatan)]  # fmt: skip
    result, transport = run(
        rest_opds["bpbd"], "bpbd:Wilayah.rekapBencana[0]", inputs, max_concurrency=3
    )
    assert result.errors == []
    assert len(transport.requests) == 12
    assert transport.max_in_flight == 3
    for kode, value in zip(kecamatan, result.data, strict=True):
        rows = [e for e in rest_world.kejadian if e["kode_kecamatan"] == kode]
        assert value == {
            "jumlahKejadian": len(rows),
            "korbanJiwa": sum(e["korban_jiwa"] for e in rows),
            "rumahRusak": sum(e["rumah_rusak"] for e in rows),
            "pengungsi": sum(e["pengungsi"] for e in rows),
        }


def test_field_connector_with_arguments_and_merged_attributes(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    kode = rest_world.kejadian[0]["kode_kecamatan"]
    result, _ = run(
        rest_opds["bpbd"],
        "bpbd:Wilayah.kejadianBencana[0]",
        [ConnectorInput(args={"limit": 1}, this={"kode": kode}, path=("wilayah", "kejadian"))],
    )
    assert result.errors == []
    first = rest_world.kejadian[0]
    assert result.data == [[{
        "id": first["id"], "jenis": first["jenis"], "tanggal": first["tanggal"],
        "korbanJiwa": first["korban_jiwa"], "rumahRusak": first["rumah_rusak"],
        "pengungsi": first["pengungsi"], "kecamatan": {"kode": kode},
    }]]  # fmt: skip


def test_is_success_turns_a_404_into_null_without_error(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    farmer = rest_world.petani[0]
    other = next(r.nik for r in rest_world.residents if r.pekerjaan != "Petani/Pekebun")
    inputs = [
        ConnectorInput(this={"nik": n}, path=("p", i)) for i, n in enumerate([farmer["nik"], other])
    ]
    result, _ = run(rest_opds["tanaman_pangan"], "tanaman_pangan:Penduduk.petani[0]", inputs)
    assert result.errors == []
    assert result.data[0]["kelompokTani"] == farmer["kelompok_tani"]
    assert result.data[1] is None
    # the 404 body has "data": null: mapping it records problems, reported as diagnostics only
    assert result.problems == [
        f"Property .{key} not found in null"
        for key in ("kelompok_tani", "luas_tanam_padi_ha", "luas_tanam_jagung_ha")
    ]


# ------------------------------------------------------------------ errors


def test_404_becomes_a_coded_error_on_the_path_with_the_body_message(
    rest_opds: dict[str, RestOpd],
) -> None:
    result, _ = run(
        rest_opds["bapenda"],
        "bapenda:Query.kendaraan[0]",
        [ConnectorInput(args={"nopol": "BE 0000 ZZ"}, path=("kendaraan",))],
    )
    assert result.data == [None]
    assert result.errors == [{
        "message": "Kendaraan tidak ditemukan",
        "path": ["kendaraan"],
        "extensions": {"http": {"status": 404}, "opd": "BAPENDA", "code": "CONNECTOR_FETCH",
                       "service": "bapenda",
                       "connector": {"coordinate": "bapenda:Query.kendaraan[0]"}},
    }]  # fmt: skip


def test_source_extensions_read_the_error_body(rest_opds: dict[str, RestOpd]) -> None:
    result, _ = run(
        rest_opds["dpmptsp"],
        "dpmptsp:Query.izinUsaha[0]",
        [ConnectorInput(args={"nib": "0000000000000"}, path=("izinUsaha",))],
    )
    (error,) = result.errors
    assert error["message"] == "NIB tidak terdaftar"
    assert error["extensions"]["kodeGalat"] == "NOT_FOUND"
    assert error["extensions"]["code"] == "CONNECTOR_FETCH"


def test_a_wrong_api_key_is_a_401_error(rest_opds: dict[str, RestOpd]) -> None:
    result, _ = run(
        rest_opds["bkd"], "bkd:Query.daftarOpd[0]", [ConnectorInput(path=("daftarOpd",))],
        key="wrong",
    )  # fmt: skip
    (error,) = result.errors
    assert error["extensions"]["http"] == {"status": 401}
    assert error["message"] == "API key missing or invalid"


FAILING_SDL = """
extend schema
  @link(url: "https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"])
  @source(name: "uji", http: {baseURL: "http://127.0.0.1:1"}, errors: {message: "$.pesan"})
type Query {
  boom: String @connect(source: "uji", http: {GET: "/boom"}, selection: "$.x")
  bad: String @connect(source: "uji", http: {GET: "/bad"}, selection: "$.x")
  slow: String @connect(source: "uji", http: {GET: "/slow"}, selection: "$.x")
  daftar(kode: [String]): String @connect(source: "uji", http: {GET: "/x/{$args.kode}"},
                                          selection: "$")
}
type Wilayah @key(fields: "kode")
  @connect(source: "uji", http: {POST: "/one", body: "k: $batch.kode"}, selection: "kode")
{ kode: String! }
"""


@pytest.fixture(scope="module")
def failing() -> Iterator[tuple[str, ConnectorSubgraph]]:
    async def boom(_: Request) -> Response:
        return JSONResponse({"pesan": "database down"}, 500)

    async def bad(_: Request) -> Response:
        return Response(b"{not json", media_type="application/json")

    async def slow(_: Request) -> Response:
        await asyncio.sleep(2)
        return JSONResponse({"x": 1})

    async def echo(request: Request) -> Response:
        return Response(request.scope["raw_path"], media_type="text/plain")

    async def one(_: Request) -> Response:
        return JSONResponse({"kode": "18.71"})  # an object where the batch needs a list

    routes = [Route("/boom", boom), Route("/bad", bad), Route("/slow", slow),
              Route("/one", one, methods=["POST"]), Route("/x/{rest:path}", echo)]  # fmt: skip
    app = Starlette(routes=routes)
    model = read_connectors("uji", FAILING_SDL)
    assert model is not None
    with ServerThread(app) as server:
        yield server.url, model


def test_500_uses_the_error_mapping(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    result, _ = run(None, "uji:Query.boom[0]", [ConnectorInput(path=("boom",))],
                    model=model, base_url=url)  # fmt: skip
    assert result.data == [None]
    (error,) = result.errors
    assert (error["message"], error["path"], error["extensions"]["code"]) == (
        "database down",
        ["boom"],
        "CONNECTOR_FETCH",
    )
    assert error["extensions"]["http"] == {"status": 500}


def test_bad_json_is_response_invalid(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    result, _ = run(None, "uji:Query.bad[0]", [ConnectorInput(path=("a", 0, "bad"))],
                    model=model, base_url=url)  # fmt: skip
    (error,) = result.errors
    assert error["extensions"]["code"] == "CONNECTOR_RESPONSE_INVALID"
    assert error["path"] == ["a", 0, "bad"]
    assert error["message"] == "The server returned data in an unexpected format."


def test_request_mapping_error_is_request_invalid_and_sends_nothing(
    failing: tuple[str, ConnectorSubgraph],
) -> None:
    url, model = failing
    result, transport = run(
        None, "uji:Query.daftar[0]",
        [ConnectorInput(args={"kode": ["a", "b"]}, path=("daftar",))], model=model, base_url=url,
    )  # fmt: skip
    assert [e["extensions"]["code"] for e in result.errors] == ["CONNECTOR_REQUEST_INVALID"]
    assert transport.requests == []


def test_batch_mapping_that_is_not_a_list_fails_every_representation(
    failing: tuple[str, ConnectorSubgraph],
) -> None:
    url, model = failing
    inputs = [ConnectorInput(this={"kode": k}, path=("_entities", i))
              for i, k in enumerate(["18.71", "18.72"])]  # fmt: skip
    result, _ = run(None, "uji:Wilayah[0]", inputs, model=model, base_url=url)
    assert result.data == [None, None]
    assert [e["extensions"]["code"] for e in result.errors] == ["CONNECTOR_RESPONSE_INVALID"] * 2
    assert [e["path"] for e in result.errors] == [["_entities", 0], ["_entities", 1]]


def test_timeout(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    result, _ = run(None, "uji:Query.slow[0]", [ConnectorInput(path=("slow",))],
                    model=model, base_url=url, timeout=0.3)  # fmt: skip
    assert [e["extensions"]["code"] for e in result.errors] == ["GATEWAY_TIMEOUT"]


def test_timeout_per_source(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    result, _ = run(None, "uji:Query.slow[0]", [ConnectorInput(path=("slow",))],
                    model=model, base_url=url, timeout=30, source_timeout=0.3)  # fmt: skip
    assert [e["extensions"]["code"] for e in result.errors] == ["GATEWAY_TIMEOUT"]
    assert "0.3s" in result.errors[0]["message"]


def test_connection_refused_is_a_client_error(failing: tuple[str, ConnectorSubgraph]) -> None:
    _, model = failing
    result, _ = run(None, "uji:Query.boom[0]", [ConnectorInput(path=("boom",))],
                    model=model, base_url="http://127.0.0.1:1")  # fmt: skip
    assert [e["extensions"]["code"] for e in result.errors] == ["HTTP_CLIENT_ERROR"]


def test_circuit_breaker_opens_per_source(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    # different arguments: four calls (identical inputs would share one)
    inputs = [ConnectorInput(args={"n": i}, path=("boom", i)) for i in range(4)]
    result, transport = run(
        None, "uji:Query.boom[0]", inputs, model=model, base_url=url, max_concurrency=1,
        wrap=lambda inner: CircuitBreaker(inner, failure_threshold=2, reset_seconds=60),
    )  # fmt: skip
    assert len(transport.requests) == 2  # the last two were refused without a call
    codes = [e["extensions"]["code"] for e in result.errors]
    assert codes == ["CONNECTOR_FETCH", "CONNECTOR_FETCH", "HTTP_CLIENT_ERROR", "HTTP_CLIENT_ERROR"]
    assert result.errors[-1]["extensions"]["circuit"] == "open"


def test_identical_unbatched_inputs_share_one_call(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    """Four regions, two codes: ``Wilayah.rekapKendaraan`` reads only ``$this.kode``."""
    inputs = [
        ConnectorInput(this={"kode": kode, "nama": str(i)}, path=("w", i))
        for i, kode in enumerate(["18.01", "18.02", "18.01", "18.01"])
    ]
    result, transport = run(rest_opds["bapenda"], "bapenda:Wilayah.rekapKendaraan[0]", inputs)
    assert result.errors == []
    assert sorted(url.rsplit("=", 1)[1] for _, url in transport.requests) == ["18.01", "18.02"]
    assert result.data[0] == result.data[2] == result.data[3] != result.data[1]


def test_duplicate_representations_share_one_batch_slot(
    rest_opds: dict[str, RestOpd], rest_world: RestWorld
) -> None:
    owner = rest_world.kendaraan[0]["nik_pemilik"]
    inputs = [ConnectorInput(this={"nik": owner}, path=("_entities", i)) for i in range(3)]
    result, transport = run(rest_opds["bapenda"], "bapenda:Penduduk[0]", inputs)
    assert result.errors == []
    assert len(transport.requests) == 1
    assert result.data[0] is not None and result.data[0]["nik"] == owner
    assert result.data[0] == result.data[1] == result.data[2]


def test_encoded_slashes_reach_the_api_as_sent(failing: tuple[str, ConnectorSubgraph]) -> None:
    url, model = failing
    result, transport = run(
        None, "uji:Query.daftar[0]", [ConnectorInput(args={"kode": "18/71 a"}, path=("d",))],
        model=model, base_url=url,
    )  # fmt: skip
    assert transport.requests == [("GET", f"{url}/x/18%2F71%20a")]
    assert result.errors == []
    assert result.data == ["/x/18%2F71%20a"]  # the raw path the API received


def test_a_body_beyond_the_cap_is_not_read_and_fails_with_a_stable_code(
    failing: tuple[str, ConnectorSubgraph],
) -> None:
    url, model = failing
    request = HttpRequest("GET", f"{url}/x/{'a' * 64}", ())

    async def fetch(limit: int) -> Any:
        transport = AiohttpConnectorTransport(max_response_bytes=limit)
        try:
            return await transport.fetch("uji.api", request.url, as_fetch_body(request))
        finally:
            await transport.aclose()

    with pytest.raises(SubgraphError) as caught:
        asyncio.run(fetch(16))
    assert caught.value.code == "SUBGRAPH_RESPONSE_TOO_LARGE"
    assert asyncio.run(fetch(1024)).status == 200

    class TooLarge:
        async def fetch(self, key: str, url: str, body: dict[str, Any]) -> Any:
            raise caught.value

    result, _ = run(
        None, "uji:Query.boom[0]", [ConnectorInput(path=("boom",))], model=model, base_url=url,
        wrap=lambda inner: TooLarge(),
    )  # fmt: skip
    (error,) = result.errors
    assert error["extensions"]["code"] == "SUBGRAPH_RESPONSE_TOO_LARGE"
    assert error["path"] == ["boom"]
