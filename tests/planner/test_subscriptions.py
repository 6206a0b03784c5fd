"""Subscriptions: one root fetch to the subgraph owning the field, then entity fetches."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse

from gateway.planner import build_query_plan
from gateway.planner.plan import FetchNode, FlattenNode, SequenceNode
from gateway.planner.validation import SubgraphOperationValidator
from gateway.supergraph import Supergraph, load_supergraph

SUBSCRIPTION = Path(__file__).parent / "supergraphs" / "subscription" / "supergraph.graphql"


@pytest.fixture(scope="module")
def events() -> Supergraph:
    """events: Subscription.reviewAdded: Review (product: Product by upc); products: Product.name"""
    return load_supergraph(SUBSCRIPTION.read_text())


def test_a_subscription_is_one_root_fetch_then_entity_fetches(events: Supergraph) -> None:
    document = parse("subscription OnReview { reviewAdded { body product { name } } }")
    plan = build_query_plan(events, document, "OnReview")
    assert isinstance(plan.node, SequenceNode)
    root, entities = plan.node.nodes
    assert isinstance(root, FetchNode) and isinstance(entities, FlattenNode)
    assert (root.service, root.operation_kind) == ("events", "subscription")
    assert root.operation.startswith("subscription OnReview__events__0")
    assert (entities.node.service, entities.node.operation_kind) == ("products", "query")
    assert entities.path == ("reviewAdded", "product")
    assert SubgraphOperationValidator(events).errors(plan) == []


def test_a_subscription_served_by_one_subgraph_is_one_fetch(events: Supergraph) -> None:
    plan = build_query_plan(events, parse("subscription { reviewAdded { id body } }"))
    assert isinstance(plan.node, FetchNode)
    assert plan.node.operation_kind == "subscription"
    assert SubgraphOperationValidator(events).errors(plan) == []
