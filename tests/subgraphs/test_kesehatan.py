"""Subgraph `kesehatan` over HTTP: facilities, JKN membership, immunisation, `@requires`."""

from __future__ import annotations

import sqlite3
from typing import Any

from .conftest import RunningSubgraph

JKN_FIELDS = (
    "nik kepesertaanJkn { nomorKartu segmen aktif faskesTingkatPertama { kode nama } } "
    "riwayatImunisasi { vaksin tanggal fasilitas { kode } }"
)


def _expected_health(conn: sqlite3.Connection, nik: str) -> dict[str, Any]:
    peserta = conn.execute("SELECT * FROM peserta WHERE nik = ?", [nik]).fetchone()
    kepesertaan = None
    if peserta:
        faskes = conn.execute(
            "SELECT kode, nama FROM fasilitas WHERE kode = ?", [peserta["faskes_kode"]]
        ).fetchone()
        kepesertaan = {
            "nomorKartu": peserta["nomor_kartu"],
            "segmen": peserta["segmen"],
            "aktif": bool(peserta["aktif"]),
            "faskesTingkatPertama": {"kode": faskes[0], "nama": faskes[1]},
        }
    doses = conn.execute(
        "SELECT vaksin, tanggal, faskes_kode FROM imunisasi WHERE nik = ? ORDER BY tanggal, rowid",
        [nik],
    ).fetchall()
    return {
        "nik": nik,
        "kepesertaanJkn": kepesertaan,
        "riwayatImunisasi": [
            {"vaksin": v, "tanggal": t, "fasilitas": {"kode": f}} for v, t, f in doses
        ],
    }


def test_fasilitas_kesehatan_by_kode(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    row = db["kesehatan"].execute("SELECT * FROM fasilitas WHERE jenis = 'RUMAH_SAKIT'").fetchone()
    data = subgraphs["kesehatan"].data(
        "query($k: String!) { fasilitasKesehatan(kode: $k) { kode nama jenis alamat "
        "wilayah { kode } } }",
        {"k": row["kode"]},
    )
    assert data["fasilitasKesehatan"] == {
        "kode": row["kode"],
        "nama": row["nama"],
        "jenis": "RUMAH_SAKIT",
        "alamat": row["alamat"],
        "wilayah": {"kode": row["desa_kode"]},
    }


def test_entities_extend_penduduk_with_health_records(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    conn = db["kesehatan"]
    vaccinated = conn.execute("SELECT nik FROM imunisasi ORDER BY nik LIMIT 1").fetchone()[0]
    member = conn.execute("SELECT nik FROM peserta WHERE segmen = 'PPU' LIMIT 1").fetchone()[0]
    members = {r[0] for r in conn.execute("SELECT nik FROM peserta")}
    outsider = next(
        r[0]
        for r in db["kependudukan"].execute("SELECT nik FROM penduduk ORDER BY nik")
        if r[0] not in members
    )
    niks = [vaccinated, member, outsider]
    result = subgraphs["kesehatan"].entities(
        "... on Penduduk { " + JKN_FIELDS + " }",
        [{"__typename": "Penduduk", "nik": n} for n in niks],
    )
    assert result == [_expected_health(conn, n) for n in niks]
    assert len(result[0]["riwayatImunisasi"]) >= 5
    assert result[2] == {"nik": outsider, "kepesertaanJkn": None, "riwayatImunisasi": []}


def test_cakupan_jkn_uses_the_required_population(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    active = [
        r[0] for r in db["kesehatan"].execute("SELECT desa_kode FROM peserta WHERE aktif = 1")
    ]
    active_1801 = sum(d.startswith("18.01.") for d in active)
    reps = [
        {"__typename": "Wilayah", "kode": "18.01", "jumlahPenduduk": 1125},
        {"__typename": "Wilayah", "kode": "18.01", "jumlahPenduduk": 2000},
        {"__typename": "Wilayah", "kode": "18", "jumlahPenduduk": 9145},
        {"__typename": "Wilayah", "kode": "18.01"},  # no population given: no coverage
    ]
    result = subgraphs["kesehatan"].entities(
        "... on Wilayah { kode cakupanJkn jumlahPesertaJkn }", reps
    )
    assert result == [
        {
            "kode": "18.01",
            "cakupanJkn": round(active_1801 / 1125, 4),
            "jumlahPesertaJkn": active_1801,
        },
        {
            "kode": "18.01",
            "cakupanJkn": round(active_1801 / 2000, 4),
            "jumlahPesertaJkn": active_1801,
        },
        {"kode": "18", "cakupanJkn": round(len(active) / 9145, 4), "jumlahPesertaJkn": len(active)},
        {"kode": "18.01", "cakupanJkn": None, "jumlahPesertaJkn": active_1801},
    ]


def test_entities_resolve_fasilitas_kesehatan_and_region_lists(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    rows = (
        db["kesehatan"]
        .execute("SELECT kode, nama FROM fasilitas WHERE desa_kode LIKE '18.72.%' ORDER BY kode")
        .fetchall()
    )
    result = subgraphs["kesehatan"].entities(
        "... on FasilitasKesehatan { kode nama } "
        "... on Wilayah { fasilitasKesehatan(first: 3) { totalCount nodes { kode } } }",
        [
            {"__typename": "FasilitasKesehatan", "kode": rows[0][0]},
            {"__typename": "FasilitasKesehatan", "kode": "P99999999"},
            {"__typename": "Wilayah", "kode": "18.72"},
        ],
    )
    assert result == [
        {"kode": rows[0][0], "nama": rows[0][1]},
        None,
        {
            "fasilitasKesehatan": {
                "totalCount": len(rows),
                "nodes": [{"kode": r[0]} for r in rows[:3]],
            }
        },
    ]


def test_daftar_fasilitas_kesehatan_filters_by_kind(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    expected = [
        r[0]
        for r in db["kesehatan"].execute(
            "SELECT kode FROM fasilitas WHERE jenis = 'PUSKESMAS' AND desa_kode LIKE '18.71.%' "
            "ORDER BY kode"
        )
    ]
    page = subgraphs["kesehatan"].data(
        '{ daftarFasilitasKesehatan(wilayahKode: "18.71", jenis: PUSKESMAS, first: 100) '
        "{ totalCount nodes { kode jenis } } }"
    )["daftarFasilitasKesehatan"]
    assert page == {
        "totalCount": len(expected),
        "nodes": [{"kode": k, "jenis": "PUSKESMAS"} for k in expected],
    }
