"""A Dinas Sosial disbursement event through the gateway, over WebSocket and SSE, with
authorization, masking and audit on: entity fields from other subgraphs per event, a refused
field per event, one audit record per event with personal data, limits, hot reload, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest

from tests.subscriptions.conftest import (
    SUPERGRAPH,
    WAIT_S,
    GatewayFactory,
    World,
    auth_headers,
    sse_events,
    ws_client,
)

pytestmark = pytest.mark.anyio

PERSONAL = """
subscription Penyaluran {
  penyaluranBansos(program: PKH) {
    id
    nominal
    program { kode nama }
    wilayah { kode nama }
    keluarga { noKk kepalaKeluarga { nama } }
  }
}
"""

AGGREGATE = """
subscription Ringkas { penyaluranBansos { id program { kode } wilayah { nama } } }
"""


def _subscription_records(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("operation_type") == "subscription"]


async def test_ws_event_resolves_entity_fields_from_other_subgraphs_and_is_audited(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, desa, head, village = world.family()
    async with contextlib.aclosing(ws_client(running, "sibansos", "penyaluran_bansos")) as clients:
        client = await anext(clients)
        await client.subscribe("1", PERSONAL)
        ids = []
        for _ in range(2):
            await world.publish(no_kk)
            message = await client.receive()
            assert message["type"] == "next" and message["id"] == "1", message
            event = message["payload"]
            assert "errors" not in event, event
            got = event["data"]["penyaluranBansos"]
            assert got["nominal"] == 750000
            assert got["program"]["kode"] == "PKH" and got["program"]["nama"]
            assert got["wilayah"] == {"kode": desa, "nama": village}  # from the wilayah subgraph
            assert got["keluarga"]["kepalaKeluarga"] == {"nama": head}  # from kependudukan
            ids.append(got["id"])
            # the event's audit record was written before the event was sent
            assert len(_subscription_records(running.audit_events())) == len(ids)
        assert ids[0] != ids[1]
        await client.send({"id": "1", "type": "complete"})
    records = _subscription_records(running.audit_events())
    assert len(records) == 2, records  # one per event with personal data
    for record in records:
        assert record["personal"] is True
        assert record["application"] == "sibansos"
        assert record["purpose"] == "penyaluran_bansos"
        assert record["operation_name"] == "Penyaluran"
        assert "PenyaluranBansos.nominal" in record["fields"]


async def test_sse_event_with_a_refused_field_each_time(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, _, village = world.family()
    query = "subscription { penyaluranBansos { id nominal wilayah { nama } } }"
    headers = {**auth_headers("dasbor-gubernur"), "accept": "text/event-stream"}
    got: list[tuple[str, Any]] = []
    async with (
        httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http,
        http.stream("POST", "/graphql", json={"query": query}, headers=headers) as sse,
    ):
        assert sse.status_code == 200
        assert sse.headers["content-type"].startswith("text/event-stream")
        events = sse_events(sse)
        for _ in range(2):
            await world.publish(no_kk)
            name, data = await asyncio.wait_for(anext(events), WAIT_S)
            got.append((name, json.loads(data)))
    assert len(got) == 2
    for name, response in got:
        assert name == "next"
        codes = {e["extensions"]["code"] for e in response["errors"]}
        assert codes == {"UNAUTHORIZED_FIELD_OR_TYPE"}, response
        assert response["errors"][0]["path"] == ["penyaluranBansos", "nominal"]
        event = response["data"]["penyaluranBansos"]
        assert event["nominal"] is None
        assert event["wilayah"] == {"nama": village}  # the rest of the event is served
    # nothing personal left the gateway: no durable personal record for these events
    assert not [r for r in _subscription_records(running.audit_events()) if r["personal"]]


async def test_limit_per_client_is_a_stable_error(world: World, gateway: GatewayFactory) -> None:
    running = gateway(max_per_client=1)
    async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
        client = await anext(clients)
        await client.subscribe("a", AGGREGATE)
        await world.publish(world.family()[0])
        assert (await client.receive())["type"] == "next"
        await client.subscribe("b", AGGREGATE)
        refused = await client.receive()
        assert refused["id"] == "b" and refused["type"] == "error", refused
        assert refused["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_EXCEEDED"


async def test_hot_reload_ends_subscriptions_with_the_documented_message(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
        client = await anext(clients)
        await client.subscribe("r", AGGREGATE)
        await world.publish(world.family()[0])
        assert (await client.receive())["type"] == "next"
        running.source.publish(SUPERGRAPH.read_text() + "\n", "v2")
        last = await client.receive()
        assert last["type"] == "next", last
        assert last["payload"]["errors"] == [
            {
                "message": "subscription has been closed due to a schema reload",
                "extensions": {"code": "SUBSCRIPTION_SCHEMA_RELOAD"},
            }
        ]
        assert await client.receive() == {"id": "r", "type": "complete"}


async def test_shutdown_ends_an_event_stream_with_the_documented_message(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    headers = {**auth_headers("dasbor-gubernur"), "accept": "text/event-stream"}
    got: list[tuple[str, str]] = []
    async with (
        httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http,
        http.stream("POST", "/graphql", json={"query": AGGREGATE}, headers=headers) as sse,
    ):
        events = sse_events(sse)
        await world.publish(world.family()[0])
        got.append(await asyncio.wait_for(anext(events), WAIT_S))
        stopping = asyncio.create_task(asyncio.to_thread(running.server.stop))
        got.extend([item async for item in events])
        await asyncio.wait_for(stopping, WAIT_S)
    assert [name for name, _ in got] == ["next", "next", "complete"]
    assert json.loads(got[1][1]) == {
        "errors": [
            {
                "message": "subscription has been closed because the gateway is shutting down",
                "extensions": {"code": "SUBSCRIPTION_SERVER_SHUTDOWN"},
            }
        ]
    }
