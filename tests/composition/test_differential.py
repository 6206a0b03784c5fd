"""Differential tests: our supergraph against the one The Guild's composer produces.

The federation corpus records each case's supergraph as composed by the npm composer, so the
structural comparison runs without Node; the ``node`` tests compose live (OPD, bench, error cases).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLError, parse, validate

from gateway.composition.compose import compose
from gateway.planner import build_query_plan, print_plan
from gateway.supergraph import load_supergraph
from tests.composition.conftest import (
    ERROR_CASES,
    FEDERATION_CASES,
    OPD_SUBGRAPHS,
    REPO,
    reference_compose,
    sources_in,
)
from tests.composition.supergraph_diff import diff_supergraphs

VALID_CASES = Path(__file__).parent / "valid"
#: corpus cases whose subgraphs do not compose on purpose (every composer refuses them; the
#: supergraph is hand-made to test that the gateway refuses what no plan can answer): the code
#: our composer must refuse them with
UNCOMPOSABLE = {"planning/unplannable-interface-object": "SATISFIABILITY_ERROR"}
ALL_CORPUS = sorted(p.parent for p in FEDERATION_CASES.glob("*/*/supergraph.graphql")) + sorted(
    p.parent for p in VALID_CASES.glob("*/supergraph.graphql")
)
CORPUS = [case for case in ALL_CORPUS if f"{case.parent.name}/{case.name}" not in UNCOMPOSABLE]
ERRORS = sorted(p for p in ERROR_CASES.iterdir() if (p / "expected.json").exists())


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("case", CORPUS, ids=_name)
def test_corpus_supergraph_equivalent_to_reference(case: Path) -> None:
    result = compose(sources_in(case / "subgraphs"))
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    expected = (case / "supergraph.graphql").read_text()
    assert diff_supergraphs(result.supergraph_sdl, expected) == []


@pytest.mark.parametrize("case", [c for c in ALL_CORPUS if c not in CORPUS], ids=_name)
def test_uncomposable_corpus_case_is_refused(case: Path) -> None:
    result = compose(sources_in(case / "subgraphs"))
    assert result.supergraph_sdl is None
    assert UNCOMPOSABLE[_name(case)] in {e.code for e in result.errors}


@pytest.mark.parametrize("case", CORPUS, ids=_name)
def test_corpus_supergraph_plans_like_reference(case: Path) -> None:
    result = compose(sources_in(case / "subgraphs"))
    assert result.supergraph_sdl is not None
    ours = load_supergraph(result.supergraph_sdl, authorization_enforced=True)
    theirs = load_supergraph((case / "supergraph.graphql").read_text(), authorization_enforced=True)
    for operation in sorted((case / "operations").glob("*.graphql")):
        try:
            document = parse(operation.read_text())
        except GraphQLError:
            continue
        if validate(theirs.api_schema, document):
            continue
        assert not validate(ours.api_schema, document), operation.name
        assert print_plan(build_query_plan(ours, document, None)) == print_plan(
            build_query_plan(theirs, document, None)
        ), operation.name


@pytest.mark.node
@pytest.mark.parametrize(
    ("directory", "names"),
    [(REPO / "schema", OPD_SUBGRAPHS), (REPO / "bench" / "subgraphs", None)],
    ids=["opd", "bench"],
)
def test_live_supergraph_equivalent_to_reference(
    directory: Path, names: list[str] | None, tmp_path: Path
) -> None:
    sources = sources_in(directory, names)
    expected, codes = reference_compose(sources, tmp_path)
    assert expected is not None, codes
    result = compose(sources)
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    assert diff_supergraphs(result.supergraph_sdl, expected) == []
    load_supergraph(result.supergraph_sdl, authorization_enforced=True)


def _deviations(case: Path) -> dict[str, str]:
    """``deviations.json``: composer -> why its answer differs from the recorded supergraph."""
    path = case / "deviations.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.node
@pytest.mark.parametrize("composer", ["apollo", "guild"])
@pytest.mark.parametrize("case", sorted(VALID_CASES.iterdir()), ids=lambda p: p.name)
def test_recorded_reference_supergraph_is_current(
    case: Path, composer: str, reference_batch: dict[str, Any], apollo_batch: dict[str, Any]
) -> None:
    """The recorded supergraph is what both npm composers produce, except where a case names a
    known deviation (Apollo's @apollo/composition is the judge when the two disagree)."""
    batch = apollo_batch if composer == "apollo" else reference_batch
    answer = batch[f"valid/{case.name}"]
    recorded = (case / "supergraph.graphql").read_text()
    differences = (
        diff_supergraphs(recorded, answer["supergraph"]) if "supergraph" in answer else answer
    )
    if composer in _deviations(case):
        assert differences, f"{composer} now agrees: drop it from {case.name}/deviations.json"
    else:
        assert differences == []


@pytest.mark.parametrize("case", ERRORS, ids=lambda p: p.name)
def test_error_case_reports_expected_code(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    result = compose(sources_in(case / "subgraphs"))
    assert result.supergraph_sdl is None
    codes = {e.code for e in result.errors}
    assert set(expected["codes"]) <= codes, [str(e) for e in result.errors]
    if "message" in expected:
        assert expected["message"] in [e.message for e in result.errors]


@pytest.mark.node
@pytest.mark.parametrize("case", ERRORS, ids=lambda p: p.name)
def test_error_case_also_fails_in_reference(case: Path, reference_batch: dict[str, Any]) -> None:
    expected = json.loads((case / "expected.json").read_text())
    answer = reference_batch[f"cases/{case.name}"]
    if not expected["reference_codes"]:
        assert "supergraph" in answer, "reference now refuses this case too: update expected.json"
    else:
        assert "errors" in answer
        assert set(expected["reference_codes"]) <= {e["code"] for e in answer["errors"]}


@pytest.mark.node
@pytest.mark.parametrize(
    "case",
    [c for c in ERRORS if "apollo_codes" in json.loads((c / "expected.json").read_text())],
    ids=lambda p: p.name,
)
def test_error_case_fails_in_apollo(case: Path, apollo_batch: dict[str, Any]) -> None:
    """Where The Guild's composer is lenient, Apollo's (the judge) refuses like ours."""
    expected = json.loads((case / "expected.json").read_text())
    answer = apollo_batch[f"cases/{case.name}"]
    assert "errors" in answer
    assert set(expected["apollo_codes"]) <= {e["code"] for e in answer["errors"]}


def test_opd_supergraph_equivalent_to_the_committed_one() -> None:
    """schema/supergraph.graphql (served by `jamajama dev`) is what we compose from schema/."""
    result = compose(sources_in(REPO / "schema", OPD_SUBGRAPHS))
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    committed = (REPO / "schema" / "supergraph.graphql").read_text()
    assert diff_supergraphs(result.supergraph_sdl, committed) == []
