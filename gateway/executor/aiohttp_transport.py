"""The default subgraph transport, on aiohttp.

Measured on this project's machine (50 concurrent POSTs to one subgraph, see docs/benchmarks.md):
httpx's pooled client sustained about 240 requests/s (its pool scans every connection per request,
encode/httpx#3215, and probes for an async library on every call), aiohttp 6,000-10,000. A gateway
makes a dozen subgraph calls per client request, so the client is on the hot path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from gateway.executor.transport import http_error, malformed_response

_REQUEST_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


class AiohttpTransport:
    """One pooled ``aiohttp.ClientSession`` shared by every subgraph call.

    The session is created on first use, inside the running event loop. ``timeout`` (seconds)
    applies to every subgraph unless ``timeouts`` names it.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 200,
        keepalive_expiry: float = 30.0,
    ) -> None:
        self._default_timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeouts = {
            name: aiohttp.ClientTimeout(total=seconds) for name, seconds in (timeouts or {}).items()
        }
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=self._keepalive_expiry
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._default_timeout,
                json_serialize=lambda value: orjson.dumps(value).decode(),
            )
        return self._session

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        timeout = self._timeouts.get(subgraph, self._default_timeout)
        try:
            async with self._client().post(
                url, data=orjson.dumps(body), headers=_REQUEST_HEADERS, timeout=timeout
            ) as response:
                content = await response.read()
                status, reason = response.status, response.reason
        except TimeoutError as error:
            raise http_error(subgraph, "request timed out") from error
        except aiohttp.ClientConnectorError as error:
            # The subgraph's address stays in the gateway's logs, not in client responses.
            raise http_error(subgraph, "could not connect") from error
        except aiohttp.ClientError as error:
            raise http_error(subgraph, f"connection failed ({type(error).__name__})") from error
        if not 200 <= status < 300:
            raise http_error(subgraph, f"{status}: {reason}", http={"status": status})
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as error:
            raise malformed_response(subgraph, "the body is not valid JSON") from error

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            # Let the connector close its transports before the loop goes away.
            await asyncio.sleep(0)
