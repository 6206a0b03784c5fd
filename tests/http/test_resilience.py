"""Subgraph resilience over real HTTP: circuit breaker, per-subgraph timeouts, header
propagation, HMAC-signed requests verified by the OPD subgraph kit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp

from gateway.errors import SubgraphError
from gateway.executor.resilience import CircuitBreaker
from gateway.executor.transport import http_error
from subgraphs.kit.signing import SignatureRequired
from tests.http.servers import running_gateway


class _Flaky:
    def __init__(self) -> None:
        self.calls = 0
        self.down = True

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.calls += 1
        if self.down:
            raise http_error(subgraph, "could not connect")
        return {"data": {}}


@pytest.mark.anyio
async def test_breaker_opens_fails_fast_and_recovers_by_itself() -> None:
    now = [0.0]
    changes: list[tuple[str, bool]] = []
    inner = _Flaky()
    breaker = CircuitBreaker(
        inner,
        failure_threshold=3,
        reset_seconds=10,
        clock=lambda: now[0],
        on_change=lambda s, o: changes.append((s, o)),
    )
    for _ in range(3):
        with pytest.raises(SubgraphError):
            await breaker.fetch("a", "http://a", {})
    assert breaker.is_open("a") and changes == [("a", True)]
    with pytest.raises(SubgraphError) as fast:
        await breaker.fetch("a", "http://a", {})
    assert fast.value.extensions["circuit"] == "open"
    assert inner.calls == 3  # failed fast, the subgraph was not called
    with pytest.raises(SubgraphError) as other:  # another subgraph has its own circuit
        await breaker.fetch("b", "http://b", {})
    assert "circuit" not in other.value.extensions
    inner.calls -= 1
    now[0] = 11
    with pytest.raises(SubgraphError):  # the trial fails: open again for another period
        await breaker.fetch("a", "http://a", {})
    assert inner.calls == 4
    now[0] = 15
    with pytest.raises(SubgraphError):
        await breaker.fetch("a", "http://a", {})
    assert inner.calls == 4
    inner.down = False
    now[0] = 22
    assert await breaker.fetch("a", "http://a", {}) == {"data": {}}
    assert not breaker.is_open("a") and changes[-1] == ("a", False)


@pytest.mark.anyio
async def test_breaker_ignores_client_errors() -> None:
    class Refusing:
        async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
            raise http_error(subgraph, "400: Bad Request", http={"status": 400})

    breaker = CircuitBreaker(Refusing(), failure_threshold=1)
    for _ in range(3):
        with pytest.raises(SubgraphError):
            await breaker.fetch("a", "http://a", {})
    assert not breaker.is_open("a")


def test_breaker_over_http_stops_calling_a_down_subgraph() -> None:
    settings = {"subgraphs": {"circuit_breaker": {"failure_threshold": 2, "reset_seconds": 60}}}
    with (
        running_gateway(lambda body: 502, settings) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        for _ in range(5):
            body = client.post("/graphql", json={"query": "{ me { id } }"}).json()
            assert body["data"] == {"me": None}
            assert body["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
        assert len(running.subgraph.requests) == 2
        assert "circuit open" in body["errors"][0]["message"]
        metrics = client.get("/metrics").text
        assert 'jamajama_subgraph_circuit_open{subgraph="accounts"} 1.0' in metrics


def test_per_subgraph_timeout() -> None:
    settings = {"subgraphs": {"timeout": 10, "timeouts": {"accounts": 0.2}}}
    with running_gateway(settings=settings) as running, httpx.Client(base_url=running.url) as c:
        running.subgraph.delay = 1.0
        body = c.post("/graphql", json={"query": "{ me { id } }"}).json()
        assert (
            body["errors"][0]["message"] == "HTTP fetch failed from 'accounts': request timed out"
        )


def test_configured_headers_are_propagated_to_subgraphs() -> None:
    settings = {"subgraphs": {"propagate_headers": ["x-jamajama-purpose", "accept-language"]}}
    with running_gateway(settings=settings) as running, httpx.Client(base_url=running.url) as c:
        c.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"x-jamajama-purpose": "pelayanan", "cookie": "session=secret"},
        )
        headers = running.subgraph.requests[-1][1]
        assert headers["x-jamajama-purpose"] == "pelayanan"
        assert "cookie" not in headers
        assert "accept-language" not in headers


def _kit_verifying(key: bytes) -> Any:
    def wrap(app: Starlette) -> ASGIApp:
        return SignatureRequired(app, subgraph="accounts", keys=[b"old-key", key])

    return wrap


def test_signed_requests_pass_the_kit_and_unsigned_ones_are_refused() -> None:
    signed = {"subgraphs": {"signing": {"key": "s3cret"}}}
    with (
        running_gateway(settings=signed, subgraph_app=_kit_verifying(b"s3cret")) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        ok = client.post("/graphql", json={"query": "{ me { id } }"})
        assert ok.json() == {"data": {"me": {"id": "1"}}}
        # the same query again: a fresh nonce, not a replay
        assert client.post("/graphql", json={"query": "{ me { id } }"}).json() == ok.json()
        headers = running.subgraph.requests[-1][1]
        assert headers["x-jamajama-signature"].startswith("v2=")
    with (
        running_gateway(subgraph_app=_kit_verifying(b"s3cret")) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        refused = client.post("/graphql", json={"query": "{ me { id } }"}).json()
        assert refused["errors"][0]["message"] == (
            "HTTP fetch failed from 'accounts': 401: Unauthorized"
        )
        assert running.subgraph.requests == []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
