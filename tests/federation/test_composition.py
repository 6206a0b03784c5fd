"""The corpus' supergraphs are current and its subgraphs are valid Federation 2 for both composers.

The committed `supergraph.graphql` files come from the MIT composer (tools/reference/compose.mjs);
Apollo's composer is run as a second opinion, since the MIT one accepts some invalid subgraphs
(e.g. `@provides` of a field that is not `@shareable` in its owner).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.federation.corpus import CASES_DIR, discover_cases
from tests.federation.record import REFERENCE_DIR

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(
        shutil.which("node") is None or not (REFERENCE_DIR / "node_modules").is_dir(),
        reason="needs node and `npm ci` in tools/reference",
    ),
]


def compose_all(composer: str) -> dict[str, Any]:
    script = str(REFERENCE_DIR / "compose.mjs")
    result = subprocess.run(
        ["node", script, "--batch", str(CASES_DIR), "--composer", composer],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_committed_supergraphs_are_current() -> None:
    composed = compose_all("guild")
    stale = [
        case.id
        for case in discover_cases()
        if not (case.path / "supergraph.manual").exists()
        and composed[case.id].get("supergraph") != case.supergraph_path.read_text()
    ]
    assert stale == [], "re-run `python -m tests.federation.record` for these cases"


#: cases whose subgraphs no composer accepts, on purpose (a hand-made supergraph tests that the
#: gateway refuses at plan time what no plan can answer): the code Apollo's composer refuses with
UNCOMPOSABLE = {"planning/unplannable-interface-object": "SATISFIABILITY_ERROR"}


def test_apollo_composer_accepts_every_case() -> None:
    composed = compose_all("apollo")
    errors = {case: result["errors"] for case, result in composed.items() if "errors" in result}
    refused = {case: {e["code"] for e in errors.pop(case, [])} for case in UNCOMPOSABLE}
    assert errors == {}
    assert refused == {case: {code} for case, code in UNCOMPOSABLE.items()}
