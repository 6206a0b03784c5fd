"""Redis down, or restarted empty: trusted documents keep working, a gateway starts without it,
APQ and rate limits follow their documented setting and recover without a restart (issue 14,
finding 3). Redis here is a private ``redis-server`` on a free port that this test starts and
kills (no persistence, like the compose file's) — never the machine's shared one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.applications import create_registry
from gateway.auth.cli import mint_token
from gateway.auth.guard import HttpGuard
from gateway.config import Settings, dev_settings
from gateway.ratelimit.config import RateLimitSection
from gateway.ratelimit.limiter import RateLimiter
from tests.http.servers import running_gateway
from tests.http.test_persisted import QUERY, QUERY_HASH, _apq, _code, _manifest

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (apt-get install redis)"
)

OTHER = "query Other { me { id } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_redis(port: int) -> Iterator[None]:
    """An empty ``redis-server`` without persistence on ``port``, killed on exit."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)
        yield
    finally:
        process.kill()
        process.wait(timeout=10)


def _guard(tmp_path: Path, rate_limit: RateLimitSection) -> HttpGuard:
    settings = dev_settings(Settings(), tmp_path)
    return HttpGuard(
        settings.auth, create_registry(settings.auth.applications), RateLimiter(rate_limit)
    )


def _metric(url: str, store: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f'jamajama_shared_store_unavailable_total{{store="{store}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_gateway_starts_without_redis_and_survives_a_restart_empty(tmp_path: Path) -> None:
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    settings: dict[str, Any] = {
        "persisted_queries": {
            "backend": "redis",
            "redis_url": url,
            "key_prefix": "jj:faults:pq",
            "trusted": {"sibansos": {"manifest": str(_manifest(tmp_path)), "mode": "enforce"}},
        },
        "telemetry": {"metrics": True},
    }
    limits = RateLimitSection(backend="redis", redis_url=url, key_prefix="jj:faults:rl")
    guard = _guard(tmp_path, limits)
    sibansos = {"authorization": f"Bearer {mint_token('sibansos')}"}
    other = {"authorization": f"Bearer {mint_token('sehat-lampung')}"}
    # Redis is down while the gateway starts: it starts (degraded), it does not crash
    with running_gateway(settings=settings, guard=guard) as running:
        assert guard.limiter is not None and running.services.metrics is not None
        guard.limiter.on_unavailable = running.services.metrics.shared_store_unavailable
        c = httpx.Client(base_url=running.url, timeout=10)

        def trusted_documents_hold() -> None:
            served = c.post("/graphql", json={"documentId": QUERY_HASH}, headers=sibansos)
            assert served.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
            refused = c.post("/graphql", json={"query": OTHER}, headers=sibansos)
            assert refused.status_code == 403 and _code(refused) == "QUERY_NOT_IN_SAFELIST"

        trusted_documents_hold()
        # fail open: APQ by hash is unknown (the client resends), rate limits admit uncounted
        assert _code(c.post("/graphql", json=_apq(QUERY_HASH), headers=other)) == (
            "PERSISTED_QUERY_NOT_FOUND"
        )
        assert c.post("/graphql", json={"query": OTHER}, headers=other).status_code == 200
        assert _metric(running.url, "apq") >= 1
        assert _metric(running.url, "rate_limit") >= 1

        with private_redis(port):  # Redis comes up: APQ and counters work, no restart
            registered = c.post("/graphql", json=_apq(QUERY_HASH, QUERY), headers=other)
            assert registered.json()["data"]["me"]["name"] == "Ada"
            by_hash = c.post("/graphql", json=_apq(QUERY_HASH), headers=other)
            assert by_hash.json()["data"]["me"]["name"] == "Ada"
            failures = _metric(running.url, "rate_limit")
            assert c.post("/graphql", json={"query": OTHER}, headers=other).status_code == 200
            assert _metric(running.url, "rate_limit") == failures  # counted in Redis again
            trusted_documents_hold()
        # killed, then restarted empty (no persistence): the trusted lists are not lost
        trusted_documents_hold()
        with private_redis(port):
            trusted_documents_hold()
            assert _code(c.post("/graphql", json=_apq(QUERY_HASH), headers=other)) == (
                "PERSISTED_QUERY_NOT_FOUND"
            )  # APQ entries are a cache: gone, re-registered by the next full request
            again = c.post("/graphql", json=_apq(QUERY_HASH, QUERY), headers=other)
            assert again.json()["data"]["me"]["name"] == "Ada"
        c.close()


def test_closed_settings_refuse_while_redis_is_down(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"
    settings: dict[str, Any] = {
        "persisted_queries": {
            "backend": "redis",
            "redis_url": url,
            "on_store_unavailable": "closed",
        },
    }
    limits = RateLimitSection(
        backend="redis", redis_url=url, key_prefix="jj:faults:rl", on_redis_unavailable="closed"
    )
    other = {"authorization": f"Bearer {mint_token('sehat-lampung')}"}
    guard = _guard(tmp_path, limits)
    with running_gateway(settings=settings, guard=guard) as running:
        refused = httpx.post(f"{running.url}/graphql", json={"query": OTHER}, headers=other)
        assert refused.status_code == 503
        assert _code(refused) == "RATE_LIMIT_UNAVAILABLE"
        assert "127.0.0.1" not in refused.text
    with running_gateway(settings=settings) as running:
        apq = httpx.post(f"{running.url}/graphql", json=_apq(QUERY_HASH))
        assert apq.status_code == 503
        assert _code(apq) == "PERSISTED_QUERY_STORE_UNAVAILABLE"
