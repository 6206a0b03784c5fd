"""Entities met several times in one list are sent once per fetch, and answered everywhere.

The corpus compares answers (and request counts), not what a request carried: here the
representations an entity fetch sends are counted, on `entities/lists-of-lists` (a grid of lists
with nulls and the same key twice; 500 items over 250 keys).
"""

from __future__ import annotations

import json

import pytest

from tests.federation.corpus import (
    corpus_gateway,
    discover_cases,
    dump_response,
    normalize_urls,
    serve_case,
)
from tests.federation.subgraph_server import SubgraphHost

CASE = next(iter(discover_cases(["entities/lists-of-lists"])))


@pytest.mark.anyio
@pytest.mark.parametrize(("operation_name", "unique_keys"), [("grid", 2), ("many", 250)])
async def test_each_key_is_sent_once(
    subgraph_host: SubgraphHost, operation_name: str, unique_keys: int
) -> None:
    operation = next(op for op in CASE.operations if op.name == operation_name)
    with serve_case(subgraph_host, CASE) as running:
        gateway = corpus_gateway(CASE, running.urls)
        try:
            result = await gateway.execute(operation.query, variables=operation.variables)
        finally:
            await gateway.aclose()
        sent = [
            representation
            for request in running.subgraphs["inventory"].requests
            for representation in (request.variables or {}).get("representations", [])
        ]
    actual = normalize_urls(result, running.urls)
    assert dump_response(actual) == dump_response(operation.expected)
    assert len(sent) == unique_keys
    assert len({json.dumps(r, sort_keys=True) for r in sent}) == unique_keys
