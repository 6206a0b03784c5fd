"""Static cost (gateway/limits/cost.py) from @cost/@listSize in the supergraph."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse

from gateway.engine import Gateway, GraphQLRequest
from gateway.limits import CostSection, LimitsSection, OperationLimits
from gateway.limits.errors import LimitExceeded
from gateway.supergraph import Supergraph, load_supergraph

BASE = (Path(__file__).parent.parent / "executor" / "supergraph.graphql").read_text()
COST_LINK = '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])'
DIRECTIVES = """
directive @cost(weight: Int!)
  on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
directive @listSize(
  assumedSize: Int
  slicingArguments: [String!]
  sizedFields: [String!]
  requireOneSlicingArgument: Boolean = true
) on FIELD_DEFINITION
"""


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    sdl = BASE.replace(
        '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY) ' + COST_LINK,
    )
    sdl = sdl.replace(
        "  users: [User!]! @join__field(graph: ACCOUNTS)",
        "  users: [User!]! @join__field(graph: ACCOUNTS) @listSize(assumedSize: 50)",
    )
    sdl = sdl.replace(
        "  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS)",
        "  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS) "
        '@listSize(slicingArguments: ["first"])',
    )
    sdl = sdl.replace(
        "  price: Int @join__field(graph: PRODUCTS)",
        "  price: Int @join__field(graph: PRODUCTS) @cost(weight: 7)",
    )
    return load_supergraph(sdl + DIRECTIVES)


def _cost(supergraph: Supergraph, query: str, default_list_size: int = 10) -> int:
    document = parse(query)
    limits = OperationLimits(LimitsSection(cost=CostSection(default_list_size=default_list_size)))
    operation = document.definitions[0]
    return limits.cost.estimate(supergraph.schema, document, operation)  # type: ignore[arg-type]


def test_objects_cost_one_and_scalars_zero(supergraph: Supergraph) -> None:
    assert _cost(supergraph, "{ me { id name } }") == 1
    assert _cost(supergraph, "{ me { id reviews { body } } }") == 1 + 10 * 1


def test_list_size_assumed_size_and_default(supergraph: Supergraph) -> None:
    assert _cost(supergraph, "{ users { id } }") == 50
    assert _cost(supergraph, "{ maybeUsers { id } }", default_list_size=7) == 7
    assert _cost(supergraph, "{ users { reviews { body } } }") == 50 * (1 + 10)


def test_slicing_argument_literal_sets_the_size(supergraph: Supergraph) -> None:
    assert _cost(supergraph, "{ topProducts(first: 3) { upc } }") == 3
    assert _cost(supergraph, "{ topProducts(first: 3) { price } }") == 3 * (1 + 7)
    # a variable slicing argument falls back to the assumed size, then the default
    assert _cost(supergraph, "query($n: Int) { topProducts(first: $n) { upc } }") == 10


def test_fragments_cost_what_they_select(supergraph: Supergraph) -> None:
    query = "{ users { ...U } me { ...U } } fragment U on User { reviews { body } }"
    assert _cost(supergraph, query) == 50 * (1 + 10) + (1 + 10)


def test_mutation_root_fields_cost_ten(supergraph: Supergraph) -> None:
    assert _cost(supergraph, 'mutation { rename(id: "1", name: "x") { id } }') == 10


@pytest.mark.anyio
async def test_engine_refuses_over_cost_in_enforce_mode_only(supergraph: Supergraph) -> None:
    query = "{ users { reviews { product { price } } } }"
    enforce = OperationLimits(LimitsSection(cost=CostSection(max=100)))
    gateway = Gateway(supergraph, limits=enforce, transport=_NoCalls())
    result = await gateway.process(GraphQLRequest(query))
    assert not result.executed
    error = result.response["errors"][0]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"] == {"estimated": 50 * (1 + 10 * (1 + 1 + 7)), "max": 100}

    measure = OperationLimits(LimitsSection(cost=CostSection(max=100, mode="measure")))
    with pytest.raises(LimitExceeded):
        enforce.check_cost(supergraph.schema, parse(query))
    measure.check_cost(supergraph.schema, parse(query))
    assert measure.over_cost_measured == 1


class _NoCalls:
    async def fetch(self, subgraph: str, url: str, body: object) -> object:
        raise AssertionError("no subgraph call expected")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
