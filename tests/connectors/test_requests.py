"""Request building: the URL table of the digest (§3.1), headers (§3.2), bodies (§3.3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.connectors.request import HttpRequest, build_request
from gateway.connectors.sdl import read_connectors
from gateway.connectors.template import TemplateError, parse_template

BASE = "https://samsat.example.go.id/api/v1"

SDL = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])
  @link(url: "https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"])
  @source(name: "samsat", http: {
    baseURL: "BASE_URL",
    headers: [{name: "x-api-key", value: "{$config.kunci}"}, {name: "x-trace", from: "x-trace"},
              {name: "accept", value: "application/json"}]
  })

type Kendaraan { nopol: ID! merek: String }
type Wilayah { kode: ID! }

type Query {
  kendaraan(nopol: ID!): Kendaraan
    @connect(source: "samsat", http: {GET: "/kendaraan/{$args.nopol}"}, selection: "nopol merek")
  pajak(tahun: Int, kode: String): [Kendaraan]
    @connect(source: "samsat", http: {GET: "/pajak?tahun={$args.tahun}&kode={$args.kode}"},
             selection: "nopol")
  daftar(daftar: [String], jenis: String): [Kendaraan]
    @connect(source: "samsat",
             http: {GET: "/kendaraan", queryParams: "nopol: $args.daftar jenis: $args.jenis"},
             selection: "nopol")
  wilayah(prov: String, kab: String): [Wilayah]
    @connect(source: "samsat", http: {GET: "/wilayah", path: "$([$args.prov, $args.kab])"},
             selection: "kode")
  cari(nopol: ID!): Kendaraan
    @connect(source: "samsat", http: {POST: "/cari",
             headers: [{name: "accept", value: "text/plain"}],
             body: "nopol: $args.nopol pembayaran: { nominal: $(10) kanal: $('VA') }"},
             selection: "nopol")
  formulir(nopol: ID!): Kendaraan
    @connect(source: "samsat", http: {POST: "/form",
             headers: [{name: "content-type", value: "application/x-www-form-urlencoded"}],
             body: "pemohon: { nik: $('3201') } berkas: $(['ktp', 'kk'])"}, selection: "nopol")
}
""".replace("BASE_URL", BASE)

MODEL = read_connectors("kendaraan", SDL)


def _request(
    field: str, args: dict[str, Any], headers: dict[str, list[str]] | None = None
) -> HttpRequest:
    assert MODEL is not None
    connector = MODEL.connector(f"kendaraan:Query.{field}[0]")
    variables = {"$args": args, "$config": {"kunci": "k-1"}, "$context": {}}
    return build_request(connector, MODEL.sources["samsat"], variables, headers or {})


@pytest.mark.parametrize(
    ("field", "args", "url"),
    [
        ("kendaraan", {"nopol": "B 1234 XY"}, f"{BASE}/kendaraan/B%201234%20XY"),
        ("pajak", {"tahun": 2024}, f"{BASE}/pajak?tahun=2024&kode="),
        ("daftar", {"daftar": ["B1", "D2"], "jenis": None}, f"{BASE}/kendaraan?nopol=B1&nopol=D2"),
        ("wilayah", {"prov": "32", "kab": "32/04"}, f"{BASE}/wilayah/32/32%2F04"),
        ("kendaraan", {"nopol": "a/b?c&d=é"}, f"{BASE}/kendaraan/a%2Fb%3Fc%26d%3D%C3%A9"),
    ],
)
def test_url_table(field: str, args: dict[str, Any], url: str) -> None:
    assert _request(field, args).url == url


def test_headers_connect_wins_source_fills_from_copies_every_value() -> None:
    request = _request("cari", {"nopol": "B 1"}, {"x-trace": ["t1", "t2"]})
    assert request.headers == (
        ("accept", "text/plain"),
        ("x-api-key", "k-1"),
        ("x-trace", "t1"),
        ("x-trace", "t2"),
        ("content-type", "application/json"),
    )
    assert request.method == "POST"


def test_json_body_is_compact() -> None:
    body = _request("cari", {"nopol": "B 1"}).body
    assert body == b'{"nopol":"B 1","pembayaran":{"nominal":10,"kanal":"VA"}}'
    assert json.loads(body or b"")["nopol"] == "B 1"


def test_form_body_is_qs_encoded() -> None:
    request = _request("formulir", {"nopol": "B 1"})
    assert request.body == b"pemohon%5Bnik%5D=3201&berkas%5B0%5D=ktp&berkas%5B1%5D=kk"
    assert request.header("content-type") == "application/x-www-form-urlencoded"


def test_an_array_in_a_url_is_a_request_error() -> None:
    with pytest.raises(TemplateError) as caught:
        _request("kendaraan", {"nopol": ["a", "b"]})
    assert caught.value.code == "CONNECTOR_REQUEST_INVALID"


def test_template_drops_line_breaks_and_nests_braces() -> None:
    template = parse_template("/a\n  /b/{$args.x->echo({ v: @ })->jsonStringify}", (0, 2))
    assert template.render({"$args": {"x": 1}}, url=True) == "/a  /b/%7B%22v%22%3A1%7D".replace(
        "a  /", "a%20%20/"
    )


@pytest.mark.parametrize("bad", ["/a/{$args.x", "/a/}", "/a/{$args.}"])
def test_bad_templates_are_coded(bad: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(bad, (0, 2))
    assert caught.value.code == "CONNECTOR_TEMPLATE_SYNTAX"
