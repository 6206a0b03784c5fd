"""Breaking-change detection between two API schemas."""

from __future__ import annotations

from graphql import build_schema

from gateway.registry.checks import find_breaking_changes

OLD = """
type Query { penduduk(nik: String!, limit: Int): Penduduk  cari(filter: Filter): [Penduduk] }
type Penduduk { nik: String! nama: String status: Status wilayah: [String] }
enum Status { HIDUP MENINGGAL }
input Filter { nama: String kota: String }
"""


def kinds(new: str) -> dict[str, str]:
    return {
        c.coordinate: c.kind for c in find_breaking_changes(build_schema(OLD), build_schema(new))
    }


def test_no_changes_no_findings() -> None:
    assert kinds(OLD) == {}


def test_removed_field_type_and_enum_value_are_breaking() -> None:
    new = OLD.replace("nama: String status", "status").replace(" MENINGGAL", "")
    found = kinds(new)
    assert found["Penduduk.nama"] == "FIELD_REMOVED"
    assert found["Status.MENINGGAL"] == "ENUM_VALUE_REMOVED"


def test_changed_field_type_is_breaking_but_output_made_non_null_is_not() -> None:
    assert kinds(OLD.replace("nama: String", "nama: Int", 1)) == {
        "Penduduk.nama": "FIELD_TYPE_CHANGED"
    }
    assert kinds(OLD.replace("nama: String", "nama: String!", 1)) == {}
    assert kinds(OLD.replace("wilayah: [String]", "wilayah: [String!]!")) == {}


def test_argument_changes_are_breaking() -> None:
    assert kinds(OLD.replace("limit: Int", "limit: Int!")) == {
        "Query.penduduk(limit:)": "ARG_MADE_REQUIRED"
    }
    assert kinds(OLD.replace(", limit: Int", "")) == {"Query.penduduk(limit:)": "ARG_REMOVED"}
    assert kinds(OLD.replace("limit: Int)", "limit: Int, tahun: Int!)")) == {
        "Query.penduduk(tahun:)": "REQUIRED_ARG_ADDED"
    }


def test_input_field_made_non_null_is_breaking_and_endangers_fields_taking_it() -> None:
    changes = find_breaking_changes(
        build_schema(OLD), build_schema(OLD.replace("kota: String", "kota: String!"))
    )
    assert [(c.kind, c.coordinate, c.endangered) for c in changes] == [
        ("INPUT_FIELD_MADE_REQUIRED", "Filter.kota", ("Query.cari",))
    ]


def test_removed_enum_value_endangers_fields_returning_the_enum() -> None:
    changes = find_breaking_changes(build_schema(OLD), build_schema(OLD.replace(" MENINGGAL", "")))
    assert changes[0].endangered == ("Penduduk.status",)
