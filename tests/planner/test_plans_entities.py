"""Printed plans for the `entities` cases of the conformance corpus."""

from pathlib import Path

import pytest
from graphql import parse

from gateway.planner import build_query_plan
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    ParallelNode,
    PlanNode,
    SequenceNode,
)
from gateway.supergraph import load_supergraph
from tests.federation.corpus import CASES_DIR
from tests.planner.conftest import assert_plan_matches, topic_params


@pytest.mark.parametrize(("supergraph", "operation", "snapshot"), topic_params("entities"))
def test_plan_is_the_reviewed_one(supergraph: Path, operation: Path, snapshot: Path) -> None:
    assert_plan_matches(supergraph, operation, snapshot)


def test_entity_fetches_name_their_key_fields_apart_from_required_ones() -> None:
    """The executor skips objects with a null key (not a null required value): the plan says which
    representation fields are the key (entities/null-keys-lists; the printed plan does not show it).
    """
    case = CASES_DIR / "entities" / "null-keys-lists"
    supergraph = load_supergraph((case / "supergraph.graphql").read_text())
    query = (case / "operations" / "composite-null-part.graphql").read_text()
    plan = build_query_plan(supergraph, parse(query))
    rules = [rule for fetch in _fetches(plan.node) for rule in fetch.requires or ()]
    assert [(rule.type_condition, rule.key) for rule in rules] == [
        ("Parcel", ("carrier", "number"))
    ]
    requires_case = CASES_DIR / "override" / "edge-cases"
    supergraph = load_supergraph((requires_case / "supergraph.graphql").read_text())
    plan = build_query_plan(supergraph, parse("{ products { cost } }"))
    keys = {rule.key for fetch in _fetches(plan.node) for rule in fetch.requires or ()}
    assert keys == {("id",)}  # shipping's rule requires price, weight and stock: not key fields


def _fetches(node: PlanNode | None) -> list[FetchNode]:
    if isinstance(node, FetchNode):
        return [node]
    if isinstance(node, FlattenNode):
        return [node.node]
    if isinstance(node, SequenceNode | ParallelNode):
        return [fetch for child in node.nodes for fetch in _fetches(child)]
    if isinstance(node, ConditionNode):
        return _fetches(node.if_clause) + _fetches(node.else_clause)
    if isinstance(node, MergedFetchNode):
        return [part.fetch for part in node.parts]
    return []
