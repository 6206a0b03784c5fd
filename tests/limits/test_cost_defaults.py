"""The default static cost limit admits what dashboards send and refuses abusive nesting
(the measurements behind the defaults are in docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse

from gateway.composition.compose import SubgraphSource, compose
from gateway.limits.config import CostSection
from gateway.limits.cost import CostEstimator
from gateway.supergraph import load_supergraph

ROOT = Path(__file__).resolve().parents[2]
AGGREGATES = "kode nama jumlahPenduduk cakupanJkn jumlahSekolah jumlahKeluargaPenerima"
DASHBOARDS = {
    "README aggregates": f"{{ kabupatenKota {{ {AGGREGATES} }} }}",
    "README resident case": """query ($nik: String!) { penduduk(nik: $nik) { nama keluarga {
        noKk anggota { nik nama pendidikan { kelas sekolah { nama } }
        kepesertaanJkn { segmen aktif } } penerimaBansos { program { nama } aktif }
        desilKesejahteraan } } }""",
    "regency > district > village": f"""{{ kabupatenKota {{ {AGGREGATES} children {{
        {AGGREGATES} children {{ {AGGREGATES} }} }} }} }}""",
    "schools and facilities": """{ kabupatenKota { nama sekolah(first: 20) { nodes { nama } }
        fasilitasKesehatan(first: 20) { nodes { nama } } } }""",
}


def _cost(sdl: str, query: str) -> int:
    schema = load_supergraph(sdl, authorization_enforced=True).api_schema
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return CostEstimator(CostSection()).estimate(schema, document, operation)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_queries_are_far_below_the_default(name: str) -> None:
    sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
    assert _cost(sdl, DASHBOARDS[name]) <= CostSection().max // 10


def test_the_benchmark_shape_is_admitted_and_one_list_level_more_is_not() -> None:
    sources = [
        SubgraphSource(p.stem, p.read_text(), f"http://{p.stem}.test/graphql")
        for p in sorted((ROOT / "bench" / "subgraphs").glob("*.graphql"))
    ]
    sdl = compose(sources).supergraph_sdl
    assert sdl is not None
    four = "{ users { reviews { product { reviews { author { reviews { body } } } } } } }"
    five = (
        "{ users { reviews { product { reviews { author { reviews { product { reviews "
        "{ author { name } } } } } } } } } }"
    )
    assert _cost(sdl, four) <= CostSection().max < _cost(sdl, five)
