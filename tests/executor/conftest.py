"""Fixtures of the executor tests: the test supergraph and the anyio backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.supergraph import Supergraph, load_supergraph

SUPERGRAPH_SDL = (Path(__file__).parent / "supergraph.graphql").read_text()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def supergraph() -> Supergraph:
    return load_supergraph(SUPERGRAPH_SDL)
