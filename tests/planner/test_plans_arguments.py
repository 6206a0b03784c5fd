"""Printed plans for the `arguments` cases of the conformance corpus."""

from pathlib import Path

import pytest

from tests.planner.conftest import assert_plan_matches, topic_params


@pytest.mark.parametrize(("supergraph", "operation", "snapshot"), topic_params("arguments"))
def test_plan_is_the_reviewed_one(supergraph: Path, operation: Path, snapshot: Path) -> None:
    assert_plan_matches(supergraph, operation, snapshot)
