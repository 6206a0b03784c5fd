"""Reading connector SDL (links, renamed imports, versions) and the validation rules' codes."""

from __future__ import annotations

import pytest

from gateway.connectors.sdl import ConnectorSchemaError, read_connectors
from gateway.connectors.validate import is_identifier

HEAD = """
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])
  @link(url: "https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"])
  @source(name: "tani", http: {baseURL: "http://127.0.0.1:1/api"})
type Petani @key(fields: "nik") { nik: ID! nama: String lahan: Lahan desa: Wilayah }
type Lahan { luas: Float }
type Wilayah @key(fields: "kode") { kode: ID! petani: [Petani] }
"""


def test_a_valid_subgraph_is_read_with_coordinates_and_keys() -> None:
    model = read_connectors(
        "tani",
        HEAD
        + """
type Query {
  petani(desa: ID): [Petani] @connect(source: "tani", http: {GET: "/petani?desa={$args.desa}"},
                                      selection: "$.data { nik nama lahan: { luas: luas_ha } }")
}
extend type Wilayah @connect(source: "tani", http: {POST: "/desa", body: "kode: $batch.kode"},
                             batch: {maxSize: 10}, selection: "kode petani { nik }")
""",
    )
    assert model is not None
    assert [c.coordinate for c in model.connectors] == ["tani:Wilayah[0]", "tani:Query.petani[0]"]
    batch = model.connector("tani:Wilayah[0]")
    assert batch.is_batch and batch.batch_max_size == 10 and batch.key_fields("$batch") == ("kode",)
    assert model.sources["tani"].base_url.source == "http://127.0.0.1:1/api"


def test_renamed_imports_and_v0_1_are_accepted() -> None:
    sdl = """
extend schema
  @link(url: "https://specs.apollo.dev/connect/v0.1",
        import: [{name: "@connect", as: "@rest"}, "@source"])
type Query {
  a(x: String): String @rest(http: {GET: "https://x.example/a?x={$args.x}"}, selection: "$")
}
"""
    model = read_connectors("r", sdl)
    assert model is not None and model.version == (0, 1)
    assert model.connectors[0].url.source == "https://x.example/a?x={$args.x}"


def test_an_sdl_without_the_connect_link_is_not_a_connector_subgraph() -> None:
    assert read_connectors("x", "type Query { a: String }") is None


def test_unsupported_version() -> None:
    sdl = 'extend schema @link(url: "https://specs.apollo.dev/connect/v0.4", import: ["@connect"])'
    with pytest.raises(ConnectorSchemaError) as caught:
        read_connectors("x", sdl + "\ntype Query { a: String }")
    assert caught.value.problems[0].code == "CONNECTOR_VERSION_UNSUPPORTED"


