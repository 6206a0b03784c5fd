"""Subgraph `pendidikan` over HTTP: schools, pupils, school counts per region."""

from __future__ import annotations

import sqlite3

from .conftest import RunningSubgraph


def test_sekolah_by_npsn_with_its_pupils(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    conn = db["pendidikan"]
    school = conn.execute(
        "SELECT * FROM sekolah WHERE jenjang = 'SD' ORDER BY npsn LIMIT 1"
    ).fetchone()
    pupils = conn.execute(
        "SELECT nik, nisn, kelas FROM siswa WHERE npsn = ? ORDER BY nik", [school["npsn"]]
    ).fetchall()
    data = subgraphs["pendidikan"].data(
        "query($n: String!) { sekolah(npsn: $n) { npsn nama jenjang status alamat "
        "wilayah { kode } siswa(first: 5) { totalCount nodes { nisn kelas penduduk { nik } "
        "sekolah { npsn } } } } }",
        {"n": school["npsn"]},
    )
    assert data["sekolah"] == {
        "npsn": school["npsn"],
        "nama": school["nama"],
        "jenjang": "SD",
        "status": school["status"],
        "alamat": school["alamat"],
        "wilayah": {"kode": school["desa_kode"]},
        "siswa": {
            "totalCount": len(pupils),
            "nodes": [
                {"nisn": p[1], "kelas": p[2], "penduduk": {"nik": p[0]},
                 "sekolah": {"npsn": school["npsn"]}}
                for p in pupils[:5]
            ],
        },
    }  # fmt: skip
    assert pupils


def test_entities_resolve_sekolah_pupil_records_and_counts(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    conn = db["pendidikan"]
    pupil = conn.execute("SELECT * FROM siswa ORDER BY nik LIMIT 1").fetchone()
    pupils = {r[0] for r in conn.execute("SELECT nik FROM siswa")}
    adult = next(
        r[0]
        for r in db["kependudukan"].execute("SELECT nik FROM penduduk ORDER BY nik")
        if r[0] not in pupils
    )
    schools = conn.execute("SELECT desa_kode, jenjang FROM sekolah").fetchall()
    n_1871 = sum(d.startswith("18.71.") for d, _ in schools)
    n_sd_1871 = sum(d.startswith("18.71.") and j == "SD" for d, j in schools)
    result = subgraphs["pendidikan"].entities(
        "... on Penduduk { nik pendidikan { nisn kelas sekolah { npsn } } } "
        "... on Sekolah { npsn jenjang } "
        "... on Wilayah { kode jumlahSekolah sd: jumlahSekolah(jenjang: SD) "
        "sekolah(jenjang: SMA) { totalCount } }",
        [
            {"__typename": "Penduduk", "nik": pupil["nik"]},
            {"__typename": "Penduduk", "nik": adult},
            {"__typename": "Sekolah", "npsn": pupil["npsn"]},
            {"__typename": "Sekolah", "npsn": "99999999"},
            {"__typename": "Wilayah", "kode": "18.71"},
            {"__typename": "Wilayah", "kode": "18"},
        ],
    )
    jenjang = conn.execute("SELECT jenjang FROM sekolah WHERE npsn = ?", [pupil["npsn"]]).fetchone()
    sma_1871 = sum(d.startswith("18.71.") and j == "SMA" for d, j in schools)
    assert result == [
        {
            "nik": pupil["nik"],
            "pendidikan": {
                "nisn": pupil["nisn"],
                "kelas": pupil["kelas"],
                "sekolah": {"npsn": pupil["npsn"]},
            },
        },
        {"nik": adult, "pendidikan": None},
        {"npsn": pupil["npsn"], "jenjang": jenjang[0]},
        None,
        {
            "kode": "18.71",
            "jumlahSekolah": n_1871,
            "sd": n_sd_1871,
            "sekolah": {"totalCount": sma_1871},
        },
        {
            "kode": "18",
            "jumlahSekolah": len(schools),
            "sd": sum(j == "SD" for _, j in schools),
            "sekolah": {"totalCount": sum(j == "SMA" for _, j in schools)},
        },
    ]
