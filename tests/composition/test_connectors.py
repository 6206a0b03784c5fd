"""Connector subgraphs (``@source``/``@connect``) in our composer.

The judge is ``@apollo/composition`` 2.14.4 (The Guild's composer knows Federation up to v2.9,
connectors need v2.10+). Each ``connectors/CASE`` keeps the supergraph Apollo wrote for its
subgraphs, so the comparison runs without Node; a ``node`` test keeps the recordings current.
Apollo does not validate connectors at all, so the validation tests below have no oracle: they
check that the connectors' own rules (``gateway.connectors.validate``) reach the composer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.composition.compose import SubgraphSource, compose
from gateway.connectors.supergraph import read_supergraph_connectors
from tests.composition.conftest import sources_in
from tests.composition.supergraph_diff import diff_supergraphs

CASES = Path(__file__).parent / "connectors"
#: cases where ours differs from Apollo's, and why (strict: they fail until fixed)
KNOWN_GAPS: dict[str, str] = {}


def _case(name: str) -> Any:
    if name in KNOWN_GAPS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]))
    return name


ALL = sorted(p.name for p in CASES.iterdir() if (p / "supergraph.graphql").exists())


@pytest.mark.parametrize("case", [_case(c) for c in ALL])
def test_connector_supergraph_equivalent_to_apollo(case: str) -> None:
    result = compose(sources_in(CASES / case / "subgraphs"))
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    expected = (CASES / case / "supergraph.graphql").read_text()
    assert diff_supergraphs(result.supergraph_sdl, expected) == []


@pytest.mark.parametrize("case", [_case(c) for c in ALL])
def test_connectors_read_back_from_ours_as_from_apollo(case: str) -> None:
    """The gateway reads the same connectors (sources, versions, every @connect) from both."""
    result = compose(sources_in(CASES / case / "subgraphs"))
    assert result.supergraph_sdl is not None
    expected = (CASES / case / "supergraph.graphql").read_text()
    assert _connectors(result.supergraph_sdl) == _connectors(expected)


def _connectors(supergraph: str) -> dict[str, Any]:
    return {
        name: (model.version, model.sources, {c.coordinate: c for c in model.connectors})
        for name, model in read_supergraph_connectors(supergraph).items()
    }


@pytest.mark.node
@pytest.mark.parametrize("case", ALL)
def test_recorded_apollo_supergraph_is_current(case: str, apollo_batch: dict[str, Any]) -> None:
    answer = apollo_batch[f"connectors/{case}"]
    assert "supergraph" in answer, answer
    recorded = (CASES / case / "supergraph.graphql").read_text()
    assert diff_supergraphs(recorded, answer["supergraph"]) == []


def test_the_mixed_case_carries_every_kind_of_connector() -> None:
    """What the recording shows, spelled out: grouped sources, local names, written args."""
    result = compose(sources_in(CASES / "mixed" / "subgraphs"))
    assert result.supergraph_sdl is not None
    sdl = result.supergraph_sdl
    assert '@link(url: "https://specs.apollo.dev/connect/v0.3", for: EXECUTION)' in sdl
    assert (
        '@join__directive(graphs: [GUDANG, TOKO], name: "link", args: {url: '
        '"https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"]})' in sdl
    )
    assert '@join__directive(graphs: [BARANG], name: "rest", args: {source: "logistik"' in sdl
    assert 'selection: "$.data {\\n  id\\n  nama\\n}"' in sdl  # a block string, dedented
    assert "directive @join__directive(graphs: [join__Graph!]" in sdl
    assert "scalar join__DirectiveArguments" in sdl


def test_a_supergraph_without_connectors_has_no_join_directive() -> None:
    result = compose(sources_in(CASES / "mixed" / "subgraphs", ["katalog"]))
    assert result.supergraph_sdl is not None
    assert "join__directive" not in result.supergraph_sdl
    assert "connect/v0" not in result.supergraph_sdl


# --- validation ----------------------------------------------------------------------------------

HEAD = """extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])
  @link(url: "https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"])
  @source(name: "api", http: {baseURL: "https://api.example.go.id/v1"})
