"""Overload protection over real HTTP: a cap on requests in flight with 503 + Retry-After, a
request deadline, probes answered while shedding (issue 14), under a bounded load."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.http.servers import running_gateway

QUERY = {"query": "{ me { id } }"}


async def _burst(url: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return list(
            await asyncio.gather(*(client.post("/graphql", json=QUERY) for _ in range(count)))
        )


def test_requests_past_the_in_flight_limit_are_shed_with_retry_after() -> None:
    settings: dict[str, Any] = {
        "http": {"overload": {"max_in_flight": 4, "retry_after_seconds": 2}}
    }
    with running_gateway(settings=settings) as running:
        running.subgraph.delay = 0.5  # every request stays in flight half a second
        started = time.monotonic()
        responses = asyncio.run(_burst(running.url, 40))
        elapsed = time.monotonic() - started
        served = [r for r in responses if r.status_code == 200]
        shed = [r for r in responses if r.status_code == 503]
        assert len(served) + len(shed) == 40
        assert 1 <= len(served) <= 4 * 3  # at most 4 at a time, within the burst
        assert len(shed) >= 40 - 12
        for response in shed:
            assert response.headers["retry-after"] == "2"
            assert response.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
        assert elapsed < 5  # shed at once, not queued behind the slow ones
        # while saturated, the probes still answer
        running.subgraph.delay = 1.0

        async def saturated() -> tuple[list[httpx.Response], httpx.Response]:
            load = asyncio.ensure_future(_burst(running.url, 4))
            await asyncio.sleep(0.3)
            async with httpx.AsyncClient(base_url=running.url) as client:
                probe = await client.get("/health")
            return await load, probe

        _, probe = asyncio.run(saturated())
        assert probe.status_code == 200
        running.subgraph.delay = 0.0
        after = httpx.post(f"{running.url}/graphql", json=QUERY)
        assert after.status_code == 200 and after.json()["data"]["me"]["id"] == "1"


def test_a_request_past_its_deadline_is_answered_503() -> None:
    settings: dict[str, Any] = {"http": {"overload": {"deadline_seconds": 0.5}}}
    with running_gateway(settings=settings) as running:
        running.subgraph.delay = 3.0
        started = time.monotonic()
        response = httpx.post(f"{running.url}/graphql", json=QUERY, timeout=10)
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "DEADLINE_EXCEEDED"
        assert "retry-after" in response.headers
        assert elapsed < 2.0


def test_shed_requests_are_counted_in_the_metrics() -> None:
    settings: dict[str, Any] = {
        "http": {"overload": {"max_in_flight": 1}},
        "telemetry": {"metrics": True},
    }
    with running_gateway(settings=settings) as running:
        running.subgraph.delay = 0.5
        responses = asyncio.run(_burst(running.url, 10))
        shed = sum(r.status_code == 503 for r in responses)
        assert shed >= 1
        exposition = httpx.get(f"{running.url}/metrics").text
        assert f'jamajama_requests_shed_total{{reason="OVERLOADED"}} {shed}.0' in exposition
