"""The conformance corpus against our gateway: every case x operation, exact JSON (key order too).

Each case's subgraphs are served by the data-driven subgraph server on loopback; our gateway runs in
process on the case's supergraph with the routing URLs pointed at them. Expected answers were
recorded from Apollo Gateway (`python -m tests.federation.record`); `<op>.fetches.json`, where a
case has one, also pins the number of requests each subgraph may receive.
"""

from __future__ import annotations

import pytest

from tests.federation.corpus import (
    Case,
    Operation,
    corpus_gateway,
    discover_cases,
    dump_response,
    normalize_urls,
    serve_case,
)
from tests.federation.subgraph_server import SubgraphHost

CASE_OPERATIONS = [
    pytest.param(
        case,
        operation,
        id=f"{case.id}/{operation.name}",
        marks=[pytest.mark.xfail(strict=True, reason=operation.xfail_reason)]
        if operation.xfail_reason
        else [],
    )
    for case in discover_cases()
    for operation in case.operations
]


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "operation"), CASE_OPERATIONS)
async def test_gateway_answers_like_reference(
    subgraph_host: SubgraphHost, case: Case, operation: Operation
) -> None:
    with serve_case(subgraph_host, case) as running:
        gateway = corpus_gateway(case, running.urls)
        try:
            result = await gateway.execute(operation.query, variables=operation.variables)
        finally:
            await gateway.aclose()
        actual = normalize_urls(result, running.urls)
        assert dump_response(actual) == dump_response(operation.expected)
        expected_fetches = operation.fetches
        if expected_fetches is not None:
            assert running.fetch_counts() == expected_fetches
