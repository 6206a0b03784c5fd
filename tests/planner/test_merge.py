"""Fetch merging (``gateway/planner/merge.py``): printed merged plans, and on every corpus plan
that merging keeps every fetch, keeps every dependency, never adds a request, and sends only
documents the subgraphs accept.

Snapshots live in ``tests/planner/merged/`` (``python -m tests.planner.test_merge write``
rewrites them; read the diff before committing). The planner's own snapshots in ``plans/`` stay
unmerged.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.errors import PlanningError
from gateway.planner import build_query_plan, print_plan
from gateway.planner.merge import merge_fetches
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RepresentationRule,
    RequiredField,
    SequenceNode,
)
from gateway.planner.validation import SubgraphOperationValidator, fetches
from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import CASES_DIR

ROOT = Path(__file__).parents[2]
MERGED_DIR = Path(__file__).parent / "merged"
BENCH_SUPERGRAPH = ROOT / "bench" / "supergraph.graphql"
#: The reference workload's TestQuery (a copy of `/work/shared/bench/query.json`'s query).
BENCH_QUERY = MERGED_DIR / "bench-TestQuery.graphql"

#: (snapshot name, supergraph, operation file): the corpus operations whose plans merging
#: changes, and the benchmark's TestQuery.
SNAPSHOTS = [
    (
        f"{topic}--{case}--{operation}",
        CASES_DIR / topic / case / "supergraph.graphql",
        CASES_DIR / topic / case / "operations" / f"{operation}.graphql",
    )
    for topic, case, operation in [
        ("entities", "several-paths", "repeated-in-list"),
        ("entities", "several-paths", "two-paths"),
        ("planning", "interface-object-per-type", "from-owner-requires-one-type"),
        ("planning", "interface-object-per-type", "requires-for-one-type"),
    ]
]

_loaded: dict[Path, Supergraph] = {}


def _supergraph(path: Path) -> Supergraph:
    if path not in _loaded:
        _loaded[path] = load_supergraph(path.read_text(), authorization_enforced=True)
    return _loaded[path]


def _plan(supergraph: Supergraph, source: str) -> QueryPlan | None:
    """The planner's plan, or None for an operation that is never planned (invalid, refused)."""
    document = parse(source)
    if validate(supergraph.api_schema, document):
        return None
    labels = frozenset(label for label in supergraph.override_labels if label == "percent(100)")
    try:
        return build_query_plan(supergraph, document, override_labels=labels)
    except PlanningError:
        return None


def _bench_query() -> str:
    return BENCH_QUERY.read_text()


def printed_merged(name: str, supergraph_path: Path, operation_path: Path) -> str:
    source = operation_path.read_text()
    plan = _plan(_supergraph(supergraph_path), source)
    assert plan is not None, name
    return print_plan(merge_fetches(plan)) + "\n"


ALL_SNAPSHOTS = [*SNAPSHOTS, ("bench--TestQuery", BENCH_SUPERGRAPH, BENCH_QUERY)]


@pytest.mark.parametrize(
    ("name", "supergraph_path", "operation_path"), ALL_SNAPSHOTS, ids=[s[0] for s in ALL_SNAPSHOTS]
)
def test_printed_merged_plan(name: str, supergraph_path: Path, operation_path: Path) -> None:
    expected = (MERGED_DIR / f"{name}.plan").read_text()
    assert printed_merged(name, supergraph_path, operation_path) == expected


def _requests(node: PlanNode | None) -> int:
    return len(list(fetches(node)))


def test_testquery_sends_eight_requests_instead_of_thirteen() -> None:
    plan = _plan(_supergraph(BENCH_SUPERGRAPH), _bench_query())
    assert plan is not None
    assert (_requests(plan.node), _requests(merge_fetches(plan).node)) == (13, 8)


# --- invariants on every corpus plan ------------------------------------------------------

Key = tuple[str, str, tuple[str, ...]]


