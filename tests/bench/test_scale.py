"""The scaling scenario: the scaled data is deterministic and our gateway answers it as expected.

The expected answer at scale 2 is derived from the reference `expected.json` without any
gateway: block 1 is block 0 with user ids + 6 (usernames suffixed `-1`), review ids + 11 and
product upcs + 5, so the scale-2 answer lists block 0's users then block 1's, and the same for
`topProducts`. `bench/scale.py` compares ours with Apollo Gateway at every scale before timing.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gateway.engine import Gateway

REPO = Path(__file__).resolve().parents[2]
SUBGRAPHS = REPO / "bench" / "subgraphs"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dataset() -> ModuleType:
    return _load("bench_dataset", SUBGRAPHS / "dataset.py")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _expected_json() -> Any:
    for candidate in (REPO.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (candidate / "expected.json").exists():
            return json.loads((candidate / "expected.json").read_text())
    pytest.skip("shared/bench (the reference workload) is not beside the checkout")


def _shift_block(value: Any) -> Any:
    """Block 0's answer tree as block 1's: ids shifted by the block sizes (6, 11, 5)."""
    if isinstance(value, list):
        return [_shift_block(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _shift_block(v) for k, v in value.items()}
    if "username" in value:
        out["id"] = str(int(value["id"]) + 6)
        out["username"] = value["username"] + "-1"
    elif "body" in value:
        out["id"] = str(int(value["id"]) + 11)
    if "upc" in value:
        out["upc"] = str(int(value["upc"]) + 5)
    return out


def test_scale_one_is_the_reference_data(dataset: ModuleType) -> None:
    raw = dataset.reference_data()
    assert dataset.scale_data(raw, 1) == raw


def test_scaled_data_is_deterministic_and_n_times_larger(dataset: ModuleType) -> None:
    raw = dataset.reference_data()
    first, again = dataset.scale_data(raw, 7), dataset.scale_data(raw, 7)
    assert json.dumps(first) == json.dumps(again)
    assert [len(first[k]) for k in ("users", "products", "reviews", "topProducts")] == [
        7 * len(raw[k]) for k in ("users", "products", "reviews", "topProducts")
    ]
    assert len({u["id"] for u in first["users"]}) == len(first["users"])
    assert len({r["id"] for r in first["reviews"]}) == len(first["reviews"])


def test_scaled_relations_stay_inside_their_block(dataset: ModuleType) -> None:
    scaled = dataset.scale_data(dataset.reference_data(), 3)
    review = next(r for r in scaled["reviews"] if r["id"] == "23")  # block 2, review 1
    assert (review["authorId"], review["productUpc"]) == ("13", "11")
    assert scaled["userReviews"]["18"] == ["23", "24"]
    assert scaled["productReviews"]["15"] == []


def test_scale_query_lists_every_product(dataset: ModuleType) -> None:
    assert dataset.scale_query(40)["variables"] == {"first": 200}


def test_invalid_scale_is_refused(dataset: ModuleType) -> None:
    with pytest.raises(ValueError):
        dataset.scale_data(dataset.reference_data(), 0)


@pytest.fixture(scope="module")
def scaled_subgraphs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bench subgraphs at scale 2 on free ports; yields the supergraph pointing at them."""
    supergraph = tmp_path_factory.mktemp("scale") / "supergraph.graphql"
    command = [sys.executable, str(SUBGRAPHS / "server.py"), "--port-base", "0", "--scale", "2"]
    proc = subprocess.Popen(
        [*command, "--supergraph-out", str(supergraph)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline(), f"subgraph server exited with {proc.wait()}"
        yield supergraph.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.anyio
async def test_our_gateway_answers_the_scaled_query(
    dataset: ModuleType, scaled_subgraphs: str
) -> None:
    reference = _expected_json()["data"]
    expected = {
        "data": {
            "users": reference["users"] + _shift_block(reference["users"]),
            "topProducts": reference["topProducts"] + _shift_block(reference["topProducts"]),
        }
    }
    body = dataset.scale_query(2)
    gateway = Gateway.from_supergraph_sdl(scaled_subgraphs)
    try:
        answer = await gateway.execute(body["query"], body["variables"], body["operationName"])
    finally:
        await gateway.aclose()
    assert json.dumps(answer) == json.dumps(expected)  # key order included
