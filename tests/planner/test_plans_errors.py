"""Printed plans for the `errors` cases of the conformance corpus."""

from pathlib import Path

import pytest

from gateway.planner import Engine
from tests.planner.conftest import assert_plan_matches, topic_params

PARAMS = topic_params("errors")


@pytest.mark.parametrize(("supergraph", "operation", "snapshot", "engine"), PARAMS)
def test_plan_is_the_reviewed_one(
    supergraph: Path, operation: Path, snapshot: Path, engine: Engine
) -> None:
    assert_plan_matches(supergraph, operation, snapshot, engine)
