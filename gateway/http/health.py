"""``/health`` (the process answers) and ``/ready`` (a supergraph is loaded, subgraphs answer).

Readiness probes every subgraph with a tiny GraphQL POST; any HTTP answer means reachable (a
subgraph refusing an unsigned probe is up). Results are kept for ``interval`` seconds, so a load
balancer polling ``/ready`` does not multiply traffic to the subgraphs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import orjson
from starlette.requests import Request
from starlette.responses import Response

_PROBE = b'{"query":"{ __typename }"}'


class Readiness:
    """Probes subgraphs for ``/ready``; one per app."""

    def __init__(self, interval: float = 5.0, timeout: float = 2.0) -> None:
        self.interval = interval
        self.timeout = timeout
        self._checked_at = -1e9
        self._urls: Mapping[str, str] = {}
        self._result: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def check(self, urls: Mapping[str, str]) -> tuple[bool, dict[str, str]]:
        """``(ready, {subgraph: "up" | reason})``."""
        async with self._lock:
            now = time.monotonic()
            if urls != self._urls or now - self._checked_at >= self.interval:
                names = sorted(urls)
                results = await asyncio.gather(*(self._probe(urls[name]) for name in names))
                self._result = dict(zip(names, results, strict=True))
                self._urls, self._checked_at = dict(urls), time.monotonic()
        return all(v == "up" for v in self._result.values()), dict(self._result)

    async def _probe(self, url: str) -> str:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self._session.post(
                url, data=_PROBE, headers={"content-type": "application/json"}
            ) as response:
                await response.read()
                return "up" if response.status < 500 else f"status {response.status}"
        except TimeoutError:
            return "timeout"
        except aiohttp.ClientError as error:
            return f"unreachable ({type(error).__name__})"

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def subgraph_urls(gateway: Any) -> Mapping[str, str]:
    """The current generation's subgraph URLs (a hot-reloading gateway has ``current``)."""
    current = getattr(gateway, "current", gateway)
    urls: Mapping[str, str] = getattr(current, "subgraph_urls", {})
    return urls


async def health(request: Request) -> Response:
    """The process answers."""
    return Response(b'{"status":"ok"}', media_type="application/json")


def ready_endpoint(gateway: Any, readiness: Readiness) -> Callable[[Request], Awaitable[Response]]:
    """``/ready``: 200 when a supergraph is loaded and every subgraph answers, else 503."""

    async def ready(request: Request) -> Response:
        try:
            loaded = gateway.supergraph is not None
        except Exception:  # a reloading gateway without a generation yet
            loaded = False
        if not loaded:
            body: dict[str, Any] = {"status": "unavailable", "supergraph": False}
            return Response(orjson.dumps(body), 503, media_type="application/json")
        ok, subgraphs = await readiness.check(subgraph_urls(gateway))
        body = {"status": "ok" if ok else "unavailable", "supergraph": True, "subgraphs": subgraphs}
        return Response(orjson.dumps(body), 200 if ok else 503, media_type="application/json")

    return ready
