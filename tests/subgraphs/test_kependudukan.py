"""Subgraph `kependudukan` over HTTP: residents, families, population per region."""

from __future__ import annotations

import sqlite3
from typing import Any

from subgraphs.kit.reference import regions_by_kode

from .conftest import RunningSubgraph

PENDUDUK_FIELDS = (
    "nik nama jenisKelamin tempatLahir tanggalLahir agama statusPerkawinan pekerjaan alamat "
    "hubunganKeluarga wilayah { kode nama } keluarga { noKk }"
)


def _expected_penduduk(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "nik": row["nik"],
        "nama": row["nama"],
        "jenisKelamin": row["jenis_kelamin"],
        "tempatLahir": row["tempat_lahir"],
        "tanggalLahir": row["tanggal_lahir"],
        "agama": row["agama"],
        "statusPerkawinan": row["status_perkawinan"],
        "pekerjaan": row["pekerjaan"],
        "alamat": row["alamat"],
        "hubunganKeluarga": row["hubungan"],
        "wilayah": {"kode": row["desa_kode"], "nama": regions_by_kode()[row["desa_kode"]].nama},
        "keluarga": {"noKk": row["no_kk"]},
    }


def _biggest_family(db: dict[str, sqlite3.Connection]) -> str:
    row = (
        db["kependudukan"]
        .execute("SELECT no_kk FROM penduduk GROUP BY no_kk ORDER BY COUNT(*) DESC, no_kk LIMIT 1")
        .fetchone()
    )
    return str(row[0])


def test_penduduk_by_nik_returns_the_registered_record(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    row = (
        db["kependudukan"]
        .execute("SELECT * FROM penduduk ORDER BY nik LIMIT 1 OFFSET 7")
        .fetchone()
    )
    data = subgraphs["kependudukan"].data(
        "query($nik: String!) { penduduk(nik: $nik) { " + PENDUDUK_FIELDS + " } }",
        {"nik": row["nik"]},
    )
    assert data == {"penduduk": _expected_penduduk(row)}


def test_unknown_but_well_formed_nik_is_null(subgraphs: dict[str, RunningSubgraph]) -> None:
    assert subgraphs["kependudukan"].post('{ penduduk(nik: "1871010101019999") { nik } }') == {
        "data": {"penduduk": None}
    }


def test_keluarga_lists_members_in_kk_order(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    no_kk = _biggest_family(db)
    fam = db["kependudukan"].execute("SELECT * FROM keluarga WHERE no_kk = ?", [no_kk]).fetchone()
    members = (
        db["kependudukan"]
        .execute("SELECT nik, hubungan FROM penduduk WHERE no_kk = ? ORDER BY urutan", [no_kk])
        .fetchall()
    )
    data = subgraphs["kependudukan"].data(
        "query($kk: String!) { keluarga(noKk: $kk) { noKk alamat tanggalTerbit "
        "wilayah { kode } kepalaKeluarga { nik } anggota { nik hubunganKeluarga } } }",
        {"kk": no_kk},
    )
    assert data["keluarga"] == {
        "noKk": no_kk,
        "alamat": fam["alamat"],
        "tanggalTerbit": fam["tanggal_terbit"],
        "wilayah": {"kode": fam["desa_kode"]},
        "kepalaKeluarga": {"nik": fam["nik_kepala"]},
        "anggota": [{"nik": m[0], "hubunganKeluarga": m[1]} for m in members],
    }
    assert len(members) >= 4


def test_daftar_penduduk_pages_through_a_kecamatan(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    expected = [
        r[0]
        for r in db["kependudukan"].execute(
            "SELECT nik FROM penduduk WHERE substr(desa_kode, 1, 8) = '18.72.01' ORDER BY nik"
        )
    ]
    query = (
        'query($after: String) { daftarPenduduk(wilayahKode: "18.72.01", first: 25, '
        "after: $after) { totalCount nodes { nik } pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[str] = []
    after = None
    while True:
        page = subgraphs["kependudukan"].data(query, {"after": after})["daftarPenduduk"]
        assert page["totalCount"] == len(expected)
        seen += [n["nik"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected and len(expected) > 25


def test_entities_resolve_penduduk_keluarga_and_wilayah(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    conn = db["kependudukan"]
    row = conn.execute("SELECT * FROM penduduk ORDER BY nik DESC LIMIT 1").fetchone()
    no_kk = _biggest_family(db)
    desa = [r[0] for r in conn.execute("SELECT desa_kode FROM penduduk")]
    reps = [
        {"__typename": "Penduduk", "nik": row["nik"]},
        {"__typename": "Keluarga", "noKk": no_kk},
        {"__typename": "Wilayah", "kode": "18.71"},
        {"__typename": "Wilayah", "kode": "18"},
        {"__typename": "Penduduk", "nik": "1871010101019999"},
    ]
    result = subgraphs["kependudukan"].entities(
        "... on Penduduk { " + PENDUDUK_FIELDS + " } "
        "... on Keluarga { noKk anggota { nik } } "
        "... on Wilayah { kode nama jumlahPenduduk jumlahKeluarga }",
        reps,
    )
    families_1871 = conn.execute(
        "SELECT COUNT(*) FROM keluarga WHERE desa_kode LIKE '18.71.%'"
    ).fetchone()[0]
    assert result == [
        _expected_penduduk(row),
        {
            "noKk": no_kk,
            "anggota": [
                {"nik": r[0]}
                for r in conn.execute(
                    "SELECT nik FROM penduduk WHERE no_kk = ? ORDER BY urutan", [no_kk]
                )
            ],
        },
        {
            "kode": "18.71",
            "nama": "Kota Bandar Lampung",
            "jumlahPenduduk": sum(d.startswith("18.71.") for d in desa),
            "jumlahKeluarga": families_1871,
        },
        {
            "kode": "18",
            "nama": "Lampung",
            "jumlahPenduduk": len(desa),
            "jumlahKeluarga": conn.execute("SELECT COUNT(*) FROM keluarga").fetchone()[0],
        },
        None,
    ]
