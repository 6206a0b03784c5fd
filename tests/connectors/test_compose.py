"""The five REST OPDs' connector SDLs (``schema/rest/``) compose with the GraphQL OPDs, in our
composer as in ``@apollo/composition`` 2.14.4 (the judge: The Guild's composer knows Federation
up to v2.9 only), and the gateway reads the same connectors back from both supergraphs.

Apollo composes every combination in one Node run (each REST OPD with the five GraphQL OPDs, and
all ten together)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from gateway.composition.compose import SubgraphSource, compose
from gateway.connectors.supergraph import read_supergraph_connectors
from tests.composition.conftest import OPD_SUBGRAPHS, REFERENCE, REPO, sources_in
from tests.composition.supergraph_diff import diff_supergraphs

REST = REPO / "schema" / "rest"
REST_OPDS = sorted(p.stem for p in REST.glob("*.graphql"))
#: case name -> the REST OPDs composed with the five GraphQL OPDs
COMBINATIONS = {opd: [opd] for opd in REST_OPDS} | {"all-ten": REST_OPDS}


def _sources(rest: list[str]) -> list[SubgraphSource]:
    return sources_in(REPO / "schema", OPD_SUBGRAPHS) + sources_in(REST, rest)


@pytest.fixture(scope="module")
def apollo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``@apollo/composition``'s answer for every combination (``rest/NAME``)."""
    node = shutil.which("node")
    if node is None or not (REFERENCE / "node_modules" / "@apollo" / "composition").exists():
        pytest.skip("the reference composer is not installed (cd tools/reference && npm ci)")
    root = tmp_path_factory.mktemp("apollo")
    for case, rest in COMBINATIONS.items():
        directory = root / "rest" / case / "subgraphs"
        directory.mkdir(parents=True)
        for source in _sources(rest):
            (directory / f"{source.name}.graphql").write_text(source.sdl)
    done = subprocess.run(
        [node, str(REFERENCE / "compose.mjs"), "--composer", "apollo", "--batch", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _connectors(supergraph: str) -> dict[str, Any]:
    return {
        name: (model.version, model.sources, {c.coordinate: c for c in model.connectors})
        for name, model in read_supergraph_connectors(supergraph).items()
    }


@pytest.mark.node
@pytest.mark.parametrize("case", sorted(COMBINATIONS))
def test_composes_like_apollo_and_reads_back_alike(case: str, apollo: dict[str, Any]) -> None:
    answer = apollo[f"rest/{case}"]
    assert "supergraph" in answer, answer
    result = compose(_sources(COMBINATIONS[case]))
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    assert diff_supergraphs(result.supergraph_sdl, answer["supergraph"]) == []
    ours = _connectors(result.supergraph_sdl)
    assert ours == _connectors(answer["supergraph"])
    assert sorted(ours) == COMBINATIONS[case]


def test_all_ten_opds_compose_without_node() -> None:
    """The same composition without the oracle (CI without Node): every connector is carried,
    each subgraph read back with its own connect version."""
    result = compose(_sources(REST_OPDS))
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    models = read_supergraph_connectors(result.supergraph_sdl)
    assert sorted(models) == REST_OPDS
    for opd in REST_OPDS:
        written = (REST / f"{opd}.graphql").read_text().count("@connect(")
        assert (models[opd].version, len(models[opd].connectors)) == ((0, 2), written), opd
