"""Operations no plan can serve are refused at plan time, with a clear error, never a crash.

Generated operations (tests/federation/generate.py) over every corpus supergraph are planned:
each either gets a plan or a ``PlanningError`` with ``QUERY_PLANNING_FAILED`` that says which
position cannot be planned and why. Planning happens before any fetch (the engine plans the whole
operation first), so a refused operation reaches no subgraph (the corpus pins that with
``fetches.json``: planning/unplannable-interface-object).
"""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.errors import PlanningError
from gateway.planner import build_query_plan
from gateway.supergraph import load_supergraph
from tests.federation.corpus import Case, discover_cases
from tests.federation.generate import OperationGenerator

CASES = discover_cases()
#: generated operations planned per case (seeded: the same ones every run)
PER_CASE = 12


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_generated_operations_are_planned_or_refused_clearly(case: Case) -> None:
    supergraph = load_supergraph(case.supergraph_path.read_text(), authorization_enforced=True)
    generator = OperationGenerator.for_case(case, seed="refusals")
    for operation in generator.operations(range(PER_CASE)):
        try:
            build_query_plan(supergraph, parse(operation.query))
        except PlanningError as error:
            assert error.code == "QUERY_PLANNING_FAILED", operation.query
            assert str(error).startswith(("cannot plan ", "no subgraph resolves ")), str(error)


def test_an_unplannable_selection_is_refused_naming_its_position() -> None:
    (case,) = discover_cases(["planning/unplannable-interface-object"])
    supergraph = load_supergraph(case.supergraph_path.read_text())
    with pytest.raises(PlanningError) as refused:
        build_query_plan(supergraph, parse("{ shows: watchlist { id ... on Movie { id } } }"))
    assert refused.value.code == "QUERY_PLANNING_FAILED"
    assert str(refused.value).startswith("cannot plan shows (Query.watchlist): lists returns Media")
    # The same field without anything that needs the concrete type is planned.
    build_query_plan(supergraph, parse("{ shows: watchlist { id } }"))
