"""Shared check for the printed-plan tests: one module per corpus topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.planner.plans import plan_cases, printed_plan, snapshot_path


def topic_params(topic: str) -> list[object]:
    return [
        pytest.param(supergraph, operation, snapshot_path(case_id), id=case_id)
        for case_id, supergraph, operation in plan_cases(topic)
    ]


def assert_plan_matches(supergraph: Path, operation: Path, snapshot: Path) -> None:
    assert snapshot.exists(), (
        f"no reviewed plan for {snapshot.name}: run `python -m tests.planner.plans write` "
        "for its case and read the plan before committing it"
    )
    assert printed_plan(supergraph, operation) == snapshot.read_text()
