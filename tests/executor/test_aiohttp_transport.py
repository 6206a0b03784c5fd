"""Both subgraph transports (aiohttp, lean) over real loopback HTTP: sharing of identical in-flight
queries, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.errors import SubgraphError
from gateway.executor.aiohttp_transport import AiohttpTransport
from gateway.executor.lean_transport import LeanTransport


class CountingSubgraph:
    """A loopback subgraph that counts requests and can be slowed down or made to fail."""

    def __init__(self) -> None:
        self.requests = 0
        self.delay = 0.05
        self.status = 200
        self.url = ""
        #: set when a request arrives; a request waits for ``release`` when it is given
        self.arrived = asyncio.Event()
        self.release: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.json()
        self.arrived.set()
        if self.release is not None:
            await self.release.wait()
        await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.Response(status=self.status, text="boom")
        return web.json_response({"data": {"echo": body.get("variables"), "n": self.requests}})


@pytest.fixture
async def subgraph() -> AsyncIterator[CountingSubgraph]:
    state = CountingSubgraph()
    app = web.Application()
    app.router.add_post("/graphql", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/graphql"
    yield state
    await runner.cleanup()


@pytest.fixture(params=[AiohttpTransport, LeanTransport])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AiohttpTransport]:
    client: AiohttpTransport = request.param(timeout=2.0)
    yield client
    await client.aclose()


QUERY: dict[str, Any] = {"query": "query { x }", "variables": {"a": 1}}


@pytest.mark.anyio
async def test_identical_queries_in_flight_share_one_call_but_not_objects(
    subgraph: CountingSubgraph, transport: AiohttpTransport
) -> None:
    results = await asyncio.gather(*(transport.fetch("s", subgraph.url, QUERY) for _ in range(10)))
    assert subgraph.requests == 1
    assert all(r == {"data": {"echo": {"a": 1}, "n": 1}} for r in results)
    assert len({id(r) for r in results}) == 10  # each caller decodes its own copy
    results[0]["data"]["echo"]["a"] = 2
    assert results[1]["data"]["echo"]["a"] == 1


@pytest.mark.anyio
async def test_different_requests_and_later_requests_are_not_shared(
    subgraph: CountingSubgraph, transport: AiohttpTransport
) -> None:
    other = {"query": "query { x }", "variables": {"a": 2}}
    await asyncio.gather(
        transport.fetch("s", subgraph.url, QUERY), transport.fetch("s", subgraph.url, other)
    )
    assert subgraph.requests == 2
    await transport.fetch("s", subgraph.url, QUERY)  # the earlier call is over: a new one
    assert subgraph.requests == 3


@pytest.mark.anyio
async def test_mutations_are_never_shared(
    subgraph: CountingSubgraph, transport: AiohttpTransport
) -> None:
    mutation = {"query": "mutation { bump }", "variables": {}}
    await asyncio.gather(*(transport.fetch("s", subgraph.url, mutation) for _ in range(5)))
    assert subgraph.requests == 5


@pytest.mark.anyio
async def test_a_shared_failure_reaches_every_caller(
    subgraph: CountingSubgraph, transport: AiohttpTransport
) -> None:
    subgraph.status = 500
    outcomes = await asyncio.gather(
        *(transport.fetch("s", subgraph.url, QUERY) for _ in range(3)), return_exceptions=True
    )
    assert subgraph.requests == 1
    assert all(isinstance(o, SubgraphError) and o.code == "SUBREQUEST_HTTP_ERROR" for o in outcomes)


@pytest.mark.anyio
async def test_the_first_caller_giving_up_does_not_cancel_the_others(
    subgraph: CountingSubgraph, transport: AiohttpTransport
) -> None:
    # the subgraph holds the request until released: no timing decides what is in flight
    subgraph.release = asyncio.Event()
    first = asyncio.ensure_future(transport.fetch("s", subgraph.url, QUERY))
    await asyncio.wait_for(subgraph.arrived.wait(), 10)
    second = asyncio.ensure_future(transport.fetch("s", subgraph.url, QUERY))
    for _ in range(10):  # let the second caller join the call in flight
        await asyncio.sleep(0)
    first.cancel()
    subgraph.release.set()
    assert (await second)["data"]["n"] == 1
    assert subgraph.requests == 1


@pytest.mark.anyio
async def test_unreachable_subgraph_error_does_not_reveal_its_address(
    transport: AiohttpTransport,
) -> None:
    with pytest.raises(SubgraphError) as caught:
        await transport.fetch("reviews", "http://127.0.0.1:9/graphql", QUERY)
    assert caught.value.message == "HTTP fetch failed from 'reviews': could not connect"
    assert caught.value.extensions == {"service": "reviews"}
