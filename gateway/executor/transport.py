"""How the executor talks to subgraphs: a swappable transport behind one small protocol.

The executor only needs "send this GraphQL request body to that subgraph, give me the decoded JSON
response". Tests plug in a fake (no network); production uses ``HttpTransport``: one shared httpx
client (connection pool, keep-alive), per-subgraph timeouts, orjson both ways. Every failure becomes
a ``SubgraphError`` carrying the subgraph name in ``extensions.service`` (Apollo Router's shape,
which the reference corpus checks; ``gateway/http/errors.py`` redacts it like ``serviceName``):

- ``SUBREQUEST_HTTP_ERROR``: connection failure, timeout, non-2xx status;
- ``SUBREQUEST_MALFORMED_RESPONSE``: a body that is not JSON or not a GraphQL response object;
- ``SUBGRAPH_RESPONSE_TOO_LARGE``: a body larger than the configured cap (stopped while reading).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx
import orjson

from gateway.errors import SubgraphError

HTTP_ERROR = "SUBREQUEST_HTTP_ERROR"
MALFORMED_RESPONSE = "SUBREQUEST_MALFORMED_RESPONSE"
RESPONSE_TOO_LARGE = "SUBGRAPH_RESPONSE_TOO_LARGE"

_REQUEST_HEADERS = {
    "content-type": "application/json",
    "accept": "application/graphql-response+json, application/json",
}


class SubgraphTransport(Protocol):
    """Sends one GraphQL request body (``query``, ``variables``, ``operationName``) to a subgraph.

    Returns the decoded JSON response object; raises ``SubgraphError`` when the call fails. The
    executor checks that the object is a well-formed GraphQL response.
    """

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any: ...


def http_error(subgraph: str, reason: str, **extensions: Any) -> SubgraphError:
    """A ``SUBREQUEST_HTTP_ERROR`` naming the subgraph (message shape as Apollo Router's)."""
    return SubgraphError(
        f"HTTP fetch failed from '{subgraph}': {reason}",
        code=HTTP_ERROR,
        service=subgraph,
        **extensions,
    )


def malformed_response(subgraph: str, reason: str) -> SubgraphError:
    """A ``SUBREQUEST_MALFORMED_RESPONSE`` naming the subgraph."""
    return SubgraphError(
        f"Malformed response from '{subgraph}': {reason}",
        code=MALFORMED_RESPONSE,
        service=subgraph,
    )


def response_too_large(subgraph: str, limit: int) -> SubgraphError:
    """A ``SUBGRAPH_RESPONSE_TOO_LARGE``: the body passed ``limit`` bytes, not read further."""
    return SubgraphError(
        f"Response from '{subgraph}' exceeds {limit} bytes",
        code=RESPONSE_TOO_LARGE,
        service=subgraph,
    )


class HttpTransport:
    """The default transport: one pooled ``httpx.AsyncClient`` shared by every subgraph call.

    ``timeout`` applies to every subgraph unless ``timeouts`` names it; pass ``client`` to reuse an
    existing client (tests pass one built on ``httpx.MockTransport``). A client passed in is not
    closed by ``aclose``.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
        max_connections: int = 200,
        max_keepalive_connections: int = 50,
        keepalive_expiry: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._default_timeout = httpx.Timeout(timeout)
        self._timeouts = {
            name: httpx.Timeout(seconds) for name, seconds in (timeouts or {}).items()
        }
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_keepalive_connections,
                keepalive_expiry=keepalive_expiry,
            ),
            timeout=self._default_timeout,
            headers=_REQUEST_HEADERS,
        )

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        timeout = self._timeouts.get(subgraph, self._default_timeout)
        try:
            response = await self._client.post(
                url, content=orjson.dumps(body), headers=_REQUEST_HEADERS, timeout=timeout
            )
        except httpx.TimeoutException as error:
            raise http_error(subgraph, "request timed out") from error
        except httpx.HTTPError as error:
            raise http_error(subgraph, f"{type(error).__name__}: {error}") from error
        if not 200 <= response.status_code < 300:
            raise http_error(
                subgraph,
                f"{response.status_code}: {response.reason_phrase}",
                http={"status": response.status_code},
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise malformed_response(subgraph, "the body is not valid JSON") from error

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
