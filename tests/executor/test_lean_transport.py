"""The lean transport's HTTP/1.1 handling against a raw loopback server that answers as told:
chunked and read-until-close bodies, keep-alive reuse and close, pool limits, timeouts, broken
responses and header injection. (Sharing, caps and error shapes: test_aiohttp_transport.py and
test_response_cap.py run both transports.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from gateway.errors import SubgraphError
from gateway.executor.lean_transport import LeanTransport

QUERY = {"query": "query { x }", "variables": {"a": 1}}
ANSWER = b'{"data":{"x":1}}'


def _content_length(body: bytes = ANSWER, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class RawSubgraph:
    """Answers each request with ``respond(request_bytes)``; counts connections and requests."""

    def __init__(self) -> None:
        self.respond: Callable[[bytes], bytes | None] = lambda request: _content_length()
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[bytes] = []
        self.hold: asyncio.Event | None = None
        self.closed = asyncio.Event()
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if self.hold is not None:
                    await self.hold.wait()
                await asyncio.sleep(0.01)  # let other requests pile up (pool limits)
                answer = self.respond(request)
                if answer is None:  # close without answering
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer or b"HTTP/1.0" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()
            self.closed.set()


@pytest.fixture
async def raw() -> AsyncIterator[RawSubgraph]:
    state = RawSubgraph()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
    yield state
    server.close()


@pytest.fixture
async def lean() -> AsyncIterator[LeanTransport]:
    transport = LeanTransport(timeout=5.0, deduplicate=False)
    yield transport
    await transport.aclose()


@pytest.mark.anyio
async def test_sequential_requests_reuse_one_keep_alive_connection(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    for _ in range(5):
        assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert raw.connections == 1
    assert len(raw.requests) == 5
    first = raw.requests[0]
    assert first.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert b"Content-Type: application/json\r\n" in first
    assert first.endswith(orjson.dumps(QUERY))


@pytest.mark.anyio
async def test_a_chunked_body_is_reassembled(raw: RawSubgraph, lean: LeanTransport) -> None:
    raw.respond = lambda request: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"dat\r\n6\r\na":{"x\r\n5\r\n":2}}\r\n0\r\n\r\n'
    )
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 2}}
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 2}}
    assert raw.connections == 1  # a complete chunked answer leaves the connection reusable


@pytest.mark.anyio
async def test_connection_close_and_read_until_close_bodies(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.respond = lambda request: _content_length(extra=b"Connection: close\r\n")
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    raw.respond = lambda request: b"HTTP/1.0 200 OK\r\n\r\n" + ANSWER  # no length: ends at EOF
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert raw.connections == 3  # none of these connections was reused


@pytest.mark.anyio
async def test_a_connection_the_subgraph_closed_while_idle_is_not_reused(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.respond = lambda request: _content_length()
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    raw.respond = lambda request: None
    raw.closed.clear()
    with pytest.raises(SubgraphError) as caught:  # the subgraph hangs up instead of answering
        await lean.fetch("s", raw.url, QUERY)
    assert caught.value.code == "SUBREQUEST_HTTP_ERROR"
    assert caught.value.message == (
        "HTTP fetch failed from 's': connection failed (ServerDisconnectedError)"
    )
    raw.respond = lambda request: _content_length()
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert raw.connections == 2


@pytest.mark.anyio
async def test_a_connection_with_an_unasked_for_answer_is_not_reused(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.respond = lambda request: _content_length() + _content_length(b'{"data":{"x":9}}')
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert raw.connections == 2


@pytest.mark.anyio
async def test_a_response_that_is_not_http_is_an_http_error(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.respond = lambda request: b"SSH-2.0-OpenSSH\r\n\r\n"
    with pytest.raises(SubgraphError) as caught:
        await lean.fetch("s", raw.url, QUERY)
    assert caught.value.code == "SUBREQUEST_HTTP_ERROR"
    assert caught.value.extensions == {"service": "s"}


@pytest.mark.anyio
async def test_a_non_2xx_status_keeps_its_reason_and_status(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.respond = lambda request: (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
    )
    with pytest.raises(SubgraphError) as caught:
        await lean.fetch("s", raw.url, QUERY)
    assert caught.value.message == "HTTP fetch failed from 's': 503: Service Unavailable"
    assert caught.value.extensions == {"service": "s", "http": {"status": 503}}


@pytest.mark.anyio
async def test_a_timed_out_request_closes_its_connection(raw: RawSubgraph) -> None:
    transport = LeanTransport(timeout=10.0, timeouts={"slow": 0.2}, deduplicate=False)
    try:
        assert await transport.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
        raw.hold = asyncio.Event()  # the subgraph does not answer until released
        with pytest.raises(SubgraphError) as caught:  # on the kept-alive connection
            await transport.fetch("slow", raw.url, QUERY)
        assert caught.value.message == "HTTP fetch failed from 'slow': request timed out"
        raw.hold.set()
        await asyncio.wait_for(raw.closed.wait(), 10)  # the gateway dropped that connection
        assert await transport.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
        assert raw.connections == 2
    finally:
        await transport.aclose()


@pytest.mark.anyio
async def test_a_cancelled_request_does_not_leave_a_half_read_connection(
    raw: RawSubgraph, lean: LeanTransport
) -> None:
    raw.hold = asyncio.Event()
    pending = asyncio.ensure_future(lean.fetch("s", raw.url, QUERY))
    while not raw.requests:
        await asyncio.sleep(0.01)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    raw.hold.set()
    assert await lean.fetch("s", raw.url, QUERY) == {"data": {"x": 1}}
    assert raw.connections == 2


@pytest.mark.anyio
async def test_the_per_host_limit_caps_open_connections(raw: RawSubgraph) -> None:
    transport = LeanTransport(timeout=10.0, deduplicate=False, max_connections_per_host=2)
    try:
        answers = await asyncio.gather(*(transport.fetch("s", raw.url, QUERY) for _ in range(8)))
    finally:
        await transport.aclose()
    assert answers == [{"data": {"x": 1}}] * 8
    assert raw.most_open <= 2
    assert raw.connections == 2


@pytest.mark.anyio
async def test_the_total_limit_caps_requests_in_flight(raw: RawSubgraph) -> None:
    transport = LeanTransport(timeout=10.0, deduplicate=False, max_connections=3)
    try:
        await asyncio.gather(*(transport.fetch("s", raw.url, QUERY) for _ in range(9)))
    finally:
        await transport.aclose()
    assert raw.most_open <= 3


@pytest.mark.anyio
async def test_propagated_and_send_headers_are_written_and_line_breaks_refused(
    raw: RawSubgraph,
) -> None:
    propagated = {"x-jamajama-purpose": "audit"}
    transport = LeanTransport(
        deduplicate=False,
        request_headers=lambda: propagated,
        send_headers=lambda subgraph, url, body: {"x-signature": f"{subgraph}:{len(body)}"},
    )
    try:
        await transport.fetch("s", raw.url, QUERY)
        assert b"\r\nx-jamajama-purpose: audit\r\n" in raw.requests[0]
        assert f"\r\nx-signature: s:{len(orjson.dumps(QUERY))}\r\n".encode() in raw.requests[0]
        propagated = {"x-jamajama-purpose": "a\r\nx-injected: 1"}
        with pytest.raises(SubgraphError) as caught:
            await transport.fetch("s", raw.url, QUERY)
        assert caught.value.code == "SUBREQUEST_HTTP_ERROR"
        assert len(raw.requests) == 1  # nothing was sent
    finally:
        await transport.aclose()


@pytest.mark.anyio
async def test_an_unreachable_subgraph_is_could_not_connect(lean: LeanTransport) -> None:
    with pytest.raises(SubgraphError) as caught:
        await lean.fetch("reviews", "http://127.0.0.1:9/graphql", QUERY)
    assert caught.value.message == "HTTP fetch failed from 'reviews': could not connect"


def test_the_setting_chooses_the_client_and_lean_is_the_default() -> None:
    from gateway.assembly import build_transport
    from gateway.config import Settings
    from gateway.executor.aiohttp_transport import AiohttpTransport

    def innermost(transport: object) -> object:
        while not isinstance(transport, AiohttpTransport):
            transport = transport.inner  # type: ignore[attr-defined]
        return transport

    default = build_transport(Settings(telemetry={"metrics": False}), None, None)[0]
    assert type(innermost(default)) is LeanTransport
    for name, expected in (("aiohttp", AiohttpTransport), ("lean", LeanTransport)):
        settings = Settings(telemetry={"metrics": False}, subgraphs={"transport": name})
        assert type(innermost(build_transport(settings, None, None)[0])) is expected
    with pytest.raises(ValueError):
        Settings(subgraphs={"transport": "curl"})
