"""The bench fixtures reproduce the reference workload through a reference gateway.

Uses the pinned Apollo Gateway and composer of `tools/reference` (CI installs them) as oracles:
the committed supergraph is the composition of the committed SDLs, and Apollo Gateway on the
bench subgraphs answers `TestQuery` exactly as `/work/shared/bench/expected.json`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.node

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
REFERENCE = REPO / "tools" / "reference"
SUBGRAPHS = ("accounts", "inventory", "products", "reviews")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (REFERENCE / "node_modules" / "@apollo" / "gateway").exists():
        pytest.skip("tools/reference/node_modules missing: run `npm ci` there (CI does)")
    return node


def _shared_bench() -> Path:
    for candidate in (REPO.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (candidate / "expected.json").exists():
            return candidate
    pytest.skip("shared/bench (the reference workload) is not beside the checkout")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


def _ordered(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=lambda pairs: pairs)


@pytest.fixture
def apollo_on_bench_subgraphs(tmp_path: Path) -> Iterator[str]:
    """Start the bench subgraphs and Apollo Gateway on them; yield the gateway URL."""
    node = _node()
    supergraph = tmp_path / "supergraph.graphql"
    subgraphs = subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "subgraphs" / "server.py"),
            "--port-base",
            "0",
            "--supergraph-out",
            str(supergraph),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    gateway = None
    try:
        assert subgraphs.stdout is not None
        assert subgraphs.stdout.readline(), "subgraph server did not start"
        port = _free_port()
        gateway = subprocess.Popen(
            [
                node,
                str(REFERENCE / "apollo-gateway.mjs"),
                "--supergraph",
                str(supergraph),
                "--port",
                str(port),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert gateway.stdout is not None
        line = gateway.stdout.readline()
        assert line.startswith("READY "), f"Apollo Gateway did not start: {line!r}"
        yield line.split()[1]
    finally:
        if gateway is not None:
            _stop(gateway)
        _stop(subgraphs)


def test_supergraph_is_the_composition_of_the_subgraph_sdls(tmp_path: Path) -> None:
    node = _node()
    out = tmp_path / "supergraph.graphql"
    args = [node, str(REFERENCE / "compose.mjs"), "-o", str(out)]
    for i, name in enumerate(SUBGRAPHS):  # the URLs bench/compose.mjs gives them
        args += ["--url", f"{name}=http://127.0.0.1:{4001 + i}/graphql"]
    args += ["--dir", str(BENCH / "subgraphs")]
    subprocess.run(args, check=True, capture_output=True, timeout=30)
    assert out.read_text().strip() == (BENCH / "supergraph.graphql").read_text().strip()


def test_reference_gateway_answers_the_expected_body(apollo_on_bench_subgraphs: str) -> None:
    shared = _shared_bench()
    request = urllib.request.Request(
        apollo_on_bench_subgraphs,
        data=(shared / "query.json").read_bytes(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = response.read()
    assert _ordered(answer) == _ordered((shared / "expected.json").read_bytes())
