"""`jamajama gateway` (gateway/serve.py): a real uvicorn server on a loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.serve import parse_subgraph_urls
from tests.http.conftest import SUPERGRAPH_PATH

ROOT = Path(__file__).parent.parent.parent


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "gateway", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def server_url() -> Iterator[str]:
    process = _start(
        "--supergraph",
        str(SUPERGRAPH_PATH),
        "--port",
        "0",
        "--subgraph-url",
        "accounts=http://127.0.0.1:9/graphql",
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Jama Jama gateway listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_server_answers_health_and_graphql_on_loopback(server_url: str) -> None:
    base = server_url.removesuffix("/graphql")
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{base}/health").json() == {"status": "ok"}
        response = client.post(server_url, json={"query": "{ __typename }"})
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}
        invalid = client.post(
            server_url,
            json={"query": "{ nope }"},
            headers={"accept": "application/graphql-response+json"},
        )
        assert invalid.status_code == 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subgraph-url", "nobody=http://x"], "unknown subgraph(s): nobody"),
        (["--subgraph-url", "accounts"], "expects NAME=URL"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(args: list[str], message: str) -> None:
    process = _start("--supergraph", str(SUPERGRAPH_PATH), "--port", "0", *args)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert message in stderr


def test_parse_subgraph_urls() -> None:
    assert parse_subgraph_urls(["a=http://x/graphql", "b=http://y?q=1"]) == {
        "a": "http://x/graphql",
        "b": "http://y?q=1",
    }
    with pytest.raises(ValueError, match="NAME=URL"):
        parse_subgraph_urls(["=http://x"])


def test_server_section_of_the_configuration_is_used(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[server]\nsupergraph = "{SUPERGRAPH_PATH}"\nport = 0\n'
        '[server.subgraph_urls]\nnobody = "http://127.0.0.1:9/graphql"\n'
    )
    process = _start("--config", str(config))
    _, stderr = process.communicate(timeout=30)
    # The supergraph came from the file, and so did the (deliberately wrong) routing override.
    assert process.returncode == 2
    assert "unknown subgraph(s): nobody" in stderr
    config.write_text(f'[server]\nsupergraph = "{SUPERGRAPH_PATH}"\nport = 0\n')
    process = _start("--config", str(config))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Jama Jama gateway listening on http://127.0.0.1:"), line
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _reference_workload() -> Path:
    for candidate in (ROOT.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (candidate / "expected.json").exists():
            return candidate
    pytest.skip("shared/bench (the reference workload) is not beside the checkout")


def test_supergraph_composed_at_start_from_live_subgraphs(tmp_path: Path) -> None:
    workload = _reference_workload()
    subgraphs = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "subgraphs" / "server.py"), "--port-base", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    gateway = None
    try:
        assert subgraphs.stdout is not None
        urls = json.loads(subgraphs.stdout.readline())["ready"]
        specs = [arg for name, url in urls.items() for arg in ("--subgraph", f"{name}={url}")]
        config = ROOT / "bench" / "gateways" / "jamajama.toml"  # the workload is above cost limits
        gateway = _start(*specs, "--port", "0", "--config", str(config))
        assert gateway.stdout is not None
        line = gateway.stdout.readline()
        assert line.startswith("Jama Jama gateway listening on"), line
        response = httpx.post(
            line.rsplit(" ", 1)[1].strip(),
            content=(workload / "query.json").read_bytes(),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert response.json() == json.loads((workload / "expected.json").read_text())
    finally:
        for process in (gateway, subgraphs):
            if process is not None:
                process.terminate()
                process.communicate(timeout=10)


def test_live_subgraphs_that_do_not_answer_are_a_clear_error() -> None:
    process = _start("--subgraph", "accounts=http://127.0.0.1:9/graphql", "--port", "0")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "cannot fetch a subgraph's SDL" in stderr
