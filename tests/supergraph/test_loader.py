"""Reading supergraphs: join versions, link features, and refusing what we would mis-execute."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import SupergraphError
from gateway.supergraph import load_supergraph

FIXTURES = Path(__file__).parent / "fixtures"
INACCESSIBLE = (FIXTURES / "inaccessible.graphql").read_text()


@pytest.mark.parametrize("version", ["0.3", "0.4", "0.5"])
def test_join_versions_are_read(version: str) -> None:
    sdl = INACCESSIBLE.replace("join/v0.5", f"join/v{version}")
    supergraph = load_supergraph(sdl)
    assert supergraph.features["https://specs.apollo.dev/join"] == version
    assert list(supergraph.subgraphs) == ["catalog", "pricing", "shipping"]
    assert supergraph.subgraphs["pricing"].url == "http://pricing.test/graphql"
    keys = {g: [k.text for k in t.keys] for g, t in supergraph.graphs_of_type("Product").items()}
    assert keys == {"catalog": ["id", "sku"], "pricing": ["sku"], "shipping": ["id"]}
    weight = supergraph.graphs_of_field("Product", "weightGrams")
    assert (weight["pricing"].external, weight["shipping"].external) == (False, True)
    assert (
        supergraph.graphs_of_field("Product", "shipping")["shipping"].requires_text == "weightGrams"
    )


def test_join_spec_renamed_with_as_is_read() -> None:
    sdl = INACCESSIBLE.replace(
        '@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)',
        '@link(url: "https://specs.apollo.dev/join/v0.5", as: "j", for: EXECUTION)',
    ).replace("join__", "j__")
    supergraph = load_supergraph(sdl)
    assert set(supergraph.graphs_of_type("Product")) == {"catalog", "pricing", "shipping"}


def test_unknown_execution_feature_is_refused() -> None:
    sdl = INACCESSIBLE.replace(
        "schema ",
        'schema @link(url: "https://specs.example.org/teleport/v1.0", for: EXECUTION) ',
        1,
    )
    with pytest.raises(SupergraphError) as caught:
        load_supergraph(sdl)
    assert caught.value.code == "UNSUPPORTED_FEATURE"
    assert "teleport/v1.0" in caught.value.message and "EXECUTION" in caught.value.message


def test_authorization_features_are_refused_until_enforced() -> None:
    sdl = INACCESSIBLE.replace(
        "schema ",
        'schema @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY) ',
        1,
    )
    with pytest.raises(SupergraphError) as caught:
        load_supergraph(sdl)
    assert caught.value.code == "UNSUPPORTED_FEATURE"
    assert "authorization" in caught.value.message
    assert load_supergraph(sdl, authorization_enforced=True).subgraphs


def test_unknown_feature_without_purpose_is_accepted() -> None:
    sdl = INACCESSIBLE.replace(
        "schema ", 'schema @link(url: "https://specs.apollo.dev/tag/v0.3") ', 1
    )
    assert load_supergraph(sdl).subgraphs


def test_unsupported_join_version_is_refused() -> None:
    with pytest.raises(SupergraphError, match="join versions"):
        load_supergraph(INACCESSIBLE.replace("join/v0.5", "join/v0.9"))


@pytest.mark.parametrize(
    ("sdl", "message"),
    [
        ("type Query { x: Int", "does not parse"),
        ("type Query { x: Int }", "not a Federation 2 supergraph"),
    ],
)
def test_malformed_or_non_federation_sdl_is_refused_clearly(sdl: str, message: str) -> None:
    with pytest.raises(SupergraphError, match=message):
        load_supergraph(sdl)


CONTEXT_CASE = FIXTURES.parents[1] / "federation" / "cases" / "context" / "fiscal-year"


def test_context_arguments_and_contexts_are_read() -> None:
    sg = load_supergraph((CONTEXT_CASE / "supergraph.graphql").read_text())
    assert sg.contexts == {"sosial__anggaran": frozenset({"Provinsi"})}
    (argument,) = sg.graphs_of_field("Kabupaten", "penerimaBansos")["sosial"].context_arguments
    assert (argument.name, argument.type_text, argument.context) == (
        "tahun",
        "Int",
        "sosial__anggaran",
    )
    assert [s.name.value for s in argument.selection.selections] == ["tahunAnggaran"]  # type: ignore[attr-defined]
    # the argument is the subgraph's, never the client's
    assert not sg.api_schema.type_map["Kabupaten"].fields["penerimaBansos"].args  # type: ignore[union-attr]


def test_malformed_context_arguments_are_refused_clearly() -> None:
    sdl = INACCESSIBLE.replace(
        "name: String @join__field(graph: CATALOG)",
        'name: String @join__field(graph: CATALOG, contextArguments: [{context: "shop"}])',
    )
    assert sdl != INACCESSIBLE
    with pytest.raises(SupergraphError) as caught:
        load_supergraph(sdl)
    assert "contextArguments" in caught.value.message and "Product" in caught.value.message
