"""In-flight de-duplication of identical client requests (open gateways only)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.engine import Gateway
from gateway.planner.plan import FetchNode, QueryPlan
from gateway.supergraph import Supergraph

ME = "query Me($skip: Boolean = false) { me @skip(if: $skip) { name } }"


class SlowAccounts:
    """Answers `me` after a pause, so concurrent requests overlap; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.calls += 1
        await asyncio.sleep(0.02)
        if body["query"].startswith("mutation"):
            return {"data": {"rename": {"name": f"renamed {self.calls}"}}}
        return {"data": {"me": {"name": f"Ada {self.calls}"}}}


def _planner(plan_text: str) -> Any:
    def plan(*_: Any, **__: Any) -> QueryPlan:
        kind = "mutation" if plan_text.startswith("mutation") else "query"
        return QueryPlan(FetchNode("accounts", plan_text, operation_kind=kind))

    return plan


async def _warm(gateway: Gateway, query: str, variables: dict[str, Any] | None = None) -> None:
    await gateway.execute(query, variables)  # first sight of a document is never shared


@pytest.mark.anyio
async def test_identical_concurrent_queries_share_one_execution(supergraph: Supergraph) -> None:
    transport = SlowAccounts()
    gateway = Gateway(
        supergraph,
        transport=transport,
        planner=_planner("{ me { name } }"),
        deduplicate_requests=True,
    )
    await _warm(gateway, ME)
    results = await asyncio.gather(*(gateway.execute(ME, {"skip": False}) for _ in range(10)))
    assert transport.calls == 2
    assert all(r == {"data": {"me": {"name": "Ada 2"}}} for r in results)


@pytest.mark.anyio
async def test_different_variables_or_documents_are_not_shared(supergraph: Supergraph) -> None:
    transport = SlowAccounts()
    gateway = Gateway(
        supergraph,
        transport=transport,
        planner=_planner("{ me { name } }"),
        deduplicate_requests=True,
    )
    await _warm(gateway, ME)
    await asyncio.gather(gateway.execute(ME, {"skip": False}), gateway.execute(ME, {}))
    assert transport.calls == 3


@pytest.mark.anyio
async def test_mutations_are_never_shared(supergraph: Supergraph) -> None:
    transport = SlowAccounts()
    mutation = 'mutation { rename(id: "1", name: "x") { name } }'
    gateway = Gateway(
        supergraph,
        transport=transport,
        planner=_planner('mutation { rename(id: "1", name: "x") { name } }'),
        deduplicate_requests=True,
    )
    await _warm(gateway, mutation)
    await asyncio.gather(*(gateway.execute(mutation) for _ in range(4)))
    assert transport.calls == 5


@pytest.mark.anyio
async def test_sharing_is_off_by_default(supergraph: Supergraph) -> None:
    transport = SlowAccounts()
    gateway = Gateway(supergraph, transport=transport, planner=_planner("{ me { name } }"))
    await _warm(gateway, ME)
    await asyncio.gather(*(gateway.execute(ME) for _ in range(3)))
    assert transport.calls == 4
