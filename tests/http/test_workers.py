"""Several worker processes (`jamajama gateway --workers 2`): /metrics counts every worker's
requests, whichever worker answers the scrape; uvicorn's supervisor replaces a worker that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.http.servers import (
    ROOT,
    SUPERGRAPH_PATH,
    FakeSubgraph,
    gateway_process,
    me_answer,
    serve,
)


def _requests_ok(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "jamajama_requests_total" and sample.labels == {
                "operation": "Me",
                "outcome": "ok",
            }:
                return sample.value
    return 0.0


def test_metrics_are_summed_over_workers(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    subgraph = FakeSubgraph(me_answer)
    with (
        serve(subgraph.app()) as subgraph_url,
        gateway_process(
            "",
            tmp_path,
            subgraph_url,
            ("--workers", "2"),
            PROMETHEUS_MULTIPROC_DIR=str(directory),
        ) as (url, _),
    ):
        sent = 0
        while sent < 400 and sum(1 for n in _served_by_worker(directory).values() if n) < 2:
            # a new connection each time: the kernel spreads them over the workers
            with httpx.Client(base_url=url, timeout=10) as client:
                response = client.post("/graphql", json={"query": "query Me { me { id } }"})
                assert response.json() == {"data": {"me": {"id": "1"}}}
            sent += 1
        served = _served_by_worker(directory)
        assert len([n for n in served.values() if n]) == 2, served
        for _ in range(4):
            with httpx.Client(base_url=url, timeout=10) as client:
                assert _requests_ok(client.get("/metrics").text) == sent


def _served_by_worker(directory: Path) -> dict[str, float]:
    """Requests counted in each worker's own file."""
    served = {}
    for path in directory.glob("counter_*.db"):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=True)
        served[path.stem] = sum(
            sample.value
            for metric in metrics
            for sample in metric.samples
            if sample.name == "jamajama_requests_total"
        )
    return served


def test_workers_without_a_metrics_directory_refuse_to_start(tmp_path: Path) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--supergraph",
            str(SUPERGRAPH_PATH),
            "--port",
            "0",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
    )
    assert process.returncode == 2
    assert "PROMETHEUS_MULTIPROC_DIR" in process.stderr


def _workers_of(parent: int) -> set[int]:
    """The worker processes uvicorn's supervisor spawned under ``parent``."""
    workers = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            workers.add(int(stat.parent.name))
    return workers


def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    subgraph = FakeSubgraph(me_answer)
    with (
        serve(subgraph.app()) as subgraph_url,
        gateway_process(
            "",
            tmp_path,
            subgraph_url,
            ("--workers", "2"),
            PROMETHEUS_MULTIPROC_DIR=str(directory),
        ) as (url, parent),
    ):
        deadline = time.monotonic() + 60
        while len(workers := _workers_of(parent)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        while True:
            replaced = _workers_of(parent)
            if len(replaced) == 2 and victim not in replaced:
                break
            assert time.monotonic() < deadline, f"worker {victim} was not replaced: {replaced}"
            time.sleep(0.1)
        # the replacement serves: every new connection is answered, whichever worker takes it
        for _ in range(20):
            with httpx.Client(base_url=url, timeout=10) as client:
                response = client.post("/graphql", json={"query": "query Me { me { id } }"})
                assert response.json() == {"data": {"me": {"id": "1"}}}


def _run_workers(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "gateway", "--port", "0", "--workers", "2", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
    )


def test_an_unreadable_supergraph_stops_before_the_workers(tmp_path: Path) -> None:
    process = _run_workers(tmp_path, "--supergraph", str(tmp_path / "missing.graphql"))
    assert process.returncode == 2
    assert "cannot read" in process.stderr and "listening" not in process.stdout


def test_workers_that_cannot_start_stop_the_supervisor(tmp_path: Path) -> None:
    """A worker failing at start exits with uvicorn's STARTUP_FAILURE: no restart loop."""
    process = _run_workers(
        tmp_path,
        "--supergraph",
        str(SUPERGRAPH_PATH),
        "--subgraph-url",
        "nosuch=http://127.0.0.1:9/graphql",
    )
    assert process.returncode == 1
    assert "unknown subgraph(s): nosuch" in process.stderr
    assert process.stderr.count("unknown subgraph(s): nosuch") <= 2  # one per worker, once