#: (id, Query fields, the code expected among the problems)
BAD = [
    ("two-verbs",
     'a: String @connect(source: "tani", http: {GET: "/a", POST: "/a"}, selection: "$")',
     "CONNECTOR_HTTP_METHOD"),
    ("unknown-source", 'a: String @connect(source: "x", http: {GET: "/a"}, selection: "$")',
     "CONNECTOR_SOURCE_UNKNOWN"),
    ("absolute-with-source",
     'a: String @connect(source: "tani", http: {GET: "http://h/a"}, selection: "$")',
     "CONNECTOR_URL_INVALID"),
    ("relative-without-source", 'a: String @connect(http: {GET: "/a"}, selection: "$")',
     "CONNECTOR_URL_INVALID"),
    ("host-expression", 'a: String @connect(http: {GET: "http://{$config.h}/a"}, selection: "$")',
     "CONNECTOR_URL_INVALID"),
    ("unknown-argument",
     'a(x: ID): String @connect(source: "tani", http: {GET: "/a/{$args.y}"}, selection: "$")',
     "CONNECTOR_ARGUMENT_UNKNOWN"),
    ("unknown-variable",
     'a: String @connect(source: "tani", http: {GET: "/a/{$foo.y}"}, selection: "$")',
     "CONNECTOR_VARIABLE_UNKNOWN"),
    ("nik-in-url",
     'p(nik: ID!): Petani @connect(source: "tani", http: {GET: "/p/{$args.nik}"}, '
     'selection: "nik")',
     "CONNECTOR_IDENTIFIER_IN_URL"),
    ("nik-in-query-params",
     'p(nikPemilik: ID!): Petani @connect(source: "tani", '
     'http: {GET: "/p", queryParams: "n: $args.nikPemilik"}, selection: "nik")',
     "CONNECTOR_IDENTIFIER_IN_URL"),
    ("field-not-on-type",
     'p: Petani @connect(source: "tani", http: {GET: "/p"}, selection: "nik umur")',
     "CONNECTOR_SELECTION_INVALID"),
    ("group-on-scalar",
     'p: Petani @connect(source: "tani", http: {GET: "/p"}, selection: "nama: { x }")',
     "CONNECTOR_SELECTION_INVALID"),
    ("nested-field-checked",
     'p: Petani @connect(source: "tani", http: {GET: "/p"}, selection: "lahan { hektar }")',
     "CONNECTOR_SELECTION_INVALID"),
    ("selection-syntax",
     'p: Petani @connect(source: "tani", http: {GET: "/p"}, selection: "nik nama.x")',
     "CONNECTOR_SELECTION_SYNTAX"),
    ("reserved-header",
     'a: String @connect(source: "tani", http: {GET: "/a", headers: [{name: "Content-Length", '
     'value: "1"}]}, selection: "$")', "CONNECTOR_HEADER_INVALID"),
    ("from-accept",
     'a: String @connect(source: "tani", http: {GET: "/a", headers: [{name: "accept", '
     'from: "accept"}]}, selection: "$")', "CONNECTOR_HEADER_INVALID"),
    ("entity-list",
     'p(nik: ID!): [Petani] @connect(source: "tani", http: {POST: "/p", body: "nik: $args.nik"}, '
     'selection: "nik", entity: true)', "CONNECTOR_ENTITY_INVALID"),
    ("entity-argument-not-a-field",
     'p(id: ID!): Petani @connect(source: "tani", http: {POST: "/p", body: "id: $args.id"}, '
     'selection: "nik", entity: true)', "CONNECTOR_ENTITY_INVALID"),
    ("batch-on-field",
     'a: String @connect(source: "tani", http: {POST: "/a", body: "x: $batch.nik"}, '
     'selection: "$")',
     "CONNECTOR_BATCH_INVALID"),
    ("root-field-without-connect", "a: String", "CONNECTOR_FIELD_UNRESOLVED"),
    ("argument-field-without-connect",
     'a: Hasil @connect(source: "tani", http: {GET: "/a"}, selection: "x")}\n'
     "type Hasil { x(n: Int): String", "CONNECTOR_FIELD_UNRESOLVED"),
    ("bad-template", 'a: String @connect(source: "tani", http: {GET: "/a/{$args"}, selection: "$")',
     "CONNECTOR_TEMPLATE_SYNTAX"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "code"), [pytest.param(*r[1:], id=r[0]) for r in BAD])
def test_validation_codes(fields: str, code: str) -> None:
    with pytest.raises(ConnectorSchemaError) as caught:
        read_connectors("tani", HEAD + "type Query {\n  " + fields + "\n}\n")
    codes = [p.code for p in caught.value.problems]
    assert code in codes, caught.value.message
    assert all(p.coordinate for p in caught.value.problems if p.code == code)


def test_batch_key_must_be_selected() -> None:
    sdl = (
        HEAD
        + """
type Query { a: String @connect(source: "tani", http: {GET: "/a"}, selection: "$") }
extend type Wilayah @connect(source: "tani", http: {POST: "/d", body: "k: $batch.kode"},
                             selection: "petani { nik }")
"""
    )
    with pytest.raises(ConnectorSchemaError) as caught:
        read_connectors("tani", sdl)
    assert [p.code for p in caught.value.problems] == ["CONNECTOR_BATCH_INVALID"]


@pytest.mark.parametrize(
    ("name", "identifier"),
    [("nik", True), ("nikPemilik", True), ("nik_pemilik", True), ("NIK", True),
     ("pemilikNik", True), ("noKk", True), ("no_kk", True), ("nip", True), ("nisn", True),
     ("nomorJkn", True), ("nikah", False), ("nopol", False), ("nib", False), ("kode", False),
     ("teknik", False)],
)  # fmt: skip
def test_identifier_names(name: str, identifier: bool) -> None:
    assert is_identifier(name) is identifier
