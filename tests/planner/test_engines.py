"""The two planning engines behind `[planner] engine`, and what only the graph engine plans."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse

from gateway.errors import PlanningError
from gateway.planner import build_query_plan, planner_for, print_plan
from gateway.planner.plan import FetchNode, FlattenNode, SequenceNode
from gateway.planner.validation import SubgraphOperationValidator
from gateway.supergraph import Supergraph, load_supergraph

SUBSCRIPTION = Path(__file__).parent / "supergraphs" / "subscription" / "supergraph.graphql"


@pytest.fixture(scope="module")
def events() -> Supergraph:
    """events: Subscription.reviewAdded: Review (product: Product by upc); products: Product.name"""
    return load_supergraph(SUBSCRIPTION.read_text())


def test_the_engine_setting_defaults_to_graph_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.config import load_settings

    assert load_settings().planner.engine == "graph"
    monkeypatch.setenv("JAMAJAMA_PLANNER__ENGINE", "greedy")
    assert load_settings().planner.engine == "greedy"
    monkeypatch.setenv("JAMAJAMA_PLANNER__ENGINE", "fastest")
    with pytest.raises(Exception, match="engine"):
        load_settings()


def test_a_subscription_is_one_root_fetch_then_entity_fetches(events: Supergraph) -> None:
    document = parse("subscription OnReview { reviewAdded { body product { name } } }")
    plan = planner_for("graph")(events, document, "OnReview")
    assert isinstance(plan.node, SequenceNode)
    root, entities = plan.node.nodes
    assert isinstance(root, FetchNode) and isinstance(entities, FlattenNode)
    assert (root.service, root.operation_kind) == ("events", "subscription")
    assert root.operation.startswith("subscription OnReview__events__0")
    assert (entities.node.service, entities.node.operation_kind) == ("products", "query")
    assert entities.path == ("reviewAdded", "product")
    assert SubgraphOperationValidator(events).errors(plan) == []


def test_the_greedy_engine_refuses_subscriptions_with_a_stable_code(events: Supergraph) -> None:
    document = parse("subscription { reviewAdded { body } }")
    with pytest.raises(PlanningError) as refused:
        build_query_plan(events, document, engine="greedy")
    assert refused.value.code == "OPERATION_NOT_SUPPORTED"


def test_queries_on_the_same_supergraph_plan_alike_under_both_engines(events: Supergraph) -> None:
    document = parse("{ latest { body product { name } } }")
    greedy = print_plan(build_query_plan(events, document, engine="greedy"))
    assert print_plan(build_query_plan(events, document, engine="graph")) == greedy
    assert greedy.count("Fetch(") == 2
