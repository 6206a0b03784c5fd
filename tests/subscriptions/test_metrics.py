"""Subscription metrics on the gateway's /metrics, read as Prometheus scrapes them while real
clients subscribe over both transports: open subscriptions per transport, events handed over,
events whose personal-data audit record was written, refusals by code, and subgraph connections
that failed."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.subscriptions.conftest import (
    WAIT_S,
    GatewayFactory,
    Running,
    World,
    auth_headers,
    sse_events,
    ws_client,
)

pytestmark = pytest.mark.anyio

PERSONAL = "subscription { penyaluranBansos(program: PKH) { id nominal keluarga { noKk } } }"
AGGREGATE = "subscription { penyaluranBansos { id program { kode } wilayah { nama } } }"


async def scrape(running: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, labels) -> value of every ``jamajama_subscription*`` sample."""
    async with httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http:
        text = (await http.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("jamajama_subscription") and not sample.name.endswith("_created")
    }


def opened(transport: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("jamajama_subscriptions_open", (("transport", transport),))


def events(transport: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("jamajama_subscription_events_total", (("transport", transport),))


AUDITED = ("jamajama_subscription_events_audited_total", ())


def refused(code: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("jamajama_subscriptions_refused_total", (("code", code),))


async def test_subscription_metrics_follow_real_clients(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway(max_per_client=1)
    no_kk = world.family()[0]
    baseline = world.subscribers()
    sse_headers = {**auth_headers("dasbor-gubernur"), "accept": "text/event-stream"}
    async with (
        contextlib.aclosing(ws_client(running, "sibansos", "penyaluran_bansos")) as clients,
        httpx.AsyncClient(base_url=running.url, timeout=WAIT_S) as http,
        http.stream("POST", "/graphql", json={"query": AGGREGATE}, headers=sse_headers) as sse,
    ):
        client = await anext(clients)
        await client.subscribe("p", PERSONAL)
        stream = sse_events(sse)
        for _ in range(2):  # two events: personal over WebSocket, aggregate over SSE
            await world.publish(no_kk, expected_subscribers=baseline + 2)
            assert (await client.receive())["type"] == "next"
            name, data = await asyncio.wait_for(anext(stream), WAIT_S)
            assert name == "next" and "errors" not in json.loads(data), data
        await client.subscribe("again", PERSONAL)  # over the per-client limit
        assert (await client.receive())["type"] == "error"
        await client.subscribe("bad", "subscription { tidakAda }")
        assert (await client.receive())["type"] == "error"
        during = await scrape(running)
    assert during == {
        opened("sse"): 1,
        opened("websocket"): 1,
        events("sse"): 2,
        events("websocket"): 2,
        AUDITED: 2,  # the personal events only
        refused("SUBSCRIPTION_LIMIT_EXCEEDED"): 1,
        refused("GRAPHQL_VALIDATION_FAILED"): 1,
    }
    # the clients left: nothing open any more
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while (after := await scrape(running))[opened("websocket")] + after[opened("sse")]:
        assert asyncio.get_running_loop().time() < deadline, after
        await asyncio.sleep(0.05)


async def test_a_failed_subgraph_connection_is_counted_by_subgraph(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    running.gateway.current.subgraph_urls["sosial"] = "http://127.0.0.1:9/graphql"
    async with contextlib.aclosing(ws_client(running, "dasbor-gubernur")) as clients:
        client = await anext(clients)
        await client.subscribe("1", AGGREGATE)
        assert (await client.receive())["type"] == "next"  # the error
        assert (await client.receive())["type"] == "complete"
    metrics = await scrape(running)
    failures = ("jamajama_subscription_upstream_failures_total", (("subgraph", "sosial"),))
    assert metrics[failures] == 1
    assert metrics.get(events("websocket"), 0) == 0  # the error is not an event
