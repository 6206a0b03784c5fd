"""The data catalogue of the five OPD subgraphs: owners, descriptions, personal data, guards."""

from __future__ import annotations

from typing import Any

from gateway.composition.compose import compose_or_raise
from gateway.registry.catalogue import build_catalogue, render_catalogue_html, render_description
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore, SubgraphVersion
from tests.composition.conftest import OPD_SUBGRAPHS, REPO, sources_in
from tests.registry.test_service import TestClient


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


def test_identifiers_of_a_person_are_personal_data_even_unguarded() -> None:
    catalogue = _catalogue()
    for opd, type_name, field in (
        ("kependudukan", "Penduduk", "nik"),
        ("kependudukan", "Keluarga", "noKk"),
        ("kesehatan", "KepesertaanJkn", "nomorKartu"),
        ("pendidikan", "PesertaDidik", "nisn"),
    ):
        entry = _field(catalogue, opd, type_name, field)
        assert entry["personal_data"] is True and entry["identifier"] is True, (type_name, field)
    # An aggregate stays public, and a guarded field is personal without being an identifier.
    assert _field(catalogue, "kependudukan", "Wilayah", "jumlahPenduduk")["personal_data"] is False
    nama = _field(catalogue, "kependudukan", "Penduduk", "nama")
    assert nama["personal_data"] is True and nama["identifier"] is False


def test_inaccessible_fields_are_not_listed() -> None:
    sdl = (REPO / "tests/federation/cases/inaccessible/internal-use/supergraph.graphql").read_text()
    catalogue = build_catalogue(sdl, {}, ["data_pribadi"])
    fields = {
        (o["name"], t["name"], f["name"])
        for o in catalogue["opds"]
        for t in o["types"]
        for f in t["fields"]
    }
    assert ("profiles", "User", "bio") in fields and ("users", "User", "name") in fields
    assert not {f for f in fields if f[2] in ("id", "internalWeight")}
    # an external field is listed under the subgraph that resolves it, not the one that needs it
    assert ("profiles", "User", "name") not in fields


def test_descriptions_are_rendered_not_printed_raw() -> None:
    assert render_description("Kemendagri code, e.g. `18.71` or <b>.\n\nSecond.") == (
        "<p>Kemendagri code, e.g. <code>18.71</code> or &lt;b&gt;.</p><p>Second.</p>"
    )
    page = render_catalogue_html(_catalogue())
    assert "<code>P18710101</code>" in page and "`" not in page


def test_the_page_is_in_indonesian_with_publish_dates_and_field_anchors() -> None:
    sdl = compose_or_raise(sources_in(REPO / "schema", OPD_SUBGRAPHS))
    version = SubgraphVersion(
        1, "kesehatan", "http://kesehatan:4003/graphql", "", "opd:kesehatan", 1_796_000_000.0
    )
    page = render_catalogue_html(build_catalogue(sdl, {"kesehatan": version}, ["data_pribadi"]))
    assert "diterbitkan oleh opd:kesehatan pada 2026-11-30 00:53 UTC" in page
    assert "Belum diterbitkan" in page  # the OPDs this registry has no version of
    assert "<th>Kolom</th>" in page and "<th>Data pribadi</th>" in page and "<th>Field" not in page
    assert "<tr id='Penduduk.nik'>" in page and "ya (nomor identitas)" in page
    # A key several OPDs resolve is anchored at its owner (the OPD resolving most of the type).
    assert page.count("<tr id='Penduduk.nik'>") == 1 and "<tr id='kesehatan:Penduduk.nik'>" in page
    assert "<tr id='Wilayah.kode'>" in page and "<tr id='kependudukan:Wilayah.kode'>" in page
    owner = page.index("<h2 id='wilayah'>")
    assert page.index("<tr id='Wilayah.kode'>") > owner


def test_the_registry_serves_a_favicon(store: RegistryStore) -> None:
    client = TestClient(create_app(Registry(store, usage_window_days=30), {}, None))
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
