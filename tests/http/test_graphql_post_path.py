"""``POST /graphql`` past Starlette's router (gateway/http/app.py ``_GraphQLPost``): the answers
a routed request got — a crash is a 500, a body in several chunks is read whole (and refused past
the limit), a gateway mounted under a prefix still answers."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.engine import Gateway
from gateway.http.app import create_app
from gateway.http.config import HttpSection
from tests.executor.fakes import FakeTransport
from tests.http.conftest import SUPERGRAPH_PATH, _me_planner

QUERY = {"query": "{ me { name } }"}


def _gateway(transport: FakeTransport) -> Gateway:
    return Gateway.from_supergraph_sdl(
        SUPERGRAPH_PATH.read_text(), transport=transport, planner=_me_planner
    )


async def _asgi(app: Any, chunks: list[bytes]) -> tuple[int, dict[bytes, bytes], bytes]:
    """``POST /graphql`` with its body sent in ``chunks`` (``more_body`` on all but the last)."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"host", b"gateway.test")],
        "client": ("127.0.0.1", 5000),
        "server": ("gateway.test", 80),
    }
    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


@pytest.mark.anyio
async def test_a_body_in_chunks_is_read_whole(transport: FakeTransport) -> None:
    raw = orjson.dumps(QUERY)
    status, headers, body = await _asgi(create_app(_gateway(transport)), [raw[:5], raw[5:], b""])
    assert status == 200
    assert headers[b"content-type"] == b"application/json"
    assert orjson.loads(body) == {"data": {"me": {"name": "Ada"}}}


@pytest.mark.anyio
async def test_a_body_in_chunks_over_the_limit_is_413(transport: FakeTransport) -> None:
    app = create_app(_gateway(transport), http=HttpSection(max_body_bytes=10))
    raw = orjson.dumps(QUERY)
    status, _, body = await _asgi(app, [raw[:8], raw[8:]])
    assert status == 413
    assert orjson.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


@pytest.mark.anyio
async def test_a_crash_in_the_engine_is_a_plain_500(transport: FakeTransport) -> None:
    gateway = _gateway(transport)

    async def crash(request: object) -> object:
        raise RuntimeError("boom")

    gateway.process = crash  # type: ignore[method-assign]
    app = create_app(gateway)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://gateway.test",
    ) as http:
        response = await http.post("/graphql", json=QUERY)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


@pytest.mark.anyio
async def test_a_gateway_mounted_under_a_prefix_answers(transport: FakeTransport) -> None:
    outer = Starlette(routes=[Mount("/api", app=create_app(_gateway(transport)))])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer), base_url="http://gateway.test"
    ) as http:
        response = await http.post("/api/graphql", json=QUERY)
        wrong_method = await http.put("/api/graphql", json=QUERY)
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"name": "Ada"}}}
    assert wrong_method.status_code == 405
