"""Satisfiability on the query graph: the composer and the planner share one model of reachability.

For every error case refused with SATISFIABILITY_ERROR, the query each error names (its witness)
is one that the planner, given the same supergraph composed without the check, refuses too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from graphql import parse

import gateway.composition.compose as compose_module
from gateway.composition.compose import compose
from gateway.errors import PlanningError
from gateway.planner import build_query_plan
from gateway.supergraph import load_supergraph
from tests.composition.conftest import ERROR_CASES, sources_in

_WITNESS = re.compile(r"the query (\{.*?\}) cannot be answered")

#: cases whose witness the planner does plan, and why that is not a disagreement
_PLANNED = {
    # The planner fetches the @requires input `w` in the root fetch from [a] (which resolves it
    # but has no resolvable key); Apollo's and The Guild's composers ask that the conditions be
    # reachable from the requiring subgraph [b], and so do we (the composer's judge is Apollo's).
    "requires-conditions-unreachable-from-requiring-subgraph": "{ t { z } }",
}


def _satisfiability_cases() -> list[Path]:
    return [
        case
        for case in sorted(ERROR_CASES.iterdir())
        if "SATISFIABILITY_ERROR" in json.loads((case / "expected.json").read_text())["codes"]
    ]


@pytest.mark.parametrize("case", _satisfiability_cases(), ids=lambda p: p.name)
def test_the_planner_refuses_each_witness_query(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = sources_in(case / "subgraphs")
    witnesses = [
        match.group(1)
        for e in compose(sources).errors
        if e.code == "SATISFIABILITY_ERROR" and (match := _WITNESS.search(e.message))
    ]
    monkeypatch.setattr(compose_module, "check_satisfiability", lambda sdl, parsed=None: [])
    unchecked = compose(sources)
    if unchecked.supergraph_sdl is None:
        pytest.skip("refused by another check too (e.g. a progressive @override's source)")
    assert witnesses, "each satisfiability error names the query that cannot be answered"
    supergraph = load_supergraph(unchecked.supergraph_sdl, to_serve=False)
    for witness in witnesses:
        # a fragment ending the path gets a selection of its own
        query = re.sub(r"(\.\.\. on \w+) \}", r"\1 { __typename } }", witness)
        if _PLANNED.get(case.name) == witness:
            build_query_plan(supergraph, parse(query))
            continue
        with pytest.raises(PlanningError):
            build_query_plan(supergraph, parse(query))
