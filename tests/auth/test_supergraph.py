"""schema/supergraph.graphql is the current composition of the five OPD subgraph SDLs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "tools" / "reference" / "compose.mjs"
NAMES = ("kependudukan", "kesehatan", "pendidikan", "sosial", "wilayah")
PORTS = {
    "wilayah": 4001,
    "kependudukan": 4002,
    "kesehatan": 4003,
    "pendidikan": 4004,
    "sosial": 4005,
}


def compose_command() -> list[str]:
    """The command that (re)writes schema/supergraph.graphql (run from schema/)."""
    command = ["node", str(COMPOSE)]
    for name in NAMES:
        command += ["--url", f"{name}=http://127.0.0.1:{PORTS[name]}/graphql"]
    return command + [f"{name}={name}.graphql" for name in NAMES]


@pytest.mark.node
def test_committed_supergraph_is_current() -> None:
    result = subprocess.run(
        compose_command(), cwd=ROOT / "schema", capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    committed = (ROOT / "schema" / "supergraph.graphql").read_text()
    assert result.stdout == committed, (
        "schema/supergraph.graphql is stale: run "
        "`cd schema && " + " ".join(compose_command()) + " > supergraph.graphql`"
    )