def _waits(
    node: PlanNode | None, before: frozenset[Key], out: dict[Key, frozenset[Key]]
) -> set[Key]:
    """Record, for every fetch under ``node``, the fetches that finish before it starts."""
    match node:
        case None:
            return set()
        case FetchNode():
            key = (node.service, node.operation, ())
            out[key] = before
            return {key}
        case FlattenNode(path=path, node=fetch):
            key = (fetch.service, fetch.operation, path)
            out[key] = before
            return {key}
        case MergedFetchNode(parts=parts):
            keys = {(p.fetch.service, p.fetch.operation, p.path) for p in parts}
            for key in keys:
                out[key] = before
            return keys
        case SequenceNode(nodes=nodes):
            seen: set[Key] = set()
            for child in nodes:
                seen |= _waits(child, before | seen, out)
            return seen
        case ParallelNode(nodes=nodes):
            found: set[Key] = set()
            for child in nodes:
                found |= _waits(child, before, out)
            return found
        case ConditionNode(if_clause=if_clause, else_clause=else_clause):
            return _waits(if_clause, before, out) | _waits(else_clause, before, out)


def _parts(node: PlanNode | None) -> Counter[Key]:
    """Every fetch of the plan (inside merged fetches too), with its flatten path."""
    match node:
        case None:
            return Counter()
        case FetchNode():
            return Counter([(node.service, node.operation, ())])
        case FlattenNode(path=path, node=fetch):
            return Counter([(fetch.service, fetch.operation, path)])
        case MergedFetchNode(parts=parts):
            return Counter((p.fetch.service, p.fetch.operation, p.path) for p in parts)
        case SequenceNode(nodes=nodes) | ParallelNode(nodes=nodes):
            return sum((_parts(child) for child in nodes), Counter())
        case ConditionNode(if_clause=if_clause, else_clause=else_clause):
            return _parts(if_clause) + _parts(else_clause)


def _corpus_plans() -> list[tuple[str, Supergraph, QueryPlan]]:
    found = []
    for supergraph_path in sorted(CASES_DIR.glob("*/*/supergraph.graphql")):
        supergraph = _supergraph(supergraph_path)
        for operation in sorted((supergraph_path.parent / "operations").glob("*.graphql")):
            try:
                plan = _plan(supergraph, operation.read_text())
            except Exception:  # a document that does not parse: never planned
                continue
            if plan is not None:
                found.append((str(operation.relative_to(CASES_DIR)), supergraph, plan))
    return found


def test_merging_every_corpus_plan_keeps_its_fetches_and_their_dependencies() -> None:
    plans = _corpus_plans()
    assert len(plans) > 100
    validators: dict[int, SubgraphOperationValidator] = {}
    merged_count = 0
    for name, supergraph, plan in plans:
        merged = merge_fetches(plan)
        original_waits: dict[Key, frozenset[Key]] = {}
        merged_waits: dict[Key, frozenset[Key]] = {}
        _waits(plan.node, frozenset(), original_waits)
        _waits(merged.node, frozenset(), merged_waits)
        # the same fetches (entity ones at the same paths), each at most as many times
        assert _parts(merged.node) == _parts(plan.node), name
        for key, before in original_waits.items():
            assert before <= merged_waits[key], (name, key)  # still after what it needs
        assert _requests(merged.node) <= _requests(plan.node), name
        if merged is not plan:
            merged_count += 1
            validator = validators.setdefault(
                id(supergraph), SubgraphOperationValidator(supergraph)
            )
            validator.check(merged)  # the merged documents are valid for their subgraphs
    assert merged_count >= len(SNAPSHOTS)


# --- the pass on hand-written plans --------------------------------------------------------

USER_KEY = (RepresentationRule("User", (RequiredField("id", "id"),)),)


def _entity(service: str, selection: str, variables: str = "") -> FetchNode:
    return FetchNode(
        service,
        f"query($representations: [_Any!]!{variables}) {{ _entities(representations: "
        f"$representations) {{ ... on User {{ {selection} }} }} }}",
        requires=USER_KEY,
        variable_usages=tuple(v.split(":")[0].strip(" ,$") for v in variables.split(",") if v),
    )


def test_a_plan_with_nothing_to_merge_is_returned_as_is() -> None:
    plan = QueryPlan(ParallelNode((FetchNode("a", "{ x }"), FetchNode("b", "{ y }"))))
    assert merge_fetches(plan) is plan
    assert merge_fetches(QueryPlan(None)).node is None


