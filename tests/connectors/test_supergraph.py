"""Connectors read back from a supergraph's ``@join__directive``s: the digest's §12 example
(lines as ``@apollo/composition`` 2.14.4 wrote them, completed with the definitions it trimmed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.connectors.sdl import ConnectorSchemaError
from gateway.connectors.supergraph import read_supergraph_connectors

SUPERGRAPH = (Path(__file__).parent / "data" / "example-supergraph.graphql").read_text()


def test_every_connector_of_the_example_is_read_with_its_own_version() -> None:
    models = read_supergraph_connectors(SUPERGRAPH)
    assert set(models) == {"kendaraan", "petani"}
    kendaraan, petani = models["kendaraan"], models["petani"]
    assert (kendaraan.version, petani.version) == ((0, 2), (0, 3))
    assert sorted(c.coordinate for c in kendaraan.connectors) == [
        "kendaraan:Kendaraan.pajak[0]",
        "kendaraan:Kendaraan[0]",
        "kendaraan:Mutation.bayarPajak[0]",
        "kendaraan:Query.kendaraan[0]",
    ]
    batch = kendaraan.connector("kendaraan:Kendaraan[0]")
    assert (
        batch.is_batch and batch.batch_max_size == 20 and batch.key_fields("$batch") == ("nopol",)
    )
    assert kendaraan.connector("kendaraan:Query.kendaraan[0]").entity
    assert kendaraan.connector("kendaraan:Mutation.bayarPajak[0]").method == "POST"
    source = kendaraan.sources["samsat"]
    assert [h.name for h in source.headers] == ["x-api-key", "authorization"]
    assert source.errors.message is not None
    (connector,) = petani.connectors
    assert connector.coordinate == "petani:Query.petani[0]"
    assert petani.sources["tani"].base_url.source == "https://tani.example.go.id/"


def test_renamed_connect_import_maps_back_to_the_local_name() -> None:
    renamed = SUPERGRAPH.replace(
        'import: ["@source", "@connect"]})\n  @join__directive(graphs: [PETANI], name: "link"',
        'import: ["@source", {name: "@connect", as: "@rest"}]})\n'
        '  @join__directive(graphs: [PETANI], name: "link"',
    ).replace('graphs: [KENDARAAN], name: "connect"', 'graphs: [KENDARAAN], name: "rest"')
    assert renamed.count('name: "rest"') == 4
    models = read_supergraph_connectors(renamed)
    assert len(models["kendaraan"].connectors) == 4


def test_problems_are_found_in_the_supergraph_too() -> None:
    broken = SUPERGRAPH.replace('selection: "jumlah: total jatuhTempo: tgl_jatuh_tempo"',
                                'selection: "jumlah: total tanggal"')  # fmt: skip
    with pytest.raises(ConnectorSchemaError) as caught:
        read_supergraph_connectors(broken)
    assert [(p.code, p.coordinate) for p in caught.value.problems] == [
        ("CONNECTOR_SELECTION_INVALID", "kendaraan:Kendaraan.pajak[0]")
    ]
