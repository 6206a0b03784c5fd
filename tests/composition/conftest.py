"""Shared helpers for composition tests: the corpora and the reference composer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.composition.compose import SubgraphSource

REPO = Path(__file__).resolve().parents[2]
FEDERATION_CASES = REPO / "tests" / "federation" / "cases"
ERROR_CASES = Path(__file__).parent / "cases"
REFERENCE = REPO / "tools" / "reference"
OPD_SUBGRAPHS = ["kependudukan", "kesehatan", "pendidikan", "sosial", "wilayah"]


def sources_in(directory: Path, names: list[str] | None = None) -> list[SubgraphSource]:
    files = sorted(directory.glob("*.graphql"))
    return [
        SubgraphSource(p.stem, p.read_text())
        for p in files
        if (names is None and p.stem != "supergraph") or (names is not None and p.stem in names)
    ]


def reference_compose(
    sources: list[SubgraphSource], tmp: Path, composer: str = "guild"
) -> tuple[str | None, list[str]]:
    """Run a pinned npm composer (The Guild's, or ``"apollo"``: ``@apollo/composition``, the
    judge for connector subgraphs): (supergraph, []) or (None, error codes)."""
    node = shutil.which("node")
    package = "@apollo/composition" if composer == "apollo" else "@theguild"
    if node is None or not (REFERENCE / "node_modules" / package).exists():
        pytest.skip("the reference composer is not installed (cd tools/reference && npm ci)")
    args = [node, str(REFERENCE / "compose.mjs"), "--composer", composer]
    for source in sources:
        path = tmp / f"{source.name}.graphql"
        path.write_text(source.sdl)
        args.append(f"{source.name}={path}")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode == 0:
        return done.stdout, []
    try:
        return None, [e["code"] for e in json.loads(done.stdout)]
    except json.JSONDecodeError:
        raise AssertionError(f"reference composer crashed: {done.stderr}") from None


def _batch(composer: str) -> dict[str, Any]:
    package = "@apollo/composition" if composer == "apollo" else "@theguild"
    node = shutil.which("node")
    if node is None or not (REFERENCE / "node_modules" / package).exists():
        pytest.skip("the reference composer is not installed (cd tools/reference && npm ci)")
    done = subprocess.run(
        [
            node,
            str(REFERENCE / "compose.mjs"),
            "--composer",
            composer,
            "--batch",
            str(Path(__file__).parent),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="session")
def reference_batch() -> dict[str, Any]:
    """The npm composer's answer for every ``tests/composition/{cases,valid}/NAME`` (one run)."""
    return _batch("guild")


@pytest.fixture(scope="session")
def apollo_batch() -> dict[str, Any]:
    """``@apollo/composition``'s answer for the same cases: the judge where the two disagree."""
    return _batch("apollo")