def test_root_fetches_sharing_a_response_key_stay_apart() -> None:
    plan = QueryPlan(
        ParallelNode(
            (
                FetchNode("a", "{ me { id } }"),
                FetchNode("a", "{ me { name } }"),
                FetchNode("a", "{ other }"),
            )
        )
    )
    merged = merge_fetches(plan).node
    assert isinstance(merged, ParallelNode)
    first, second = merged.nodes
    assert isinstance(first, MergedFetchNode)
    assert [p.keys for p in first.parts] == [frozenset({"me"}), frozenset({"other"})]
    assert second == FetchNode("a", "{ me { name } }")


def test_mutations_and_conditional_fetches_are_not_merged() -> None:
    mutations = ParallelNode(
        (
            FetchNode("a", "mutation { do }", operation_kind="mutation"),
            FetchNode("a", "mutation { undo }", operation_kind="mutation"),
        )
    )
    conditional = ConditionNode("x", FlattenNode(("u",), _entity("a", "n")), None)
    for plan in (
        QueryPlan(mutations),
        QueryPlan(ParallelNode((FlattenNode(("v",), _entity("a", "m")), conditional))),
    ):
        assert merge_fetches(plan) is plan


def test_subgraphs_kept_apart_are_not_merged() -> None:
    plan = QueryPlan(ParallelNode((FetchNode("a", "{ x }"), FetchNode("a", "{ y }"))))
    assert isinstance(merge_fetches(plan).node, MergedFetchNode)
    assert merge_fetches(plan, keep_apart={"a"}) is plan


def test_generated_names_avoid_client_variables_and_response_keys() -> None:
    plan = QueryPlan(
        ParallelNode(
            (
                FlattenNode(("u", "@"), _entity("a", "n(x: $r0)", ", $r0: Int")),
                FlattenNode(("v", "@"), _entity("a", "m")),
                FetchNode("a", "{ e0: me { id } }"),
            )
        )
    )
    merged = merge_fetches(plan).node
    assert isinstance(merged, MergedFetchNode)
    assert [(p.alias, p.variable) for p in merged.parts] == [
        ("_e0", "_r0"),
        ("e1", "r1"),
        (None, None),
    ]
    assert merged.variable_usages == ("r0",)
    assert "_e0: _entities(representations: $_r0)" in merged.operation
    assert "($_r0: [_Any!]!, $r1: [_Any!]!, $r0: Int)" in merged.operation


def test_sequences_starting_with_the_same_subgraphs_run_those_steps_merged() -> None:
    first = SequenceNode(
        (FlattenNode(("u", "@"), _entity("a", "x")), FlattenNode(("u", "@"), _entity("b", "y")))
    )
    second = SequenceNode(
        (
            FlattenNode(("v", "@"), _entity("a", "x")),
            FlattenNode(("v", "@"), _entity("c", "z")),
        )
    )
    merged = merge_fetches(
        QueryPlan(SequenceNode((FetchNode("r", "{ u v }"), ParallelNode((first, second)))))
    ).node
    assert isinstance(merged, SequenceNode)
    _, step, rest = merged.nodes
    assert isinstance(step, MergedFetchNode) and step.service == "a"
    assert isinstance(rest, ParallelNode)  # b and c each after the merged step
    assert [n.node.service for n in rest.nodes if isinstance(n, FlattenNode)] == ["b", "c"]


def test_a_lone_leaf_joins_its_siblings_later_request_but_not_across_a_condition() -> None:
    leaf = FlattenNode(("u", "@"), _entity("b", "w"))
    later = SequenceNode(
        (
            FlattenNode(("u", "@"), _entity("a", "x")),
            FlattenNode(("u", "@", "f"), _entity("b", "y")),
        )
    )
    merged = merge_fetches(QueryPlan(ParallelNode((leaf, later)))).node
    assert isinstance(merged, SequenceNode)
    assert isinstance(merged.nodes[1], MergedFetchNode)
    assert [p.path for p in merged.nodes[1].parts] == [("u", "@", "f"), ("u", "@")]

    guarded = ConditionNode("x", later, None)
    plan = QueryPlan(ParallelNode((leaf, guarded)))
    assert merge_fetches(plan) is plan


def main(argv: list[str]) -> int:
    if argv != ["write"]:
        print("usage: python -m tests.planner.test_merge write", file=sys.stderr)
        return 2
    MERGED_DIR.mkdir(exist_ok=True)
    for name, supergraph_path, operation_path in ALL_SNAPSHOTS:
        (MERGED_DIR / f"{name}.plan").write_text(
            printed_merged(name, supergraph_path, operation_path)
        )
        print("wrote", name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
