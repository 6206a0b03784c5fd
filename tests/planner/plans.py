"""Printed-plan snapshots for the conformance corpus: `plans/<topic>/<case>/<op>.plan`.

Each snapshot was read and judged by a person when it was written; a changed plan fails its test
until someone reads the new one. `python -m tests.planner.plans write TOPIC[/CASE]` (re)writes the
snapshots of those cases, to be reviewed in the diff before committing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from graphql import GraphQLError, parse, validate

from gateway.errors import PlanningError
from gateway.planner import build_query_plan, print_plan
from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import CASES_DIR

PLANS_DIR = Path(__file__).parent / "plans"


def plan_cases(topic: str) -> Iterator[tuple[str, Path, Path]]:
    """(id, supergraph path, operation path) of every operation of ``topic``."""
    for case_dir in sorted((CASES_DIR / topic).iterdir()):
        supergraph = case_dir / "supergraph.graphql"
        if not supergraph.exists():
            continue
        for operation in sorted((case_dir / "operations").glob("*.graphql")):
            yield f"{topic}/{case_dir.name}/{operation.stem}", supergraph, operation


_loaded: dict[Path, Supergraph] = {}


def printed_plan(
    supergraph_path: Path, operation_path: Path, labels: frozenset[str] = frozenset()
) -> str:
    if supergraph_path not in _loaded:
        _loaded[supergraph_path] = load_supergraph(
            supergraph_path.read_text(), authorization_enforced=True
        )
    supergraph = _loaded[supergraph_path]
    try:
        document = parse(operation_path.read_text())
    except GraphQLError as error:  # never planned: the gateway answers GRAPHQL_PARSE_FAILED
        return f"Invalid: {error.message}\n"
    errors = validate(supergraph.api_schema, document)
    if errors:  # never planned: the gateway answers GRAPHQL_VALIDATION_FAILED
        return "".join(f"Invalid: {error.message}\n" for error in errors)
    # Progressive override labels that hold for every request: percent(100) on, percent(0) off.
    labels = labels | {label for label in supergraph.override_labels if label == "percent(100)"}
    try:
        plan = build_query_plan(supergraph, document, override_labels=labels)
    except PlanningError as error:  # refused at plan time: the snapshot pins code and message
        return f"Refused ({error.code}): {error}\n"
    return print_plan(plan) + "\n"


def snapshot_path(case_id: str) -> Path:
    return PLANS_DIR / f"{case_id}.plan"


def main(selectors: list[str]) -> int:
    for selector in selectors:
        topic = selector.split("/")[0]
        for case_id, supergraph, operation in plan_cases(topic):
            if not case_id.startswith(selector):
                continue
            path = snapshot_path(case_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(printed_plan(supergraph, operation))
            print("wrote", path.relative_to(PLANS_DIR))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["write"]:
        sys.exit("usage: python -m tests.planner.plans write TOPIC[/CASE] ...")
    sys.exit(main(sys.argv[2:]))
