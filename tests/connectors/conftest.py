"""Fixtures of the connector tests: one generated world, the five REST OPDs on real loopback
servers (uvicorn threads), and their connector SDLs read from schema/rest/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.connectors.model import ConnectorSubgraph
from gateway.connectors.sdl import read_connectors
from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
from subgraphs.rest import REST_OPDS, create_app
from subgraphs.rest.world import RestWorld
from tests.auth.harness import opd_world  # noqa: F401  (the GraphQL OPDs, for the gateway tests)
from tests.servers import ServerThread

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema" / "rest"
TEST_SCALE = 0.001


@dataclass
class RestOpd:
    name: str
    url: str
    key: str
    source: str
    model: ConnectorSubgraph


@pytest.fixture(scope="session")
def rest_world(tmp_path_factory: pytest.TempPathFactory) -> RestWorld:
    directory = ensure_world(DEFAULT_SEED, TEST_SCALE, tmp_path_factory.mktemp("data")).directory
    return RestWorld.load(directory, DEFAULT_SEED)


@pytest.fixture(scope="session")
def rest_opds(rest_world: RestWorld) -> Iterator[dict[str, RestOpd]]:
    servers: list[ServerThread] = []
    opds: dict[str, RestOpd] = {}
    try:
        for name, (_, _, source) in REST_OPDS.items():
            key = f"test-key-{name}"
            server = ServerThread(create_app(name, rest_world, key)).start()
            servers.append(server)
            model = read_connectors(name, (SCHEMA_DIR / f"{name}.graphql").read_text())
            assert model is not None
            opds[name] = RestOpd(name, server.url, key, source, model)
        yield opds
    finally:
        for server in servers:
            server.stop()
