"""A subscription's life beyond its events: heartbeats on both transports while nothing
happens, hot reload ending an event stream, and a subgraph that fails in the middle of the stream
(it closes, sends its `error` message, sends something that is not the protocol, or stops
answering pings): the event before is delivered, then one clear error naming the subgraph, then
`complete`; nothing hangs and the subscription's slot is freed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect

from tests.servers import ServerThread
from tests.subscriptions.conftest import (
    PROTOCOL,
    SUPERGRAPH,
    WAIT_S,
    GatewayFactory,
    World,
    auth_headers,
    sse_events,
    ws_client,
)

pytestmark = pytest.mark.anyio

AGGREGATE = "subscription { penyaluranBansos { id program { kode } } }"
EVENT = {"data": {"penyaluranBansos": {"id": "PB-1", "program": {"kode": "PKH"}}}}


async def test_sse_sends_a_comment_line_after_each_idle_heartbeat_interval(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway(heartbeat_seconds=0.2)
    headers = {**auth_headers("dasbor-gubernur"), "accept": "text/event-stream"}
    lines: list[str] = []
    async with (
        httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http,
        http.stream("POST", "/graphql", json={"query": AGGREGATE}, headers=headers) as sse,
    ):
        stream = sse.aiter_lines()
        while lines.count(":") < 2:
            lines.append(await asyncio.wait_for(anext(stream), WAIT_S))
    # nothing happened upstream: only heartbeats (a comment and the blank line ending it)
    assert set(lines) == {":", ""}, lines


async def test_websocket_pings_after_each_idle_heartbeat_interval(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway(heartbeat_seconds=0.2)
    async with connect(running.ws_url, subprotocols=[PROTOCOL]) as connection:
        init = {"type": "connection_init", "payload": auth_headers("dasbor-gubernur")}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv()) == {"type": "connection_ack"}
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": AGGREGATE}}
        await connection.send(json.dumps(subscribe))
        for _ in range(2):
            message = json.loads(await asyncio.wait_for(connection.recv(), WAIT_S))
            assert message == {"type": "ping"}
            await connection.send(json.dumps({"type": "pong"}))


def failing_sosial(mode: str) -> Starlette:
    """A `sosial` that acknowledges, sends one event, then fails as ``mode`` says."""

    async def serve(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        assert (await websocket.receive_json())["type"] == "connection_init"
        await websocket.send_json({"type": "connection_ack"})
        subscribe = await websocket.receive_json()
        operation = subscribe["id"]
        await websocket.send_json({"id": operation, "type": "next", "payload": EVENT})
        if mode == "close":
            await websocket.close(code=1011)
            return
        if mode == "error":
            failure = {"id": operation, "type": "error", "payload": [{"message": "bansos down"}]}
            await websocket.send_json(failure)
        elif mode == "garbage":
            await websocket.send_text("this is not JSON")
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    return Starlette(routes=[WebSocketRoute("/graphql", serve)])


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[str]:
    with ServerThread(app, lifespan="off", ws="websockets-sansio") as server:
        yield f"{server.url}/graphql"


def _ended_with(got: list[dict[str, Any]], error: dict[str, Any]) -> None:
    """The event, then the error (subgraph messages are redacted by default, [http]
    subgraph_errors), then ``complete``."""
    assert got == [
        {"id": "1", "type": "next", "payload": EVENT},
        {"id": "1", "type": "next", "payload": {"errors": [error], "data": None}},
        {"id": "1", "type": "complete"},
    ]


async def _three_messages(world: World, gateway: GatewayFactory, mode: str) -> list[Any]:
    running = gateway()
    with serving(failing_sosial(mode)) as url:
        running.gateway.current.subgraph_urls["sosial"] = url
        async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
            client = await anext(clients)
            await client.subscribe("1", AGGREGATE)
            got = [await client.receive() for _ in range(3)]
    manager = running.server.server.config.app.state.subscriptions
    assert manager.open_count() == 0  # the slot is free again
    return got


@pytest.mark.parametrize("mode", ["close", "garbage"])
async def test_a_subgraph_failing_mid_stream_ends_the_subscription_with_an_error(
    world: World, gateway: GatewayFactory, mode: str
) -> None:
    got = await _three_messages(world, gateway, mode)
    redacted = {"code": "SUBREQUEST_HTTP_ERROR", "service": "sosial"}
    _ended_with(got, {"message": "Subgraph errors redacted", "extensions": redacted})


async def test_a_subgraph_error_message_mid_stream_is_forwarded_as_its_errors(
    world: World, gateway: GatewayFactory
) -> None:
    """As a subgraph's errors in a query's fetch: DOWNSTREAM_SERVICE_ERROR naming it."""
    got = await _three_messages(world, gateway, "error")
    redacted = {"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "sosial"}
    _ended_with(got, {"message": "Subgraph errors redacted", "extensions": redacted})


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    """One client frame's payload (RFC 6455: clients mask their frames)."""
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2))
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8))
    mask = await reader.readexactly(4)
    data = await reader.readexactly(length)
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _text_frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    assert len(data) < 126
    return bytes([0x81, len(data)]) + data


async def test_a_subgraph_that_stops_answering_pings_ends_the_subscription(
    world: World, gateway: GatewayFactory
) -> None:
    """A peer that went silent (dead host, cut network) is noticed by the gateway's pings."""

    done = asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await serve_then_go_silent(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def serve_then_go_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?i)sec-websocket-key: *(\S+)", request)
        assert match is not None
        accept = base64.b64encode(hashlib.sha1(match.group(1) + WS_GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Protocol: graphql-transport-ws\r\nSec-WebSocket-Accept: "
            + accept
            + b"\r\n\r\n"
        )
        await _read_frame(reader)  # connection_init
        writer.write(_text_frame({"type": "connection_ack"}))
        subscribe = json.loads(await _read_frame(reader))
        writer.write(_text_frame({"id": subscribe["id"], "type": "next", "payload": EVENT}))
        await writer.drain()
        await done.wait()  # reads nothing more: the pings go unanswered

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    running = gateway(heartbeat_seconds=0.3)
    running.gateway.current.subgraph_urls["sosial"] = f"http://127.0.0.1:{port}/graphql"
    try:
        async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
            client = await anext(clients)
            await client.subscribe("1", AGGREGATE)
            got = [await client.receive(timeout=5) for _ in range(3)]
    finally:
        done.set()
        server.close()
        await server.wait_closed()
        await asyncio.gather(*handlers, return_exceptions=True)
    redacted = {"code": "SUBREQUEST_HTTP_ERROR", "service": "sosial"}
    _ended_with(got, {"message": "Subgraph errors redacted", "extensions": redacted})


async def test_hot_reload_ends_an_event_stream_with_the_documented_message(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    headers = {**auth_headers("dasbor-gubernur"), "accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http,
        http.stream("POST", "/graphql", json={"query": AGGREGATE}, headers=headers) as sse,
    ):
        events = sse_events(sse)
        await world.publish(world.family()[0])
        first = await asyncio.wait_for(anext(events), WAIT_S)
        running.source.publish(SUPERGRAPH.read_text() + "\n", "v2")
        rest = [item async for item in events]
    assert first[0] == "next" and "errors" not in json.loads(first[1])
    assert [name for name, _ in rest] == ["next", "complete"]
    assert json.loads(rest[0][1]) == {
        "errors": [
            {
                "message": "subscription has been closed due to a schema reload",
                "extensions": {"code": "SUBSCRIPTION_SCHEMA_RELOAD"},
            }
        ]
    }
