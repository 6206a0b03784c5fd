"""Serving a connector subgraph's operations (gateway.connectors.operation/serving), no network:
the subgraph operations the planner sends, executed by connectors against a fake HTTP transport
that answers like the REST OPDs. The ten-OPD supergraph gives the models and the schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from graphql import build_schema, parse

from gateway.connectors.config import ConnectorSourceSection, ConnectorsSection
from gateway.connectors.request import HttpRequest
from gateway.connectors.sdl import read_connectors
from gateway.connectors.serving import ConnectorServing
from gateway.connectors.supergraph import read_supergraph_connectors
from gateway.connectors.transport import HttpResponse
from gateway.planner import build_query_plan, print_plan
from gateway.sections import ConfigError
from gateway.supergraph import load_supergraph

SUPERGRAPH = (Path(__file__).parent / "data" / "opd-supergraph.graphql").read_text()
NIK_A, NIK_B, NIK_C = "1801010101800001", "1801010101800002", "1801010101800003"

Handler = Callable[[HttpRequest], tuple[int, Any]]


class FakeHttp:
    """Answers every request with ``handler(request)`` -> (status, JSON body); records them."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sent: list[HttpRequest] = []
        self.keys: list[str] = []

    async def fetch(self, key: str, url: str, body: dict[str, Any]) -> HttpResponse:
        request: HttpRequest = body["request"]
        self.sent.append(request)
        self.keys.append(key)
        await asyncio.sleep(0)
        status, payload = self.handler(request)
        headers = {"content-type": ["application/json"]}
        return HttpResponse(status, headers, json.dumps(payload).encode())


def bapenda(request: HttpRequest) -> tuple[int, Any]:
    path = urlsplit(request.url).path
    vehicles = {
        NIK_A: [{"nopol": "BE 1 A", "merek": "Honda", "tahun_buat": 2019, "jenis_kendaraan":
                 "RODA_DUA", "pajak": {"pkb": 100, "jatuh_tempo": "2026-01-01",
                                        "status_bayar": "L"}}],
        NIK_B: [],
    }  # fmt: skip
    if path == "/api/v1/kendaraan/cari":
        niks = json.loads(request.body or b"{}")["nik_pemilik"]
        data = [{"nik_pemilik": n, "kendaraan": vehicles[n]} for n in niks if n in vehicles]
        return 200, {"status": "success", "data": data}
    if path.startswith("/api/v1/kendaraan/"):
        if path.endswith("/BE%201%20A"):
            return 200, {"status": "success", "data": {**vehicles[NIK_A][0], "nik_pemilik": NIK_A}}
        return 404, {"status": "error", "message": "Kendaraan tidak ditemukan"}
    if path == "/api/v1/rekap":
        kode = parse_qs(urlsplit(request.url).query)["kabupaten"][0]
        return 200, {"status": "success", "data": {"jumlah_kendaraan": int(kode), "roda_dua": 1,
                                                   "roda_empat": 0, "menunggak": 0}}  # fmt: skip
    return 404, {"status": "error", "message": "no route"}


def serving(
    handler: Handler,
    section: ConnectorsSection | None = None,
    headers: Mapping[str, str] | None = None,
    sdl: str = SUPERGRAPH,
) -> tuple[ConnectorServing, FakeHttp]:
    supergraph = load_supergraph(sdl, authorization_enforced=True)
    http = FakeHttp(handler)
    served = ConnectorServing(
        read_supergraph_connectors(sdl),
        supergraph.schema,
        http,
        section or ConnectorsSection(),
        client_headers=lambda: headers,
    )
    return served, http


