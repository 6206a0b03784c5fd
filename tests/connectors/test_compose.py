"""The five REST OPDs' connector SDLs (``schema/rest/``) compose with the GraphQL OPDs, in our
composer as in ``@apollo/composition`` 2.14.4 (the judge: The Guild's composer knows Federation
up to v2.9 only), and the gateway reads the same connectors back from both supergraphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.composition.compose import compose
from gateway.connectors.supergraph import read_supergraph_connectors
from tests.composition.conftest import OPD_SUBGRAPHS, REPO, reference_compose, sources_in
from tests.composition.supergraph_diff import diff_supergraphs

REST = REPO / "schema" / "rest"
REST_OPDS = sorted(p.stem for p in REST.glob("*.graphql"))


def _connectors(supergraph: str) -> dict[str, Any]:
    return {
        name: (model.version, model.sources, {c.coordinate: c for c in model.connectors})
        for name, model in read_supergraph_connectors(supergraph).items()
    }


def _check(rest: list[str], tmp_path: Path) -> str:
    sources = sources_in(REPO / "schema", OPD_SUBGRAPHS) + sources_in(REST, rest)
    expected, codes = reference_compose(sources, tmp_path, composer="apollo")
    assert expected is not None, codes
    result = compose(sources)
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    assert diff_supergraphs(result.supergraph_sdl, expected) == []
    assert _connectors(result.supergraph_sdl) == _connectors(expected)
    return result.supergraph_sdl


@pytest.mark.node
@pytest.mark.parametrize("opd", REST_OPDS)
def test_rest_opd_composes_like_apollo_and_reads_back_alike(opd: str, tmp_path: Path) -> None:
    ours = _check([opd], tmp_path)
    assert set(read_supergraph_connectors(ours)) == {opd}


@pytest.mark.node
def test_all_ten_opds_compose_like_apollo(tmp_path: Path) -> None:
    ours = _check(REST_OPDS, tmp_path)
    models = read_supergraph_connectors(ours)
    assert sorted(models) == REST_OPDS
    assert all(model.version == (0, 2) for model in models.values())


def test_all_ten_opds_compose_without_node() -> None:
    """The same composition without the oracle (CI without Node): every connector is carried."""
    sources = sources_in(REPO / "schema", OPD_SUBGRAPHS) + sources_in(REST, REST_OPDS)
    result = compose(sources)
    assert result.supergraph_sdl is not None, [str(e) for e in result.errors]
    models = read_supergraph_connectors(result.supergraph_sdl)
    for opd in REST_OPDS:
        written = (REST / f"{opd}.graphql").read_text().count("@connect(")
        assert len(models[opd].connectors) == written, opd
