"""The HTTP transport of connectors (aiohttp, like the subgraph transport), breaker-compatible.

It has the ``fetch(key, url, body)`` shape of ``SubgraphTransport`` so that
``gateway.executor.resilience.CircuitBreaker`` wraps it unchanged: the key is the source
(``subgraph.source``), so a failing REST API opens its own circuit. Connection failures and
timeouts raise ``SUBREQUEST_HTTP_ERROR``; a 5xx answer raises :class:`ServerErrorResponse`
(counted as an outage by the breaker) which still carries the response, since the connector's
``errors`` mapping reads its body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from yarl import URL

from gateway.errors import SubgraphError
from gateway.executor.aiohttp_transport import _read_capped as read_capped
from gateway.executor.transport import http_error

from .request import HttpRequest


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class ServerErrorResponse(SubgraphError):
    """A 5xx answer: an outage for the circuit breaker, a response for the connector."""

    def __init__(self, key: str, response: HttpResponse) -> None:
        super().__init__(
            f"HTTP fetch failed from '{key}': {response.status}",
            code="SUBREQUEST_HTTP_ERROR",
            service=key,
            http={"status": response.status},
        )
        self.response = response


class ConnectorTransport(Protocol):
    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any: ...


def as_fetch_body(request: HttpRequest, timeout: float | None = None) -> dict[str, Any]:
    """The request (and its source's timeout) in the ``body`` slot of ``fetch``; the breaker
    passes it through."""
    return {"request": request, "timeout": timeout}


class AiohttpConnectorTransport:
    """One pooled aiohttp session; ``timeout`` seconds per request."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        limit_per_host: int = 16,
        max_response_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.timeout = timeout
        self.limit_per_host = limit_per_host
        #: largest body read (``SUBGRAPH_RESPONSE_TOO_LARGE`` beyond; 0: no cap)
        self.max_response_bytes = max_response_bytes
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit_per_host=self.limit_per_host),
                auto_decompress=True,
            )
        return self._session

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> HttpResponse:
        request: HttpRequest = body["request"]
        timeout = body.get("timeout") or self.timeout
        try:
            async with self._client().request(
                request.method,
                URL(url, encoded=True),  # sent exactly as built (no re-quoting of %2F ...)
                headers=list(request.headers),
                data=request.body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as answer:
                if self.max_response_bytes:
                    payload = await read_capped(answer, subgraph, self.max_response_bytes)
                else:
                    payload = await answer.read()
                headers: dict[str, list[str]] = {}
                for name, value in answer.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
        except TimeoutError as error:
            raise http_error(subgraph, f"timed out after {timeout:g}s", timeout=True) from error
        except aiohttp.ClientError as error:
            raise http_error(subgraph, type(error).__name__) from error
        response = HttpResponse(answer.status, headers, payload)
        if response.status >= 500:
            raise ServerErrorResponse(subgraph, response)
        return response

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