"""


def _errors(sdl: str, name: str = "toko") -> list[Any]:
    result = compose([SubgraphSource(name, sdl)])
    assert result.supergraph_sdl is None
    return result.errors


def test_a_url_naming_an_unknown_argument_is_a_composition_error_with_its_location() -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  toko(id: ID!): Toko @connect(source: "api", http: {GET: "/toko/{$args.kode}"},\n'
        '                              selection: "id")\n'
        "}\n"
        "type Toko { id: ID! }\n"
    )
    (found,) = _errors(sdl)
    assert found.code == "CONNECTOR_ARGUMENT_UNKNOWN"
    assert (found.subgraph, found.type, found.field, found.line) == ("toko", "Query", "toko", 6)
    assert found.message.startswith("[toko] Query.toko[0] (line 6): $args.kode")
    assert found.to_dict()["line"] == 6


def test_every_problem_is_reported_at_once() -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  a: Toko @connect(source: "api", http: {GET: "/a"}, selection: "id alamat")\n'
        '  b: Toko @connect(source: "nope", http: {GET: "/b"}, selection: "id")\n'
        '  c: Toko @connect(source: "api", http: {GET: "/c"}, selection: "id nama.x")\n'
        "  d: Toko\n"
        "}\n"
        "type Toko { id: ID! nama: String }\n"
    )
    codes = sorted({e.code for e in _errors(sdl)})
    assert codes == [
        "CONNECTOR_FIELD_UNRESOLVED",
        "CONNECTOR_SELECTION_INVALID",
        "CONNECTOR_SELECTION_SYNTAX",
        "CONNECTOR_SOURCE_UNKNOWN",
    ]


def test_a_key_no_connector_resolves_is_missing_entity_connector() -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"}, selection: "id nama")\n'
        "}\n"
        'type Toko @key(fields: "id") { id: ID! nama: String }\n'
    )
    (found,) = _errors(sdl)
    assert found.code == "MISSING_ENTITY_CONNECTOR"
    assert found.type == "Toko"
    assert '@key(fields: "id")' in found.message


@pytest.mark.parametrize(
    "resolver",
    [
        # an entity: true Query field whose arguments are the key
        'tokoById(id: ID!): Toko @connect(source: "api", http: {GET: "/toko/{$args.id}"}, '
        'selection: "id nama", entity: true)',
        # a connector on a field of the type, reading the key through $this
        None,
    ],
    ids=["entity-field", "field-connector"],
)
def test_a_key_a_connector_resolves_composes(resolver: str | None) -> None:
    toko = 'type Toko @key(fields: "id") { id: ID! nama: String }\n'
    if resolver is None:
        toko = (
            'type Toko @key(fields: "id") { id: ID! nama: String\n'
            '  stok: Int @connect(source: "api", http: {GET: "/toko/{$this.id}/stok"}, '
            'selection: "$.jumlah") }\n'
        )
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"}, selection: "id nama")\n'
        f"  {resolver or ''}\n"
        "}\n" + toko
    )
    result = compose([SubgraphSource("toko", sdl)])
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]


def test_a_non_resolvable_key_needs_no_connector() -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"}, selection: "id")\n'
        "}\n"
        'type Toko @key(fields: "id", resolvable: false) { id: ID! }\n'
    )
    assert compose([SubgraphSource("toko", sdl)]).supergraph_sdl is not None


@pytest.mark.parametrize(
    ("federation", "connect", "says"),
    [
        ("v2.10", "v0.2", "connect v0.2 needs Federation v2.11 or later"),
        ("v2.9", "v0.1", "connect v0.1 needs Federation v2.10 or later"),
        ("v2.11", "v0.9", "connect v0.9, which this composer does not accept"),
    ],
)
def test_connect_versions_are_checked_against_federation(
    federation: str, connect: str, says: str
) -> None:
    sdl = HEAD.replace("v2.11", federation).replace("connect/v0.2", f"connect/{connect}") + (
        'type Query { a: Int @connect(source: "api", http: {GET: "/a"}, selection: "$") }\n'
    )
    (found,) = _errors(sdl)
    assert found.code == "CONNECTOR_VERSION_UNSUPPORTED"
    assert says in found.message


def test_a_field_no_connector_produces_is_unresolved() -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"}, selection: "id pemilik")\n'
        "}\n"
        "type Toko { id: ID! alamat: String pemilik: Orang }\n"
        "type Orang { nama: String }\n"
    )
    (found,) = _errors(sdl)
    assert found.code == "CONNECTOR_FIELD_UNRESOLVED"
    assert (found.type, found.field) == ("Toko", "alamat")
    assert "Toko.alamat is produced by no connector's selection" in found.message


def test_fields_given_by_the_representation_or_a_nested_selection_are_resolved() -> None:
    """Key fields come with the representation; ``pemilik { nama }`` produces Orang.nama."""
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"},\n'
        '                        selection: "id pemilik { nama }")\n'
        "}\n"
        "type Toko { id: ID! pemilik: Orang }\n"
        'type Orang @key(fields: "nik") { nik: ID! nama: String\n'
        '  umur: Int @connect(source: "api", http: {POST: "/umur", body: "nik: $this.nik"}, '
        'selection: "$.umur") }\n'
    )
    result = compose([SubgraphSource("toko", sdl)])
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ("type Subscription { a: Int }\n", "CONNECTOR_SUBSCRIPTION_UNSUPPORTED"),
        ("interface Benda { id: ID! }\n", "CONNECTOR_ABSTRACT_TYPE_UNSUPPORTED"),
        ("union Apa = Toko\n", "CONNECTOR_ABSTRACT_TYPE_UNSUPPORTED"),
    ],
)
def test_what_a_connector_subgraph_cannot_hold_is_refused(extra: str, code: str) -> None:
    sdl = HEAD + (
        "type Query {\n"
        '  toko: [Toko] @connect(source: "api", http: {GET: "/toko"}, selection: "id")\n'
        "}\n"
        "type Toko { id: ID! }\n" + extra
    )
    assert code in {e.code for e in _errors(sdl)}
