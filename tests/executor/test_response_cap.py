"""The subgraph response size cap: an oversized body is refused while it streams, never held whole.

Issue 14, finding 1: one 256 MiB answer raised the gateway's memory by ~770 MiB. Here a loopback
subgraph streams a 64 MiB body; the transport must stop near the cap (1 MiB), which is measured
twice: bytes the subgraph managed to send, and the peak of Python allocations during the fetch.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gateway.errors import SubgraphError
from gateway.executor.aiohttp_transport import AiohttpTransport
from gateway.executor.lean_transport import LeanTransport

MiB = 1024 * 1024
BODY = 64 * MiB
QUERY = {"query": "{ a }"}


class HugeSubgraph:
    """Streams ``BODY`` bytes of a JSON string; counts what it could write before the peer left."""

    def __init__(self) -> None:
        self.url = ""
        self.sent = 0
        self.declare_length = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        if self.declare_length:
            response.content_length = BODY
        await response.prepare(request)
        chunk = b"x" * MiB
        try:
            await response.write(b'{"data":{"a":"')
            while self.sent < BODY - 2 * MiB:
                await response.write(chunk)
                self.sent += len(chunk)
            await response.write(b'"}}')
        except (ConnectionResetError, ConnectionError):
            pass
        return response


@pytest.fixture(params=[AiohttpTransport, LeanTransport])
def client(request: pytest.FixtureRequest) -> type[AiohttpTransport]:
    """Both subgraph transports enforce the cap the same way."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def huge() -> AsyncIterator[HugeSubgraph]:
    state = HugeSubgraph()
    app = web.Application()
    app.router.add_post("/graphql", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/graphql"
    yield state
    await runner.cleanup()


async def _fetch_measured(transport: AiohttpTransport, url: str) -> tuple[SubgraphError, int]:
    tracemalloc.start()
    try:
        with pytest.raises(SubgraphError) as caught:
            await transport.fetch("huge", url, QUERY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.anyio
async def test_a_streamed_oversized_body_is_refused_without_being_read(
    huge: HugeSubgraph, client: type[AiohttpTransport]
) -> None:
    transport = client(timeout=30.0, max_response_bytes=MiB)
    try:
        error, peak = await _fetch_measured(transport, huge.url)
    finally:
        await transport.aclose()
    assert error.code == "SUBGRAPH_RESPONSE_TOO_LARGE"
    assert error.extensions == {"service": "huge"}
    # the subgraph could only fill the socket buffers, not send its 64 MiB
    assert huge.sent < 24 * MiB
    assert peak < 8 * MiB, f"peak allocation during the fetch: {peak / MiB:.1f} MiB"


@pytest.mark.anyio
async def test_a_declared_oversized_length_is_refused_before_reading(
    huge: HugeSubgraph, client: type[AiohttpTransport]
) -> None:
    huge.declare_length = True
    transport = client(timeout=30.0, max_response_bytes=MiB)
    try:
        error, peak = await _fetch_measured(transport, huge.url)
    finally:
        await transport.aclose()
    assert error.code == "SUBGRAPH_RESPONSE_TOO_LARGE"
    assert peak < 8 * MiB


@pytest.mark.anyio
async def test_a_per_subgraph_cap_overrides_the_default(
    huge: HugeSubgraph, client: type[AiohttpTransport]
) -> None:
    # the default would let it through; the subgraph's own cap refuses it
    transport = client(
        timeout=30.0, max_response_bytes=0, max_response_bytes_by_subgraph={"huge": 2 * MiB}
    )
    try:
        error, _ = await _fetch_measured(transport, huge.url)
    finally:
        await transport.aclose()
    assert error.code == "SUBGRAPH_RESPONSE_TOO_LARGE"


@pytest.mark.anyio
async def test_a_body_under_the_cap_is_answered(
    huge: HugeSubgraph, client: type[AiohttpTransport]
) -> None:
    transport = client(
        timeout=30.0, max_response_bytes=MiB, max_response_bytes_by_subgraph={"huge": 128 * MiB}
    )
    try:
        answer = await transport.fetch("huge", huge.url, QUERY)
    finally:
        await transport.aclose()
    assert len(answer["data"]["a"]) == huge.sent
