"""`jamajama subgraph ...`, `jamajama schema ...` and `jamajama dev` as a user runs them."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway import dev
from gateway.cli import main

from .conftest import TEST_SCALE


def _free_ports(n: int) -> int:
    """A base port with `n` consecutive free ports on the loopback."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + n > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no consecutive free ports")


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "JAMAJAMA_DATA_DIR": str(data_dir)}


def test_subgraph_list_names_every_subgraph(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["subgraph", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == [
        "wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial",
    ]  # fmt: skip


def test_subgraph_generate_refuses_a_bad_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subgraph", "generate", "--scale", "2", "--data-dir", str(tmp_path)]) == 2
    assert "scale must be in (0, 1]" in capsys.readouterr().err


def test_schema_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert main(["schema", "check", "--dir", str(repo / "schema")]) == 0
    assert "5 schema file(s) match the code" in capsys.readouterr().out


def test_dev_services_are_the_five_subgraphs_on_consecutive_ports() -> None:
    parser = argparse.ArgumentParser()
    dev.add_arguments(parser)
    services = dev.services(parser.parse_args([]))
    assert [(s.name, s.port) for s in services] == [
        ("wilayah", 4001), ("kependudukan", 4002), ("kesehatan", 4003),
        ("pendidikan", 4004), ("sosial", 4005), ("gateway", 4000),
    ]  # fmt: skip
    assert services[-1].after_previous  # the gateway starts once the subgraphs answer
    assert services[1].argv[1:] == (
        "-m", "gateway.cli", "subgraph", "serve", "kependudukan", "--host", "127.0.0.1",
        "--port", "4002", "--seed", "18", "--scale", "0.001",
    )  # fmt: skip


def test_dev_refuses_busy_ports_before_starting_anything(tmp_path: Path) -> None:
    base = _free_ports(6)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 2))
        busy.listen()
        command = ["dev", "--base-port", str(base), "--gateway-port", str(base + 5)]
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *command],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"port(s) already in use: kesehatan {base + 2}" in result.stderr
    assert not any(tmp_path.iterdir())  # nothing generated


def test_dev_starts_all_five_and_stops_them(world_dir: Path) -> None:
    base = _free_ports(6)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "dev", "--base-port", str(base),
         "--gateway-port", str(base + 5), "--scale", str(TEST_SCALE)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(world_dir.parent),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("all services up"):
            line = proc.stdout.readline()
            assert line, f"jamajama dev exited early: {proc.wait()}"
            lines.append(line.rstrip("\n"))
        assert lines[0].endswith("(cached)")
        assert [line.split() for line in lines[1:6]] == [
            [name, f"http://127.0.0.1:{base + i}/graphql"]
            for i, name in enumerate(
                ["wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial"]
            )
        ]
        answer = httpx.post(
            f"http://127.0.0.1:{base + 4}/graphql", json={"query": "{ programBansos { kode } }"}
        ).json()
        assert len(answer["data"]["programBansos"]) == 4
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{base}/health")
