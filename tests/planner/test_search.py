"""Jump targets by trial (gateway/planner/search.py): the trial's plan, and the budget's bound."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.planner import build_query_plan, builder, print_plan
from gateway.planner.search import TrialBudget
from gateway.supergraph import load_supergraph
from tests.federation.corpus import CASES_DIR

CASE = CASES_DIR / "planning" / "jump-target-by-trial"


def _services(query: str) -> list[str]:
    supergraph = load_supergraph((CASE / "supergraph.graphql").read_text())
    printed = print_plan(build_query_plan(supergraph, parse(query)))
    return [line.split('"')[1] for line in printed.splitlines() if "Fetch(service:" in line]


def test_a_trial_takes_the_target_whose_plan_has_fewer_fetches() -> None:
    # shipping (first by subgraph order, same estimate) would need inventory's weight first.
    assert _services("{ products { name delivery } }") == ["products", "warehouse"]


def test_past_the_budget_the_estimate_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "TrialBudget", lambda: TrialBudget(left=0))
    assert _services("{ products { name delivery } }") == ["products", "inventory", "shipping"]


def test_the_budget_is_spent_whole_or_not_at_all() -> None:
    budget = TrialBudget(left=3)
    assert budget.take(2) and budget.left == 1
    assert not budget.take(2) and budget.left == 1
