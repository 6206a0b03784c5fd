"""Fixtures of the subgraph tests: one generated world, and the five subgraphs on real servers.

The world is generated once per session into a temporary directory (default seed, a small scale)
and every subgraph is served by a real uvicorn server on an ephemeral loopback port, in a thread
of the test process, so tests can also look at the store behind a server (query counts).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
from subgraphs.kit.store import Store
from tests.servers import ServerThread

#: small enough to generate in well under a second, large enough for every region to have people.
TEST_SCALE = 0.001


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_world(DEFAULT_SEED, TEST_SCALE, tmp_path_factory.mktemp("data")).directory


@pytest.fixture(scope="session")
def db(world_dir: Path) -> Iterator[dict[str, sqlite3.Connection]]:
    """Plain sqlite3 connections to each store, for computing expected values independently."""
    conns = {}
    for name in SUBGRAPHS:
        conn = sqlite3.connect(world_dir / f"{name}.sqlite3")
        conn.row_factory = sqlite3.Row
        conns[name] = conn
    yield conns
    for conn in conns.values():
        conn.close()


@dataclass
class RunningSubgraph:
    name: str
    url: str
    store: Store
    client: httpx.Client

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post(self.url, json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def entities(self, selection: str, representations: list[dict[str, Any]]) -> list[Any]:
        query = "query($r: [_Any!]!) { _entities(representations: $r) { " + selection + " } }"
        entities: list[Any] = self.data(query, {"r": representations})["_entities"]
        return entities


@pytest.fixture(scope="session")
def subgraphs(world_dir: Path) -> Iterator[dict[str, RunningSubgraph]]:
    running: dict[str, RunningSubgraph] = {}
    servers = []
    client = httpx.Client(timeout=10)
    for name in SUBGRAPHS:
        store = Store(world_dir / f"{name}.sqlite3")
        server = ServerThread(build_app(load_subgraph(name), store), lifespan="off").start()
        servers.append((server, store))
        running[name] = RunningSubgraph(name, f"{server.url}/graphql", store, client)
    yield running
    client.close()
    for server, store in servers:
        server.stop()
        store.close()
