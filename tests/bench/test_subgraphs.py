"""The benchmark subgraphs (bench/subgraphs/server.py) still answer what the workload expects."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "bench" / "subgraphs" / "server.py"


def _shared_bench() -> Path:
    for candidate in (REPO.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (candidate / "subgraph-expected.json").exists():
            return candidate
    pytest.skip("shared/bench (the reference workload) is not beside the checkout")


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Start the four subgraphs on free ports; yield their ready line (URLs, supergraph)."""
    supergraph = tmp_path_factory.mktemp("bench") / "supergraph.graphql"
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port-base", "0", "--supergraph-out", str(supergraph)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"subgraph server exited with {proc.wait()}"
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def subgraph_urls(ready: dict[str, Any]) -> dict[str, str]:
    return dict(ready["ready"])


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def _entities(url: str, selection: str, representations: list[Any]) -> list[Any]:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { " + selection + " } }"
    body = json.dumps({"query": query, "variables": {"r": representations}}).encode()
    result = json.loads(_post(url, body))
    assert "errors" not in result, result
    return result["data"]["_entities"]


def test_direct_subgraph_call_matches_reference(subgraph_urls: dict[str, str]) -> None:
    shared = _shared_bench()
    answer = _post(subgraph_urls["accounts"], (shared / "subgraph-query.json").read_bytes())
    assert answer == (shared / "subgraph-expected.json").read_bytes().rstrip(b"\n")


def test_entities_keep_order_and_null_unknown(subgraph_urls: dict[str, str]) -> None:
    reps = [
        {"__typename": "Product", "upc": "2", "price": 1299, "weight": 1000},
        {"__typename": "Product", "upc": "999", "price": 1, "weight": 1},
        {"__typename": "Product", "upc": "1", "price": 899, "weight": 100},
    ]
    assert _entities(
        subgraph_urls["inventory"], "... on Product { upc inStock shippingEstimate }", reps
    ) == [
        {"upc": "2", "inStock": False, "shippingEstimate": None},
        None,
        {"upc": "1", "inStock": True, "shippingEstimate": None},
    ]


def test_reviews_provide_author_username(subgraph_urls: dict[str, str]) -> None:
    users = _entities(
        subgraph_urls["reviews"],
        "... on User { reviews { id author { id username } product { upc } } }",
        [{"__typename": "User", "id": "4"}],
    )
    assert users == [
        {
            "reviews": [
                {"id": "1", "author": {"id": "1", "username": "urigo"}, "product": {"upc": "1"}},
                {"id": "2", "author": {"id": "1", "username": "urigo"}, "product": {"upc": "1"}},
            ]
        }
    ]


def test_service_sdl_is_the_file_composed_into_the_supergraph(
    subgraph_urls: dict[str, str],
) -> None:
    result = json.loads(_post(subgraph_urls["products"], b'{"query":"{ _service { sdl } }"}'))
    sdl = (REPO / "bench" / "subgraphs" / "products.graphql").read_text()
    assert result == {"data": {"_service": {"sdl": sdl}}}


def test_supergraph_out_points_at_the_ports_in_use(ready: dict[str, Any]) -> None:
    text = Path(ready["supergraph"]).read_text()
    for name, url in ready["ready"].items():
        assert f'@join__graph(name: "{name}", url: "{url}")' in text
