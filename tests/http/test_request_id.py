"""The configured request-id header is the one honoured, with authentication on too: echoed on
the response and recorded in the audit log (the guard once read a hard-coded header and replaced
the client's id with a generated one)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from gateway.assembly import assemble
from gateway.auth.cli import mint_token
from gateway.config import Settings, dev_settings

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
QUERY = {"query": "{ __typename }"}


def audited_request_ids(tmp_path: Path) -> list[str | None]:
    with sqlite3.connect(tmp_path / "audit.sqlite3") as db:
        bodies = db.execute("SELECT body FROM jamajama_audit ORDER BY seq").fetchall()
    return [json.loads(body)["request_id"] for (body,) in bodies]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = dev_settings(Settings(http={"request_id_header": "x-correlation-id"}), tmp_path)
    assembly = assemble(settings, supergraph_sdl=SUPERGRAPH.read_text())
    assert assembly.guard is not None, "the OPD supergraph is served with authentication"
    app = assembly.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


async def test_a_custom_request_id_header_is_honoured_with_auth_on(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    token = {"authorization": f"Bearer {mint_token('sibansos')}"}
    for number, headers in enumerate(({}, token)):
        response = await client.post(
            "/graphql", json=QUERY, headers={**headers, "x-correlation-id": f"opd-42.a:{number}"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-correlation-id"] == f"opd-42.a:{number}"
        assert "x-request-id" not in response.headers
    for _ in range(100):  # records of operations without personal data are written in background
        if len(audited_request_ids(tmp_path)) == 2:
            break
        await anyio.sleep(0.02)
    assert audited_request_ids(tmp_path) == ["opd-42.a:0", "opd-42.a:1"]


async def test_a_refused_request_carries_the_clients_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json=QUERY,
        headers={"authorization": "Bearer not-a-token", "x-correlation-id": "opd-43"},
    )
    assert response.status_code == 401
    assert response.headers["x-correlation-id"] == "opd-43"


async def test_a_malformed_client_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=QUERY, headers={"x-correlation-id": "a b"})
    generated = response.headers["x-correlation-id"]
    assert generated != "a b" and len(generated) >= 16
