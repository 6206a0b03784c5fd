"""The published SDL: files in schema/ match the code, and carry the federation directives."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from graphql import DocumentNode, ObjectTypeDefinitionNode, SchemaDefinitionNode, parse, print_ast

from subgraphs import SUBGRAPHS, export

from .conftest import RunningSubgraph

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
AUTH = {"authenticated", "requiresScopes", "policy"}


def _doc(name: str) -> DocumentNode:
    return parse((SCHEMA_DIR / f"{name}.graphql").read_text(encoding="utf-8"))


def _field_directives(doc: DocumentNode, type_name: str, field: str) -> dict[str, str]:
    """Directive name -> printed arguments, on one field."""
    for d in doc.definitions:
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == type_name:
            for f in d.fields or ():
                if f.name.value == field:
                    return {
                        x.name.value: ", ".join(print_ast(a) for a in x.arguments or ())
                        for x in f.directives or ()
                    }
    raise AssertionError(f"{type_name}.{field} not in SDL")


@pytest.mark.parametrize("name", list(SUBGRAPHS))
def test_schema_file_is_what_the_subgraph_publishes(
    subgraphs: dict[str, RunningSubgraph], name: str
) -> None:
    published = subgraphs[name].data("{ _service { sdl } }")["_service"]["sdl"]
    assert (SCHEMA_DIR / f"{name}.graphql").read_text(encoding="utf-8") == published + "\n"


@pytest.mark.parametrize("name", list(SUBGRAPHS))
def test_link_pins_federation_2_9_and_imports_every_directive_used(name: str) -> None:
    doc = _doc(name)
    [schema_def] = [d for d in doc.definitions if isinstance(d, SchemaDefinitionNode)]
    [link] = [d for d in schema_def.directives or () if d.name.value == "link"]
    args = {a.name.value: a.value for a in link.arguments or ()}
    assert print_ast(args["url"]) == '"https://specs.apollo.dev/federation/v2.9"'
    imported = {print_ast(v).strip('"') for v in args["import"].values}  # type: ignore[attr-defined]
    used = {
        "@" + x.name.value
        for d in doc.definitions
        if isinstance(d, ObjectTypeDefinitionNode)
        for x in [*(d.directives or ()), *(y for f in d.fields or () for y in f.directives or ())]
    }
    assert used <= imported


PERSONAL = [
    ("kependudukan", "Penduduk", f, "kependudukan:read")
    for f in [
        "nama",
        "jenisKelamin",
        "tempatLahir",
        "tanggalLahir",
        "agama",
        "statusPerkawinan",
        "pekerjaan",
        "alamat",
        "hubunganKeluarga",
        "wilayah",
        "keluarga",
    ]
] + [
    ("kependudukan", "Keluarga", "anggota", "kependudukan:read"),
    ("kependudukan", "Keluarga", "kepalaKeluarga", "kependudukan:read"),
    ("kependudukan", "Query", "daftarPenduduk", "kependudukan:read"),
    ("kesehatan", "Penduduk", "kepesertaanJkn", "kesehatan:read"),
    ("kesehatan", "Penduduk", "riwayatImunisasi", "kesehatan:read"),
    ("pendidikan", "Penduduk", "pendidikan", "pendidikan:read"),
    ("pendidikan", "Sekolah", "siswa", "pendidikan:read"),
    ("sosial", "Keluarga", "penerimaBansos", "sosial:read"),
    ("sosial", "Keluarga", "desilKesejahteraan", "sosial:read"),
]


@pytest.mark.parametrize(("name", "type_name", "field", "scope"), PERSONAL)
def test_personal_data_needs_the_opd_scope_and_the_data_pribadi_policy(
    name: str, type_name: str, field: str, scope: str
) -> None:
    assert _field_directives(_doc(name), type_name, field) == {
        "requiresScopes": f'scopes: [["{scope}"]]',
        "policy": 'policies: [["data_pribadi"]]',
    }


AGGREGATES = [
    ("kependudukan", "Wilayah", "jumlahPenduduk"),
    ("kependudukan", "Wilayah", "jumlahKeluarga"),
    ("kesehatan", "Wilayah", "jumlahPesertaJkn"),
    ("kesehatan", "Wilayah", "fasilitasKesehatan"),
    ("kesehatan", "Query", "daftarFasilitasKesehatan"),
    ("pendidikan", "Wilayah", "jumlahSekolah"),
    ("pendidikan", "Wilayah", "sekolah"),
    ("pendidikan", "Query", "daftarSekolah"),
    ("sosial", "Wilayah", "jumlahKeluargaPenerima"),
    ("kependudukan", "Query", "penduduk"),
    ("kependudukan", "Query", "keluarga"),
]


@pytest.mark.parametrize(("name", "type_name", "field"), AGGREGATES)
def test_aggregates_need_an_authenticated_caller(name: str, type_name: str, field: str) -> None:
    assert _field_directives(_doc(name), type_name, field) == {"authenticated": ""}


def test_cakupan_jkn_requires_the_external_population() -> None:
    doc = _doc("kesehatan")
    assert _field_directives(doc, "Wilayah", "jumlahPenduduk") == {"external": ""}
    assert _field_directives(doc, "Wilayah", "cakupanJkn") == {
        "authenticated": "",
        "requires": 'fields: "jumlahPenduduk"',
    }


def test_wilayah_nama_is_shareable_where_two_opds_serve_it() -> None:
    for name in ("wilayah", "kependudukan"):
        assert _field_directives(_doc(name), "Wilayah", "nama") == {"shareable": ""}


@pytest.mark.parametrize(
    ("name", "type_name", "field"),
    [
        ("kependudukan", "Penduduk", "nik"),
        ("kependudukan", "Keluarga", "noKk"),
        *(("wilayah", "Wilayah", f) for f in ("kode", "tingkat", "luas", "parent", "children")),
        ("wilayah", "Query", "wilayah"),
        ("sosial", "Query", "programBansos"),
        ("pendidikan", "Query", "sekolah"),
    ],
)
def test_keys_and_reference_data_are_not_protected(name: str, type_name: str, field: str) -> None:
    assert not AUTH & _field_directives(_doc(name), type_name, field).keys()


def _export(action: str, directory: Path) -> int:
    return export.run(argparse.Namespace(action=action, dir=directory, names=[]))


def test_schema_check_detects_a_stale_file_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SCHEMA_DIR, tmp_path, dirs_exist_ok=True)
    assert _export("check", tmp_path) == 0
    stale = tmp_path / "sosial.graphql"
    stale.write_text(stale.read_text().replace("desilKesejahteraan", "desil"))
    assert _export("check", tmp_path) == 1
    assert "+  desilKesejahteraan" in capsys.readouterr().out
    assert _export("write", tmp_path) == 0
    assert _export("check", tmp_path) == 0
    assert stale.read_text() == (SCHEMA_DIR / "sosial.graphql").read_text()