def run(
    served: ConnectorServing, subgraph: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    transport = served.wrap(None)
    body = {"query": query, "variables": variables or {}}
    result: dict[str, Any] = asyncio.run(transport.fetch(subgraph, "http://unused", body))
    return result


def test_a_root_field_with_aliases_fragments_typename_and_skip() -> None:
    served, http = serving(bapenda)
    query = """query ($nopol: String!, $tanpa: Boolean!) {
      mobil: kendaraan(nopol: $nopol) {
        __typename
        ... on Kendaraan { nopol tahun: tahunBuat }
        ...Pajak
        merek @skip(if: $tanpa)
      }
    }
    fragment Pajak on Kendaraan { pajak { status pkb } }"""
    result = run(served, "bapenda", query, {"nopol": "BE 1 A", "tanpa": True})
    assert result == {
        "data": {
            "mobil": {
                "__typename": "Kendaraan",
                "nopol": "BE 1 A",
                "tahun": 2019,
                "pajak": {"status": "LUNAS", "pkb": 100},
            }
        }
    }
    assert [(r.method, urlsplit(r.url).path) for r in http.sent] == [
        ("GET", "/api/v1/kendaraan/BE%201%20A")
    ]


def test_a_failed_root_connector_is_an_error_on_its_path_with_the_apis_message() -> None:
    served, _ = serving(bapenda)
    result = run(served, "bapenda", '{ kendaraan(nopol: "X 1") { merek } }')
    assert result["data"] == {"kendaraan": None}
    (error,) = result["errors"]
    assert error["path"] == ["kendaraan"]
    assert error["message"] == "Kendaraan tidak ditemukan"
    assert error["extensions"]["code"] == "CONNECTOR_FETCH"
    assert error["extensions"]["opd"] == "BAPENDA"
    assert error["extensions"]["http"] == {"status": 404}


ENTITIES = """query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Penduduk { kendaraan { nopol pajak { status } } }
    ... on Wilayah { rekapKendaraan { jumlahKendaraan } }
  }
}"""


def test_entities_of_two_types_batch_once_and_call_once_per_parent() -> None:
    served, http = serving(bapenda)
    representations = [
        {"__typename": "Penduduk", "nik": NIK_A},
        {"__typename": "Wilayah", "kode": "1801"},
        {"__typename": "Penduduk", "nik": NIK_B},
        {"__typename": "Penduduk", "nik": NIK_A},  # a duplicate shares the batch slot
        {"__typename": "Penduduk", "nik": NIK_C},  # not answered by the API
        {"__typename": "Wilayah", "kode": "1802"},
    ]
    result = run(served, "bapenda", ENTITIES, {"representations": representations})
    a = {"kendaraan": [{"nopol": "BE 1 A", "pajak": {"status": "LUNAS"}}]}
    assert result == {
        "data": {
            "_entities": [
                a,
                {"rekapKendaraan": {"jumlahKendaraan": 1801}},
                {"kendaraan": []},
                a,
                {"kendaraan": None},
                {"rekapKendaraan": {"jumlahKendaraan": 1802}},
            ]
        }
    }
    batches = [r for r in http.sent if r.method == "POST"]
    assert len(batches) == 1
    assert json.loads(batches[0].body or b"") == {"nik_pemilik": [NIK_A, NIK_B, NIK_C]}
    # the NIKs went in the body; the region codes in the query string, one call each
    assert sorted(urlsplit(r.url).query for r in http.sent if r.method == "GET") == [
        "kabupaten=1801",
        "kabupaten=1802",
    ]
    assert set(http.keys) == {"bapenda.samsat"}


def test_an_entity_connector_failure_is_reported_on_the_field_it_left_empty() -> None:
    served, _ = serving(lambda request: (503, {"status": "error", "message": "pemeliharaan"}))
    representations = [{"__typename": "Penduduk", "nik": NIK_A}]
    result = run(served, "bapenda", ENTITIES, {"representations": representations})
    assert result["data"] == {"_entities": [{"kendaraan": None}]}
    (error,) = result["errors"]
    assert error["path"] == ["_entities", 0, "kendaraan"]
    assert error["extensions"]["code"] == "CONNECTOR_FETCH"
    assert error["message"] == "pemeliharaan"


def test_a_nested_entity_made_by_a_connector_is_completed_by_its_types_connector() -> None:
    """``kendaraan(nopol) { pemilik { kendaraan } }``: the owner is only ``{nik}`` in the
    vehicle's mapping; Penduduk's $batch connector completes it."""
    served, http = serving(bapenda)
    query = '{ kendaraan(nopol: "BE 1 A") { pemilik { nik kendaraan { nopol } } } }'
    result = run(served, "bapenda", query)
    assert result == {
        "data": {"kendaraan": {"pemilik": {"nik": NIK_A, "kendaraan": [{"nopol": "BE 1 A"}]}}}
    }
    assert [r.method for r in http.sent] == ["GET", "POST"]


def test_an_entity_true_query_field_resolves_representations_with_args() -> None:
    def bkd(request: HttpRequest) -> tuple[int, Any]:
        nip = json.loads(request.body or b"{}")["nip"]
        return 200, {"nip": nip, "golongan": "III/a", "jabatan": "Analis", "tmtCpns": "2010",
                     "kodeOpd": "D1", "namaOpd": "Diskominfo", "nik": NIK_A}  # fmt: skip

    served, http = serving(bkd)
    query = """query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Pegawai { golongan opd { nama } } }
    }"""
    reps = [{"__typename": "Pegawai", "nip": "198001012010011001"}]
    result = run(served, "bkd", query, {"representations": reps})
    assert result == {"data": {"_entities": [{"golongan": "III/a", "opd": {"nama": "Diskominfo"}}]}}
    assert [urlsplit(r.url).path for r in http.sent] == ["/api/pegawai/cari"]


def test_source_config_base_url_and_only_configured_client_headers() -> None:
    sdl = SUPERGRAPH.replace(
        '{name: "x-api-key", value: "{$config.apiKey}"}',
        '{name: "x-api-key", value: "{$config.apiKey}"}, {name: "x-loket", from: "x-loket"}, '
        '{name: "x-lain", from: "x-lain"}',
    )
    section = ConnectorsSection(
        sources={
            "bapenda.samsat": ConnectorSourceSection(
                base_url="http://samsat.test/v9",
                config={"apiKey": "rahasia"},  # type: ignore[dict-item]
                propagate_headers=["X-Loket"],
            )
        }
    )
    served, http = serving(
        lambda request: (200, {"data": {"nopol": "BE 1 A"}}),
        section,
        headers={"x-loket": "L-07", "x-lain": "bocor", "authorization": "Bearer token"},
        sdl=sdl,
    )
    run(served, "bapenda", '{ kendaraan(nopol: "BE 1 A") { nopol } }')
    (request,) = http.sent
    assert request.url == "http://samsat.test/v9/kendaraan/BE%201%20A"
    sent = dict(request.headers)
    assert sent["x-api-key"] == "rahasia"
    assert sent["x-loket"] == "L-07"
    assert "x-lain" not in sent and "authorization" not in sent


IDENTIFIER_SDL = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])
  @link(url: "https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"])
  @source(name: "api", http: {baseURL: "http://api.test"})

