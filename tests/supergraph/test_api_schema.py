"""The client-facing API schema (Federation's @inaccessible rules, descriptions kept)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, print_schema, validate

from gateway.planner import build_query_plan, print_plan
from gateway.supergraph import Supergraph, load_supergraph

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    return load_supergraph((FIXTURES / "inaccessible.graphql").read_text())


def test_api_schema_has_no_federation_machinery(supergraph: Supergraph) -> None:
    printed = print_schema(supergraph.api_schema)
    for machinery in ("join__", "link__", "@link", "@inaccessible", "@join"):
        assert machinery not in printed


@pytest.mark.parametrize(
    ("type_name", "hidden"),
    [
        ("Query", "secretFeed"),  # field
        ("Product", "sku"),  # entity key field
        ("Product", "weightGrams"),  # field still required internally
        ("Filter", "internalOnly"),  # input field
    ],
)
def test_inaccessible_fields_are_hidden(
    supergraph: Supergraph, type_name: str, hidden: str
) -> None:
    gql_type = supergraph.api_schema.get_type(type_name)
    assert gql_type is not None
    assert hidden not in gql_type.fields  # type: ignore[union-attr]
    # ... but the full supergraph still knows them, for planning.
    assert hidden in supergraph.schema.get_type(type_name).fields  # type: ignore[union-attr]


def test_inaccessible_type_enum_value_and_argument_are_hidden(supergraph: Supergraph) -> None:
    api = supergraph.api_schema
    assert api.get_type("Secret") is None
    colour = api.get_type("Colour")
    assert list(colour.values) == ["RED", "GREEN"]  # type: ignore[union-attr]
    assert list(api.query_type.fields["byColour"].args) == ["colour"]  # type: ignore[union-attr]


def test_descriptions_are_kept(supergraph: Supergraph) -> None:
    api = supergraph.api_schema
    assert api.query_type.description == "Entry points of the catalogue."  # type: ignore[union-attr]
    product = api.get_type("Product")
    assert product.description == "A product sold in the shop."  # type: ignore[union-attr]
    assert product.fields["id"].description == "The product's stable identifier."  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("hidden_query", "unknown_query"),
    [
        ("{ products { sku } }", "{ products { nonexistent } }"),
        ("{ secretFeed { code } }", "{ nonexistent { code } }"),
        ("{ byColour(colour: LEGACY_BEIGE) { id } }", "{ byColour(colour: NONEXISTENT) { id } }"),
        ("{ byColour(legacyFlag: true) { id } }", "{ byColour(nonexistent: true) { id } }"),
        (
            "{ products(filter: {internalOnly: true}) { id } }",
            "{ products(filter: {nonexistent: true}) { id } }",
        ),
    ],
)
def test_query_on_hidden_element_fails_as_if_it_did_not_exist(
    supergraph: Supergraph, hidden_query: str, unknown_query: str
) -> None:
    hidden_errors = [e.message for e in validate(supergraph.api_schema, parse(hidden_query))]
    unknown_errors = [e.message for e in validate(supergraph.api_schema, parse(unknown_query))]
    assert hidden_errors, "a hidden element must not validate"
    renames = {"LEGACY_BEIGE": "NONEXISTENT"}
    normalised = hidden_errors[0]
    for name in ("sku", "secretFeed", "LEGACY_BEIGE", "legacyFlag", "internalOnly"):
        normalised = normalised.replace(name, renames.get(name, "nonexistent"))
    # Same message, no "did you mean" hint naming the hidden element.
    assert normalised == unknown_errors[0]


def test_inaccessible_key_and_requirement_are_still_used_internally(supergraph: Supergraph) -> None:
    plan = print_plan(build_query_plan(supergraph, parse("{ products { shipping } }")))
    assert "... on Product { __typename sku }" in plan  # hidden key reaches pricing
    assert "... on Product { __typename id weightGrams }" in plan  # hidden requirement
