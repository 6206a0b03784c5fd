"""Fixtures of the federation conformance corpus: one subgraph host for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.federation.corpus import RunningCase, discover_cases, serve_case
from tests.federation.record import apollo_gateways
from tests.federation.subgraph_server import SubgraphHost


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def subgraph_host() -> Iterator[SubgraphHost]:
    """A uvicorn server on a loopback port that serves every case's data-driven subgraphs."""
    with SubgraphHost() as host:
        yield host


@pytest.fixture(scope="session")
def apollo(subgraph_host: SubgraphHost) -> Iterator[dict[str, tuple[RunningCase, str]]]:
    """Every case served, with one Apollo Gateway per case (one Node process): id -> (case, URL).

    Shared by the differential tests (recorded and generated operations): Node starts once."""
    with ExitStack() as stack:
        running = [
            stack.enter_context(serve_case(subgraph_host, c))
            for c in discover_cases()
            if not c.hive_oracle  # Apollo Gateway refuses these supergraphs
        ]
        specs = [(r.case.supergraph_path, r.urls) for r in running]
        urls = stack.enter_context(apollo_gateways(specs))
        yield {r.case.id: (r, url) for r, url in zip(running, urls, strict=True)}
