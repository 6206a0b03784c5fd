"""Fixtures of the federation conformance corpus: one subgraph host for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.federation.subgraph_server import SubgraphHost


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def subgraph_host() -> Iterator[SubgraphHost]:
    """A uvicorn server on a loopback port that serves every case's data-driven subgraphs."""
    with SubgraphHost() as host:
        yield host
