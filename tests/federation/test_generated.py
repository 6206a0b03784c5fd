"""Generated differential test: operations drawn from each corpus supergraph's API schema answer
exactly as Apollo Gateway answers them on the same subgraphs.

`JAMAJAMA_GENERATED_OPS` operations in total (default 300) are spread round-robin over the cases
(`generate.py`, seed `JAMAJAMA_GENERATED_SEED`, default 0). Every plan's subgraph operations are
validated against the subgraphs' schemas. A disagreement fails unless `deviations.toml` explains
it (`deviations.py`): our bugs are strict xfails on their witnesses, so fixing one turns the test
red until its entry goes. `python -m tests.federation.differential --hive` lists disagreements with
Hive Gateway's answer (the tie-breaker). Needs Node.js and `npm ci` in tools/reference.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import httpx
import pytest

from tests.federation.corpus import RunningCase, discover_cases, dump_response, normalize_urls
from tests.federation.deviations import deviation_of, load_deviations, witness_slots
from tests.federation.differential import (
    DEFAULT_SEED,
    generator_for,
    ours_answer,
    reference_answer,
    seed_from_env,
    slots,
    total_from_env,
)
from tests.federation.record import REFERENCE_DIR, hive_available, hive_gateways, post

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(
        shutil.which("node") is None or not (REFERENCE_DIR / "node_modules").is_dir(),
        reason="needs node and `npm ci` in tools/reference",
    ),
]

SEED = seed_from_env()
DEVIATIONS = load_deviations(witnesses=SEED == DEFAULT_SEED)
CASES = {case.id: case for case in discover_cases() if not case.hive_oracle}
SLOTS = slots(list(CASES.values()), total_from_env())
# Every witness of a known deviation runs, whatever the count (and however many cases there are).
SLOTS += [
    (CASES[case_id], index)
    for case_id, index in witness_slots(DEVIATIONS)
    if case_id in CASES and (CASES[case_id], index) not in SLOTS
]


def _data(text: str) -> Any:
    return json.loads(text).get("data")


@pytest.fixture(scope="module")
def client() -> Any:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("case", "index"), SLOTS, ids=[f"{case.id}#{index}" for case, index in SLOTS]
)
async def test_generated_operation_answers_like_apollo_gateway(
    request: pytest.FixtureRequest,
    apollo: dict[str, tuple[RunningCase, str]],
    client: httpx.Client,
    case: Any,
    index: int,
) -> None:
    operation = generator_for(case, SEED).operation(index)
    running, apollo_url = apollo[case.id]
    ours = await ours_answer(running, operation)
    reference = reference_answer(client, apollo_url, running, operation)
    deviation = deviation_of(operation, DEVIATIONS)
    context = (
        f"{operation.id}\n{operation.query}\nvariables: {operation.variables}\n"
        f"(triage: python -m tests.federation.differential {case.id} --hive)"
    )
    if deviation is None:
        assert ours == reference, context
        return
    witness = operation.id in deviation.witnesses
    if deviation.kind == "ours-bug":
        # Our known bug: a witness must still show it (strict), other matches may or may not.
        reason = f"{deviation.kind} in {deviation.case}: see deviations.toml"
        request.applymarker(pytest.mark.xfail(strict=witness, reason=reason))
        assert ours == reference, context
    elif deviation.kind == "apollo-bug":
        assert ours != reference or not witness, f"no longer differs: {deviation.describe()}"
    else:  # implementation-defined errors: the data must still agree
        assert _data(ours) == _data(reference), context
        assert ours != reference or not witness, f"no longer differs: {deviation.describe()}"


@pytest.mark.skipif(not hive_available(), reason="needs `npm ci` in bench/ (Hive Gateway, Node 25)")
def test_the_tie_breaker_runs_on_the_same_inputs(
    apollo: dict[str, tuple[RunningCase, str]], client: httpx.Client
) -> None:
    """tools/reference/hive-gateway.mjs serves a case like apollo-gateway.mjs does."""
    running, _ = apollo["abstract/partial-union"]
    with hive_gateways([(running.case.supergraph_path, running.urls)]) as (url,):
        for operation in running.case.operations:
            running.reset()
            answer = post(client, url, operation.query, operation.variables)
            assert dump_response(normalize_urls(answer, running.urls)) == dump_response(
                operation.expected
            ), operation.name
