"""The debug check that every fetch of a plan is valid for the subgraph it goes to."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from gateway import engine
from gateway.errors import PlanningError
from gateway.planner import build_query_plan
from gateway.planner.plan import FetchNode, FlattenNode, QueryPlan, SequenceNode
from gateway.planner.validation import (
    INVALID_SUBGRAPH_OPERATION,
    SubgraphOperationValidator,
    fetches,
    validate_plan,
)
from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import CASES_DIR


@pytest.fixture(scope="module")
def zoo() -> Supergraph:
    """vet: Dog/Cat (lastCheckup, lives) by key; zoo: animals: [Animal], Dog/Cat implement it."""
    path = CASES_DIR / "abstract/interface-distributed/supergraph.graphql"
    return load_supergraph(path.read_text())


def entity_fetch(service: str, selection: str) -> FlattenNode:
    operation = (
        "query($representations: [_Any!]!) { _entities(representations: $representations) "
        f"{{ {selection} }} }}"
    )
    return FlattenNode(("animals", "@"), FetchNode(service, operation, requires=()))


def test_a_plan_of_the_planner_is_valid(zoo: Supergraph) -> None:
    document = parse("{ animals { name ... on Cat { lives lastCheckup } } }")
    plan = build_query_plan(zoo, document)
    validate_plan(plan, zoo)  # does not raise
    assert SubgraphOperationValidator(zoo).errors(plan) == []


@pytest.mark.parametrize(
    ("service", "selection", "reason"),
    [
        # Cat does not implement Animal in vet: a fragment on Animal cannot apply there.
        ("vet", "... on Animal { id }", "Unknown type 'Animal'"),
        # The field exists in the supergraph, not in this subgraph.
        ("vet", "... on Cat { name }", "Cannot query field 'name' on type 'Cat'"),
        # An empty fragment is not GraphQL (graphql-core parses it, subgraphs do not).
        ("vet", "... on Cat { }", "Inline fragment on Cat has an empty selection set"),
    ],
)
def test_an_invalid_fetch_is_named_with_a_stable_code(
    zoo: Supergraph, service: str, selection: str, reason: str
) -> None:
    root = FetchNode("zoo", "{ animals { __typename ... on Cat { id } } }")
    plan = QueryPlan(SequenceNode((root, entity_fetch(service, selection))))
    with pytest.raises(PlanningError) as raised:
        validate_plan(plan, zoo)
    assert raised.value.code == INVALID_SUBGRAPH_OPERATION
    assert f"fetch 1 to subgraph '{service}'" in raised.value.message
    assert reason in raised.value.message
    assert "fetch 0" not in raised.value.message


def test_variable_definitions_are_validated_too(zoo: Supergraph) -> None:
    unused = FetchNode("zoo", "query($n: Int) { animals { id } }")
    undefined = FetchNode("zoo", "query { keeper { name @include(if: $flag) } }")
    errors = SubgraphOperationValidator(zoo).errors(QueryPlan(SequenceNode((unused, undefined))))
    assert len(errors) == 2
    assert "Variable '$n' is never used" in errors[0]
    assert "Variable '$flag' is not defined" in errors[1]


@pytest.mark.anyio
@pytest.mark.parametrize("validate", [True, False])
async def test_the_gateway_refuses_an_invalid_plan_only_when_the_check_is_on(
    zoo: Supergraph, validate: bool
) -> None:
    calls: list[str] = []

    class Transport:
        async def send(self, *args: Any, **kwargs: Any) -> Any:
            calls.append("sent")
            raise AssertionError("no subgraph call expected")

    def bad_planner(*_: Any, **__: Any) -> QueryPlan:
        return QueryPlan(FetchNode("vet", "{ animals { id } }"))

    gateway = engine.Gateway(
        zoo,
        transport=Transport(),  # type: ignore[arg-type]
        planner=bad_planner,
        validate_subgraph_operations=validate,
    )
    if validate:
        result = await gateway.execute("{ animals { id } }")
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == INVALID_SUBGRAPH_OPERATION
        assert "fetch 0 to subgraph 'vet'" in result["errors"][0]["message"]
        assert calls == []
    else:
        assert gateway.plan_validator is None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_the_planner_setting_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.config import load_settings

    assert load_settings().planner.validate_subgraph_operations is False
    monkeypatch.setenv("JAMAJAMA_PLANNER__VALIDATE_SUBGRAPH_OPERATIONS", "true")
    assert load_settings().planner.validate_subgraph_operations is True


def test_two_skips_on_one_root_field_stay_valid() -> None:
    """A root fragment's @skip joins the field's own: the second goes on a fragment around it."""
    path = CASES_DIR / "entities/multiple-keys/supergraph.graphql"
    supergraph = load_supergraph(path.read_text())
    document = parse(
        "query($a: Boolean!, $b: Boolean!) { ... @skip(if: $a) { products @skip(if: $b) { upc } } }"
    )
    plan = build_query_plan(supergraph, document)
    assert SubgraphOperationValidator(supergraph).errors(plan) == []
    (fetch,) = [f for f in fetches(plan.node)]
    assert "@skip(if: $b)" in fetch.operation and "@skip(if: $a)" in fetch.operation
