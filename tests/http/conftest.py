"""Fixtures of the HTTP tests: a gateway on the executor tests' supergraph with fakes, its app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.engine import Gateway
from gateway.http.app import create_app
from gateway.planner.plan import FetchNode, QueryPlan
from tests.executor.fakes import FakeTransport, responses

SUPERGRAPH_PATH = Path(__file__).parent.parent / "executor" / "supergraph.graphql"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _me_planner(*args: object, **kwargs: object) -> QueryPlan:
    return QueryPlan(FetchNode("accounts", "{ me { id name } }"))


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport(
        responses(accounts={"data": {"me": {"id": "1", "name": "Ada"}, "rename": {"id": "1"}}})
    )


@pytest.fixture
async def client(transport: FakeTransport) -> AsyncIterator[httpx.AsyncClient]:
    gateway = Gateway.from_supergraph_sdl(
        SUPERGRAPH_PATH.read_text(), transport=transport, planner=_me_planner
    )
    app = create_app(gateway)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as http:
        yield http