type Penduduk @key(fields: "nik") {
  nik: String!
  bantuan: Int
    @connect(source: "api", http: {GET: "/bantuan", queryParams: "$this"}, selection: "jumlah")
}
type Query {
  cari(kata: String!): Int @connect(source: "api", http: {GET: "/cari?q={$args.kata}"},
                                     selection: "$.jumlah")
}
"""
IDENTIFIER_SCHEMA = """
scalar _Any
type Penduduk { nik: String! bantuan: Int }
type Query { cari(kata: String!): Int }
"""


def identifier_serving() -> tuple[ConnectorServing, FakeHttp]:
    model = read_connectors("api", IDENTIFIER_SDL)
    assert model is not None
    http = FakeHttp(lambda request: (200, {"jumlah": 1}))
    served = ConnectorServing(
        {"api": model}, build_schema(IDENTIFIER_SCHEMA), http, ConnectorsSection()
    )
    return served, http


def test_an_identifier_never_travels_in_a_url_even_when_validation_cannot_see_it() -> None:
    """``queryParams: "$this"`` names no field, so validation lets it through; the request
    built for a Penduduk would carry the NIK in its query string: it is not sent."""
    served, http = identifier_serving()
    query = """query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Penduduk { bantuan } }
    }"""
    reps = [{"__typename": "Penduduk", "nik": NIK_A}]
    result = run(served, "api", query, {"representations": reps})
    assert http.sent == []
    assert result["data"] == {"_entities": [{"bantuan": None}]}
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "CONNECTOR_IDENTIFIER_IN_URL"
    assert error["path"] == ["_entities", 0, "bantuan"]
    assert NIK_A not in json.dumps(result)


def test_free_text_arguments_may_travel_in_a_url() -> None:
    served, http = identifier_serving()
    result = run(served, "api", '{ cari(kata: "padi sawah") }')
    assert result == {"data": {"cari": 1}}
    assert [r.url for r in http.sent] == ["http://api.test/cari?q=padi%20sawah"]


def test_a_plan_prints_the_connectors_a_fetch_calls() -> None:
    served, _ = serving(bapenda)
    supergraph = load_supergraph(SUPERGRAPH, authorization_enforced=True)
    plan = build_query_plan(
        supergraph,
        parse('{ kendaraan(nopol: "BE 1 A") { merek pemilik { nama kendaraan { nopol } } } }'),
    )
    text = print_plan(plan, served.describe)
    assert (
        'Fetch(service: "bapenda") {\n'
        '      connect GET "/kendaraan/{$args.nopol}" (bapenda.samsat)\n'
        '      connect POST "/kendaraan/cari" (bapenda.samsat) (batch)\n'
    ) in text
    # subgraph fetches print as before
    assert 'Fetch(service: "kependudukan") {\n        {\n' in text
    assert print_plan(plan).count("connect ") == 0


def test_config_values_come_from_secret_files_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "kunci"
    secret.write_text("dari-berkas\n")
    monkeypatch.setenv("KUNCI_BAPENDA", "dari-lingkungan")
    source = ConnectorSourceSection(
        config={"a": "nilai", "b": "ditimpa"},  # type: ignore[dict-item]
        config_files={"b": secret},
        config_env={"c": "KUNCI_BAPENDA"},
    )
    section = ConnectorsSection(sources={"bapenda.samsat": source})
    assert section.source_config() == {
        "bapenda.samsat": {"a": "nilai", "b": "dari-berkas", "c": "dari-lingkungan"}
    }
    monkeypatch.delenv("KUNCI_BAPENDA")
    with pytest.raises(ConfigError, match=r"\$config.c needs the variable KUNCI_BAPENDA"):
        section.source_config()
    missing = ConnectorSourceSection(config_files={"b": tmp_path / "tidak-ada"})
    with pytest.raises(ConfigError, match=r"cannot read the \$config.b file"):
        ConnectorsSection(sources={"x.y": missing}).source_config()


def test_a_merged_fetch_with_aliased_entities_and_a_root_field() -> None:
    """The planner's fetch merging sends independent fetches to one subgraph as one document."""
    served, http = serving(bapenda)
    query = """query ($r0: [_Any!]!, $r1: [_Any!]!) {
      e0: _entities(representations: $r0) { ... on Penduduk { kendaraan { nopol } } }
      e1: _entities(representations: $r1) { ... on Wilayah { rekapKendaraan { jumlahKendaraan } } }
      kendaraan(nopol: "X 9") { merek }
    }"""
    variables = {
        "r0": [{"__typename": "Penduduk", "nik": NIK_A}],
        "r1": [{"__typename": "Wilayah", "kode": "1801"}],
    }
    result = run(served, "bapenda", query, variables)
    assert result["data"] == {
        "e0": [{"kendaraan": [{"nopol": "BE 1 A"}]}],
        "e1": [{"rekapKendaraan": {"jumlahKendaraan": 1801}}],
        "kendaraan": None,
    }
    (error,) = result["errors"]
    assert error["path"] == ["kendaraan"]
    assert len(http.sent) == 3
    text = "\n".join(served.describe("bapenda", query))
    assert "connect POST" in text and 'connect GET "/rekap"' in text
