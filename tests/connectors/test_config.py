"""The ``[connectors]`` section: per-source base URLs and secret ``$config``; the plan label."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.connectors.config import ConnectorsSection
from gateway.connectors.sdl import read_connectors
from tests.connectors.conftest import SCHEMA_DIR


def test_sources_give_base_urls_and_revealed_config_but_never_print_secrets() -> None:
    section = ConnectorsSection.model_validate({
        "sources": {"bapenda.samsat": {"base_url": "https://samsat.example/api/v1",
                                       "config": {"apiKey": "rahasia"}, "timeout": 2.5},
                    "bkd.simpeg": {"config": {"apiKey": "k2"}}},
    })  # fmt: skip
    assert section.base_urls() == {"bapenda.samsat": "https://samsat.example/api/v1"}
    assert section.timeouts() == {"bapenda.samsat": 2.5}
    assert section.source_config() == {
        "bapenda.samsat": {"apiKey": "rahasia"},
        "bkd.simpeg": {"apiKey": "k2"},
    }
    assert "rahasia" not in repr(section) and "rahasia" not in str(section.model_dump())


@pytest.mark.parametrize(
    "sources",
    [
        {"samsat": {}},  # no subgraph part
        {"bapenda.samsat": {"base_url": "ftp://x"}},
        {"bapenda.samsat": {"base_url": "http://{$config.h}/"}},
        {"bapenda.samsat": {"unknown": 1}},
    ],
)
def test_bad_sources_are_refused(sources: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConnectorsSection.model_validate({"sources": sources})


def test_a_connector_fetch_prints_with_its_source_method_and_template() -> None:
    model = read_connectors("bapenda", (SCHEMA_DIR / "bapenda.graphql").read_text())
    assert model is not None
    assert model.connector("bapenda:Query.kendaraan[0]").label == (
        'connector: "bapenda.samsat", GET "/kendaraan/{$args.nopol}"'
    )
