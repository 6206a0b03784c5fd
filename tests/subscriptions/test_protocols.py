"""The client protocols' edges: graphql-transport-ws close codes and messages, SSE for queries and
refusals, a subgraph that cannot be reached, and signed subgraph handshakes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.errors import SubgraphError
from gateway.executor.signing import RequestSigner
from gateway.subscriptions.upstream import SubgraphSubscriptions
from subgraphs import load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.store import Store
from tests.servers import ServerThread
from tests.subscriptions.conftest import (
    PROTOCOL,
    WAIT_S,
    GatewayFactory,
    Running,
    World,
    WsClient,
    auth_headers,
    sse_events,
    ws_client,
)

pytestmark = pytest.mark.anyio

AGGREGATE = "subscription { penyaluranBansos { id program { kode } } }"


async def _closed_with(running: Running, *messages: dict[str, Any]) -> tuple[int, str]:
    async with connect(running.ws_url, subprotocols=[PROTOCOL]) as connection:
        for message in messages:
            await connection.send(json.dumps(message))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(connection.recv(), WAIT_S)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_protocol_violations_close_with_the_protocols_codes(gateway: GatewayFactory) -> None:
    running = gateway(connection_init_timeout_seconds=0.3)
    init = {"type": "connection_init", "payload": auth_headers("dasbor-gubernur")}
    subscribe = {"id": "1", "type": "subscribe", "payload": {"query": AGGREGATE}}
    assert (await _closed_with(running))[0] == 4408  # no connection_init in time
    assert (await _closed_with(running, subscribe))[0] == 4401  # subscribe before the ack
    assert (await _closed_with(running, init, init))[0] == 4429
    assert (await _closed_with(running, {"type": "nonsense"}))[0] == 4400
    assert (await _closed_with(running, init, subscribe, subscribe))[0] == 4409
    bad_token = {"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}
    code, reason = await _closed_with(running, bad_token)
    assert code == 4403 and "JWT" in reason


async def test_handshake_needs_the_subprotocol_and_a_same_origin_browser(
    gateway: GatewayFactory,
) -> None:
    running = gateway()
    with pytest.raises(InvalidStatus):
        async with connect(running.ws_url):  # no graphql-transport-ws offered
            pass
    with pytest.raises(InvalidStatus):
        async with connect(running.ws_url, subprotocols=[PROTOCOL], origin="https://evil.example"):  # type: ignore[arg-type]
            pass


async def test_a_query_over_websocket_is_one_next_then_complete(
    gateway: GatewayFactory,
) -> None:
    running = gateway()
    async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
        client: WsClient = await anext(clients)
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
        await client.subscribe("q", "{ programBansos { kode } }")
        answer = await client.receive()
        assert answer["type"] == "next"
        assert {p["kode"] for p in answer["payload"]["data"]["programBansos"]} >= {"PKH", "BLT"}
        assert await client.receive() == {"id": "q", "type": "complete"}
        await client.subscribe("v", "subscription { penyaluranBansos { nope } }")
        refused = await client.receive()
        assert refused["type"] == "error" and refused["id"] == "v"
        assert refused["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_sse_answers_queries_and_refusals_as_one_event_then_complete(
    gateway: GatewayFactory,
) -> None:
    running = gateway()
    headers = {**auth_headers(None), "accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http:
        for query, check in (
            ("{ programBansos { kode } }", lambda r: len(r["data"]["programBansos"]) == 4),
            (  # anonymous: the subscription field is @authenticated
                AGGREGATE,
                lambda r: (
                    r["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
                    and r["errors"][0]["path"] == ["penyaluranBansos"]
                ),
            ),
        ):
            async with http.stream(
                "POST", "/graphql", json={"query": query}, headers=headers
            ) as sse:
                events = [item async for item in sse_events(sse)]
            assert [name for name, _ in events] == ["next", "complete"], events
            assert check(json.loads(events[0][1])), events


async def test_an_unreachable_subgraph_ends_the_subscription_with_an_error(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    # sosial cannot be reached: the subscription's subgraph URL is a closed port
    running.gateway.current.subgraph_urls["sosial"] = "http://127.0.0.1:9/graphql"
    async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
        client = await anext(clients)
        await client.subscribe("1", AGGREGATE)
        failed = await client.receive()
        assert failed["type"] == "next"
        error = failed["payload"]["errors"][0]
        assert error["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
        assert await client.receive() == {"id": "1", "type": "complete"}


async def test_a_signing_subgraph_takes_only_signed_handshakes(world: World) -> None:
    key = b"subscription-signing-key-0123456789"
    store = Store(world.directory / "sosial.sqlite3")
    app = build_app(load_subgraph("sosial"), store, signing_keys=[key])
    body = {"query": "subscription { penyaluranBansos { id } }"}
    try:
        with ServerThread(app, lifespan="off", ws="websockets-sansio") as server:
            url = f"{server.url}/graphql"
            unsigned = SubgraphSubscriptions(connect_timeout=WAIT_S)
            with pytest.raises(SubgraphError, match="403"):
                await anext(unsigned.events("sosial", url, body))
            await unsigned.aclose()
            signed = SubgraphSubscriptions(
                connect_timeout=WAIT_S, signer=RequestSigner(key.decode())
            )
            events = signed.events("sosial", url, body)
            first = asyncio.ensure_future(anext(events))
            broker = next(
                r.app.events for r in app.routes if hasattr(getattr(r, "app", None), "events")
            )
            for _ in range(500):
                if broker.subscribers("penyaluran_bansos"):
                    break
                await asyncio.sleep(0.01)
            assert broker.subscribers("penyaluran_bansos") == 1  # the signed one got in
            first.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await events.aclose()
            await signed.aclose()
    finally:
        store.close()
