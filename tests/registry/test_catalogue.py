"""The data catalogue of the five OPD subgraphs: owners, descriptions, personal data, guards."""

from __future__ import annotations

from typing import Any

from gateway.composition.compose import compose_or_raise
from gateway.registry.catalogue import build_catalogue, render_catalogue_html
from tests.composition.conftest import OPD_SUBGRAPHS, REPO, sources_in


def _catalogue() -> dict[str, Any]:
    sdl = compose_or_raise(sources_in(REPO / "schema", OPD_SUBGRAPHS))
    return build_catalogue(sdl, {}, ["data_pribadi"])


def _field(catalogue: dict[str, Any], opd: str, type_name: str, field: str) -> dict[str, Any]:
    entry = next(o for o in catalogue["opds"] if o["name"] == opd)
    t = next(t for t in entry["types"] if t["name"] == type_name)
    return next(f for f in t["fields"] if f["name"] == field)  # type: ignore[no-any-return]


def test_every_opd_is_listed() -> None:
    assert [o["name"] for o in _catalogue()["opds"]] == OPD_SUBGRAPHS


def test_personal_data_is_marked_with_its_scopes_and_policies() -> None:
    nama = _field(_catalogue(), "kependudukan", "Penduduk", "nama")
    assert nama["personal_data"] is True
    assert nama["scopes"] == [["kependudukan:read"]]
    assert nama["policies"] == [["data_pribadi"]]


def test_fields_are_listed_under_the_opd_that_resolves_them() -> None:
    catalogue = _catalogue()
    jkn = _field(catalogue, "kesehatan", "Penduduk", "kepesertaanJkn")
    assert jkn["description"] == "Null if not a JKN member." and jkn["personal_data"]
    kependudukan = next(o for o in catalogue["opds"] if o["name"] == "kependudukan")
    penduduk = next(t for t in kependudukan["types"] if t["name"] == "Penduduk")
    assert "kepesertaanJkn" not in {f["name"] for f in penduduk["fields"]}


def test_the_page_shows_each_opd_and_guard() -> None:
    page = render_catalogue_html(_catalogue())
    assert "<h2 id='kesehatan'>kesehatan</h2>" in page and "kesehatan:read" in page
