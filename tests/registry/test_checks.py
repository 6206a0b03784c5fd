"""Breaking-change detection between two API schemas."""

from __future__ import annotations

from graphql import build_schema

from gateway.registry.checks import find_breaking_changes, find_new_deprecations

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


def test_new_deprecations_name_what_their_removal_would_endanger() -> None:
    new = (
        OLD.replace("nama: String status", 'nama: String @deprecated(reason: "pakai nik") status')
        .replace("limit: Int)", 'limit: Int @deprecated(reason: "semua"))')
        .replace(" MENINGGAL", ' MENINGGAL @deprecated(reason: "status baru")')
        .replace("kota: String", 'kota: String @deprecated(reason: "pakai kode")')
    )
    found = {
        c.coordinate: (c.kind, c.message, c.endangered)
        for c in find_new_deprecations(build_schema(OLD), build_schema(new))
    }
    assert found == {
        "Penduduk.nama": (
            "FIELD_DEPRECATED",
            "field Penduduk.nama was deprecated: pakai nik",
            ("Penduduk.nama",),
        ),
        "Query.penduduk(limit:)": (
            "ARG_DEPRECATED",
            "argument Query.penduduk(limit:) was deprecated: semua",
            ("Query.penduduk",),
        ),
        "Status.MENINGGAL": (
            "ENUM_VALUE_DEPRECATED",
            "enum value Status.MENINGGAL was deprecated: status baru",
            ("Penduduk.status",),
        ),
        "Filter.kota": (
            "INPUT_FIELD_DEPRECATED",
            "input field Filter.kota was deprecated: pakai kode",
            ("Query.cari",),
        ),
    }
    # already deprecated before: nothing new; not a breaking change either
    assert find_new_deprecations(build_schema(new), build_schema(new)) == []
    assert find_breaking_changes(build_schema(OLD), build_schema(new)) == []
