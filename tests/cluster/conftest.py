"""One cluster per test module (~15-40 s to start on 2 cores), stopped and cleaned up after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.harness import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster"), gateways=3)
    try:
        running.start()
        yield running
    finally:
        running.close()


def logs(cluster: Cluster) -> str:
    """Every process's last lines, for a failing assertion's message."""
    procs = [*cluster.replicas, *([cluster.registry] if cluster.registry else [])]
    return "\n".join(f"--- {p.name}\n{p.tail(15)}" for p in procs)
