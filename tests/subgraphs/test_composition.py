"""The five published SDLs compose into a supergraph with the MIT composer (Federation 2.9)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "tools" / "reference"  # installed by .ci/run (npm ci)
SCRIPT = Path(__file__).with_name("compose.mjs")


@pytest.fixture(scope="module")
def supergraph() -> str:
    node = shutil.which("node")
    if (
        node is None
        or not (REFERENCE / "node_modules" / "@theguild" / "federation-composition").exists()
    ):
        pytest.skip("node and tools/reference/node_modules (npm ci there) are needed")
    result = subprocess.run(
        [node, str(SCRIPT), str(REFERENCE), str(REPO / "schema")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.node
def test_subgraphs_compose_without_errors(supergraph: str) -> None:
    for name in ("WILAYAH", "KEPENDUDUKAN", "KESEHATAN", "PENDIDIKAN", "SOSIAL"):
        assert f'{name} @join__graph(name: "{name.lower()}"' in supergraph


@pytest.mark.node
def test_supergraph_keeps_requires_and_the_security_features(supergraph: str) -> None:
    assert (
        'cakupanJkn: Float @join__field(graph: KESEHATAN, requires: "jumlahPenduduk") '
        "@authenticated" in supergraph
    )
    for spec in ("authenticated/v0.1", "requiresScopes/v0.1", "policy/v0.1"):
        assert f'@link(url: "https://specs.apollo.dev/{spec}", for: SECURITY)' in supergraph
    assert '@requiresScopes(scopes: [["kesehatan:read"]])' in supergraph
    assert '@policy(policies: [["data_pribadi"]])' in supergraph
