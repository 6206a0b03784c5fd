"""HttpTransport against httpx.MockTransport: encoding, decoding and failures as SubgraphError."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from gateway.errors import SubgraphError
from gateway.executor.transport import HttpTransport


def _transport(handler: Any, **options: Any) -> HttpTransport:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpTransport(client=client, **options)


@pytest.mark.anyio
async def test_fetch_posts_json_and_decodes_response() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=orjson.dumps({"data": {"a": 1}}))

    transport = _transport(handler)
    body = {"query": "{ a }", "variables": {"x": [1, "é"]}}
    result = await transport.fetch("alpha", "http://alpha.test/graphql", body)

    assert result == {"data": {"a": 1}}
    assert len(seen) == 1
    assert seen[0].method == "POST"
    assert str(seen[0].url) == "http://alpha.test/graphql"
    assert seen[0].headers["content-type"] == "application/json"
    assert "application/graphql-response+json" in seen[0].headers["accept"]
    assert orjson.loads(seen[0].content) == body


@pytest.mark.anyio
async def test_non_2xx_is_http_error_naming_the_subgraph() -> None:
    transport = _transport(lambda request: httpx.Response(503, text="down"))
    with pytest.raises(SubgraphError) as caught:
        await transport.fetch("alpha", "http://alpha.test/graphql", {"query": "{ a }"})
    error = caught.value
    assert error.code == "SUBREQUEST_HTTP_ERROR"
    assert error.message == "HTTP fetch failed from 'alpha': 503: Service Unavailable"
    assert error.extensions == {"service": "alpha", "http": {"status": 503}}


@pytest.mark.anyio
async def test_non_json_body_is_malformed_response() -> None:
    transport = _transport(lambda request: httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(SubgraphError) as caught:
        await transport.fetch("beta", "http://beta.test/graphql", {"query": "{ a }"})
    assert caught.value.code == "SUBREQUEST_MALFORMED_RESPONSE"
    assert caught.value.extensions == {"service": "beta"}
    assert "'beta'" in caught.value.message


@pytest.mark.anyio
async def test_connect_error_is_http_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    transport = _transport(handler)
    with pytest.raises(SubgraphError) as caught:
        await transport.fetch("alpha", "http://alpha.test/graphql", {"query": "{ a }"})
    assert caught.value.code == "SUBREQUEST_HTTP_ERROR"
    assert caught.value.extensions["service"] == "alpha"
    assert "connection refused" in caught.value.message


@pytest.mark.anyio
async def test_timeout_is_http_error_and_per_subgraph_timeout_applies() -> None:
    timeouts: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow", request=request)

    transport = _transport(handler, timeout=7.0, timeouts={"slow": 0.5})
    with pytest.raises(SubgraphError) as caught:
        await transport.fetch("slow", "http://slow.test/graphql", {"query": "{ a }"})
    assert caught.value.message == "HTTP fetch failed from 'slow': request timed out"
    with pytest.raises(SubgraphError):
        await transport.fetch("other", "http://other.test/graphql", {"query": "{ a }"})
    assert timeouts[0]["read"] == 0.5
    assert timeouts[1]["read"] == 7.0


@pytest.mark.anyio
async def test_aclose_keeps_a_client_it_does_not_own_open() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    await HttpTransport(client=client).aclose()
    assert not client.is_closed
    await client.aclose()
    owned = HttpTransport()
    await owned.aclose()
    assert owned._client.is_closed
