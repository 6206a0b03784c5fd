"""The default subgraph transport, on aiohttp.

Measured on this project's machine (50 concurrent POSTs to one subgraph, see docs/benchmarks.md):
httpx's pooled client sustained about 240 requests/s (its pool scans every connection per request,
encode/httpx#3215, and probes for an async library on every call), aiohttp 6,000-10,000. A gateway
makes a dozen subgraph calls per client request, so the client is on the hot path.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import orjson

from gateway.executor.transport import http_error, malformed_response, response_too_large

_REQUEST_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


class AiohttpTransport:
    """One pooled ``aiohttp.ClientSession`` shared by every subgraph call.

    The session is created on first use, inside the running event loop. ``timeout`` (seconds)
    applies to every subgraph unless ``timeouts`` names it.

    With ``deduplicate`` (the default), identical query requests in flight at the same time share
    one subgraph call: the same URL, the same request bytes and the same headers mean the same
    question, so the answer's bytes are shared and every caller decodes its own copy (no object is
    ever shared between client requests). Mutations are never shared. Whatever makes a request
    caller-specific (a propagated header, a signature) must be part of the request bytes or
    headers, and so of the key.

    ``max_response_bytes`` caps a subgraph's body (``max_response_bytes_by_subgraph`` per name; 0:
    no cap). The cap is checked against ``Content-Length`` and again while the body streams in, so
    an oversized answer is never held in memory: one faulty subgraph cannot exhaust the gateway
    shared by every agency. The fetch fails with ``SUBGRAPH_RESPONSE_TOO_LARGE``.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 200,
        keepalive_expiry: float = 30.0,
        deduplicate: bool = True,
        max_connections_per_host: int = 0,
        request_headers: Callable[[], Mapping[str, str] | None] | None = None,
        send_headers: Callable[[str, str, bytes], Mapping[str, str]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = 0,
        max_response_bytes_by_subgraph: Mapping[str, int] | None = None,
    ) -> None:
        self._max_bytes = max_response_bytes
        self._max_bytes_by_subgraph = dict(max_response_bytes_by_subgraph or {})
        self._default_timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeouts = {
            name: aiohttp.ClientTimeout(total=seconds) for name, seconds in (timeouts or {}).items()
        }
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._deduplicate = deduplicate
        self._in_flight: dict[tuple[Any, ...], asyncio.Future[tuple[int, str, bytes]]] = {}
        self._per_host = max_connections_per_host
        #: caller-specific headers (e.g. propagated from the client request): part of the
        #: de-duplication key
        self._request_headers = request_headers
        #: headers computed when a request is sent, from (subgraph, url, body): the signature,
        #: traceparent; not part of the key
        self._send_headers = send_headers
        self._ssl = ssl_context

    def _forget(self, key: tuple[Any, ...], done: asyncio.Future[tuple[int, str, bytes]]) -> None:
        self._in_flight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here, so an error nobody awaited any more is not logged

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._per_host,
                keepalive_timeout=self._keepalive_expiry,
                ssl=self._ssl if self._ssl is not None else True,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._default_timeout,
                json_serialize=lambda value: orjson.dumps(value).decode(),
            )
        return self._session

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        payload = orjson.dumps(body)
        extra = self._request_headers() if self._request_headers is not None else None
        if self._deduplicate and not _is_mutation(body):
            key: tuple[Any, ...] = (url, payload)
            if extra:
                key = (url, payload, *sorted(extra.items()))
            shared = self._in_flight.get(key)
            if shared is None:
                # Its own task: a caller that gives up (cancelled) does not cancel the others.
                shared = asyncio.ensure_future(self._post(subgraph, url, payload, extra))
                self._in_flight[key] = shared
                shared.add_done_callback(functools.partial(self._forget, key))
            status, reason, content = await asyncio.shield(shared)
        else:
            status, reason, content = await self._post(subgraph, url, payload, extra)
        if not 200 <= status < 300:
            raise http_error(subgraph, f"{status}: {reason}", http={"status": status})
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as error:
            raise malformed_response(subgraph, "the body is not valid JSON") from error

    async def _post(
        self, subgraph: str, url: str, payload: bytes, extra: Mapping[str, str] | None = None
    ) -> tuple[int, str, bytes]:
        headers: Mapping[str, str] = _REQUEST_HEADERS
        if extra or self._send_headers is not None:
            headers = {**_REQUEST_HEADERS, **(extra or {})}
            if self._send_headers is not None:
                headers.update(self._send_headers(subgraph, url, payload))
        return await self._send(subgraph, url, payload, headers)

    async def _send(
        self, subgraph: str, url: str, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, bytes]:
        """One POST: (status, reason, body), or a ``SubgraphError``. The seam a leaner client
        (``lean_transport.py``) replaces; sharing and headers above it stay the same."""
        timeout = self._timeouts.get(subgraph, self._default_timeout)
        try:
            async with self._client().post(
                url, data=payload, headers=headers, timeout=timeout
            ) as response:
                limit = self._max_bytes_by_subgraph.get(subgraph, self._max_bytes)
                if limit <= 0:
                    return response.status, response.reason or "", await response.read()
                return (
                    response.status,
                    response.reason or "",
                    await _read_capped(response, subgraph, limit),
                )
        except TimeoutError as error:
            raise http_error(subgraph, "request timed out") from error
        except aiohttp.ClientConnectorError as error:
            # The subgraph's address stays in the gateway's logs, not in client responses.
            raise http_error(subgraph, "could not connect") from error
        except aiohttp.ClientError as error:
            raise http_error(subgraph, f"connection failed ({type(error).__name__})") from error

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            # Let the connector close its transports before the loop goes away.
            await asyncio.sleep(0)


async def _read_capped(response: aiohttp.ClientResponse, subgraph: str, limit: int) -> bytes:
    """The body, or ``SUBGRAPH_RESPONSE_TOO_LARGE`` as soon as it passes ``limit`` bytes (the
    connection is then dropped, not drained)."""
    declared = response.content_length
    if declared is not None:
        if declared > limit:
            response.close()
            raise response_too_large(subgraph, limit)
        return await response.read()  # aiohttp reads exactly the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            response.close()
            raise response_too_large(subgraph, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _is_mutation(body: dict[str, Any]) -> bool:
    """Whether the planner's subgraph document is a mutation (it prints the keyword first)."""
    query = body.get("query")
    return not isinstance(query, str) or query.startswith("mutation")
