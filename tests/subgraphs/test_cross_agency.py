"""The two cross-agency questions, answered by hopping between the subgraphs as a gateway would.

There is no gateway yet: these tests play its query plan by hand (root fetch, then `_entities`
fetches carrying keys and `@requires` fields), to prove the subgraphs compose into answers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from .conftest import RunningSubgraph


def test_per_regency_population_jkn_schools_and_assisted_families(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    kab = subgraphs["wilayah"].data("{ kabupatenKota { __typename kode nama } }")["kabupatenKota"]
    reps = [{"__typename": "Wilayah", "kode": k["kode"]} for k in kab]
    pop = subgraphs["kependudukan"].entities("... on Wilayah { jumlahPenduduk }", reps)
    # @requires: the gateway passes kependudukan's population in kesehatan's representations
    with_pop = [
        {**r, "jumlahPenduduk": p["jumlahPenduduk"]} for r, p in zip(reps, pop, strict=True)
    ]
    jkn = subgraphs["kesehatan"].entities("... on Wilayah { cakupanJkn }", with_pop)
    schools = subgraphs["pendidikan"].entities("... on Wilayah { jumlahSekolah }", reps)
    helped = subgraphs["sosial"].entities("... on Wilayah { jumlahKeluargaPenerima }", reps)
    rows = [
        {"kode": k["kode"], "nama": k["nama"], **p, **j, **s, **h}
        for k, p, j, s, h in zip(kab, pop, jkn, schools, helped, strict=True)
    ]

    residents = Counter(
        r[0][:5] for r in db["kependudukan"].execute("SELECT desa_kode FROM penduduk")
    )
    active = Counter(
        r[0][:5] for r in db["kesehatan"].execute("SELECT desa_kode FROM peserta WHERE aktif = 1")
    )
    n_schools = Counter(r[0][:5] for r in db["pendidikan"].execute("SELECT desa_kode FROM sekolah"))
    assisted = Counter(
        r[0][:5]
        for r in db["sosial"].execute(
            "SELECT desa_kode FROM keluarga WHERE no_kk IN "
            "(SELECT no_kk FROM penerima WHERE aktif = 1)"
        )
    )
    names = dict(
        db["wilayah"]
        .execute("SELECT kode, nama FROM wilayah WHERE tingkat = 'kabupaten_kota'")
        .fetchall()
    )
    assert rows == [
        {
            "kode": kode,
            "nama": names[kode],
            "jumlahPenduduk": residents[kode],
            "cakupanJkn": round(active[kode] / residents[kode], 4),
            "jumlahSekolah": n_schools[kode],
            "jumlahKeluargaPenerima": assisted[kode],
        }
        for kode in sorted(names)
    ]
    assert all(0.5 < r["cakupanJkn"] <= 1 for r in rows)


def test_one_resident_their_family_schools_jkn_and_assistance(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    # a family with a pupil, a JKN member and assistance: the interesting case
    pupils = {r[0] for r in db["pendidikan"].execute("SELECT nik FROM siswa")}
    members = {r[0] for r in db["kesehatan"].execute("SELECT nik FROM peserta")}
    assisted = {r[0] for r in db["sosial"].execute("SELECT no_kk FROM penerima")}
    nik, no_kk = next(
        (nik, kk)
        for nik, kk in db["kependudukan"].execute("SELECT nik, no_kk FROM penduduk ORDER BY nik")
        if kk in assisted
        and any(
            m in pupils and m in members
            for (m,) in db["kependudukan"].execute("SELECT nik FROM penduduk WHERE no_kk = ?", [kk])
        )
    )

    person = subgraphs["kependudukan"].data(
        "query($nik: String!) { penduduk(nik: $nik) { nik nama keluarga { __typename noKk "
        "anggota { __typename nik nama } } } }",
        {"nik": nik},
    )["penduduk"]
    family = person["keluarga"]
    member_reps = [{"__typename": "Penduduk", "nik": m["nik"]} for m in family["anggota"]]
    schooling = subgraphs["pendidikan"].entities(
        "... on Penduduk { pendidikan { kelas sekolah { npsn nama } } }", member_reps
    )
    health = subgraphs["kesehatan"].entities(
        "... on Penduduk { kepesertaanJkn { segmen aktif } }", member_reps
    )
    [assistance] = subgraphs["sosial"].entities(
        "... on Keluarga { desilKesejahteraan penerimaBansos { program { kode } aktif } }",
        [{"__typename": "Keluarga", "noKk": family["noKk"]}],
    )

    k = db["kependudukan"]
    expected_members = k.execute(
        "SELECT nik, nama FROM penduduk WHERE no_kk = ? ORDER BY urutan", [no_kk]
    ).fetchall()
    assert (
        person["nama"] == k.execute("SELECT nama FROM penduduk WHERE nik = ?", [nik]).fetchone()[0]
    )
    assert family["noKk"] == no_kk
    assert [(m["nik"], m["nama"]) for m in family["anggota"]] == [
        tuple(r) for r in expected_members
    ]
    for (m_nik, _), school, jkn in zip(expected_members, schooling, health, strict=True):
        siswa = (
            db["pendidikan"]
            .execute(
                "SELECT s.kelas, k.npsn, k.nama FROM siswa s JOIN sekolah k USING (npsn) "
                "WHERE s.nik = ?",
                [m_nik],
            )
            .fetchone()
        )
        assert school["pendidikan"] == (
            {"kelas": siswa[0], "sekolah": {"npsn": siswa[1], "nama": siswa[2]}} if siswa else None
        )
        peserta = (
            db["kesehatan"]
            .execute("SELECT segmen, aktif FROM peserta WHERE nik = ?", [m_nik])
            .fetchone()
        )
        assert jkn["kepesertaanJkn"] == (
            {"segmen": peserta[0], "aktif": bool(peserta[1])} if peserta else None
        )
    programs = (
        db["sosial"]
        .execute(
            "SELECT program, aktif FROM penerima WHERE no_kk = ? ORDER BY tahun, program", [no_kk]
        )
        .fetchall()
    )
    assert assistance == {
        "desilKesejahteraan": db["sosial"]
        .execute("SELECT desil FROM keluarga WHERE no_kk = ?", [no_kk])
        .fetchone()[0],
        "penerimaBansos": [{"program": {"kode": p}, "aktif": bool(a)} for p, a in programs],
    }
    assert any(s["pendidikan"] for s in schooling) and any(h["kepesertaanJkn"] for h in health)
