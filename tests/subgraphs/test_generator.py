"""The one generator: deterministic, consistent across OPDs, faithful to the real regions."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from subgraphs import SUBGRAPHS
from subgraphs.kit import ids
from subgraphs.kit.generator import (
    REFERENCE_DATE,
    STORES,
    ensure_world,
    generate,
    world_key,
)
from subgraphs.kit.reference import population, regions, regions_by_kode

from .conftest import TEST_SCALE


def _digest(directory: Path) -> dict[str, str]:
    """A hash of every table's rows, per store (file bytes may differ, rows must not)."""
    out = {}
    for name in STORES:
        conn = sqlite3.connect(directory / f"{name}.sqlite3")
        h = hashlib.sha256()
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in sorted(tables):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3"):
                h.update(repr(tuple(row)).encode())
        out[name] = h.hexdigest()
        conn.close()
    return out


def _umur(born: date) -> int:
    ref = REFERENCE_DATE
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def test_generate_same_seed_and_scale_gives_identical_rows(tmp_path: Path) -> None:
    generate(7, 0.0002, tmp_path / "a")
    generate(7, 0.0002, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_generate_other_seed_gives_other_residents(tmp_path: Path) -> None:
    generate(7, 0.0002, tmp_path / "a")
    generate(8, 0.0002, tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a["wilayah"] == b["wilayah"]  # real reference data, not random
    assert a["kependudukan"] != b["kependudukan"]


def test_ensure_world_reuses_the_cached_stores(tmp_path: Path) -> None:
    first = ensure_world(7, 0.0002, tmp_path)
    second = ensure_world(7, 0.0002, tmp_path)
    assert first.generated and not second.generated
    assert first.directory == second.directory == tmp_path / world_key(7, 0.0002)
    assert sorted(p.name for p in first.directory.iterdir()) == sorted(
        f"{n}.sqlite3" for n in SUBGRAPHS
    )


def test_ensure_world_rejects_a_scale_outside_zero_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        ensure_world(7, 0, tmp_path)


def test_wilayah_store_holds_the_real_regions(db: dict[str, sqlite3.Connection]) -> None:
    counts = dict(db["wilayah"].execute("SELECT tingkat, COUNT(*) FROM wilayah GROUP BY 1"))
    assert counts == {"provinsi": 1, "kabupaten_kota": 15, "kecamatan": 229, "desa_kelurahan": 2651}
    row = db["wilayah"].execute("SELECT * FROM wilayah WHERE kode = '18.71'").fetchone()
    assert tuple(row) == ("18.71", "Kota Bandar Lampung", "kabupaten_kota", 183.719, "18")


def test_residents_per_regency_follow_real_population(db: dict[str, sqlite3.Connection]) -> None:
    per_kab = Counter(
        r[0][:5] for r in db["kependudukan"].execute("SELECT desa_kode FROM penduduk")
    )
    expected = {
        r.kode: round(population()[r.kode].jumlah * TEST_SCALE)
        for r in regions()
        if r.tingkat == "kabupaten_kota"
    }
    assert per_kab == expected


def test_residents_live_in_real_desa(db: dict[str, sqlite3.Connection]) -> None:
    known = regions_by_kode()
    for (desa,) in db["kependudukan"].execute("SELECT DISTINCT desa_kode FROM penduduk"):
        assert known[desa].tingkat == "desa_kelurahan"


def test_every_nik_encodes_region_birth_date_and_sex(db: dict[str, sqlite3.Connection]) -> None:
    rows = db["kependudukan"].execute("SELECT * FROM penduduk").fetchall()
    assert len({r["nik"] for r in rows}) == len(rows)
    for r in rows:
        parts = ids.parse_nik(r["nik"], today=REFERENCE_DATE)
        assert parts.kecamatan_kode == r["desa_kode"][:8]
        assert parts.tanggal_lahir == date.fromisoformat(r["tanggal_lahir"])
        assert parts.perempuan == (r["jenis_kelamin"] == "PEREMPUAN")


def test_family_members_share_a_valid_no_kk(db: dict[str, sqlite3.Connection]) -> None:
    conn = db["kependudukan"]
    families = {r["no_kk"]: r for r in conn.execute("SELECT * FROM keluarga")}
    members: dict[str, list[sqlite3.Row]] = {}
    for r in conn.execute("SELECT * FROM penduduk"):
        members.setdefault(r["no_kk"], []).append(r)
    assert members.keys() == families.keys()
    for no_kk, fam in families.items():
        ids.validate_no_kk(no_kk)
        issued = date.fromisoformat(fam["tanggal_terbit"])
        assert no_kk[:6] == fam["desa_kode"][:8].replace(".", "")
        assert no_kk[6:12] == issued.strftime("%d%m%y")
        people = members[no_kk]
        assert {p["desa_kode"] for p in people} == {fam["desa_kode"]}
        assert [p["hubungan"] for p in people].count("KEPALA_KELUARGA") == 1
        assert fam["nik_kepala"] in {p["nik"] for p in people}
        assert issued >= max(date.fromisoformat(p["tanggal_lahir"]) for p in people)


def test_kesehatan_knows_only_real_residents(db: dict[str, sqlite3.Connection]) -> None:
    residents = {
        r[0]: r[1] for r in db["kependudukan"].execute("SELECT nik, desa_kode FROM penduduk")
    }
    peserta = db["kesehatan"].execute("SELECT * FROM peserta").fetchall()
    assert peserta
    faskes = {r[0] for r in db["kesehatan"].execute("SELECT kode FROM fasilitas")}
    for p in peserta:
        assert residents[p["nik"]] == p["desa_kode"]
        assert len(p["nomor_kartu"]) == 13 and p["nomor_kartu"].isdigit()
        assert p["faskes_kode"] in faskes
    for (nik,) in db["kesehatan"].execute("SELECT DISTINCT nik FROM imunisasi"):
        assert nik in residents


def test_pupils_are_residents_of_school_age(db: dict[str, sqlite3.Connection]) -> None:
    born = {
        r[0]: date.fromisoformat(r[1])
        for r in db["kependudukan"].execute("SELECT nik, tanggal_lahir FROM penduduk")
    }
    schools = {r[0]: r[1] for r in db["pendidikan"].execute("SELECT npsn, jenjang FROM sekolah")}
    siswa = db["pendidikan"].execute("SELECT * FROM siswa").fetchall()
    assert siswa
    for s in siswa:
        assert 7 <= _umur(born[s["nik"]]) <= 18
        assert s["nisn"][:3] == f"{born[s['nik']].year % 1000:03d}" and len(s["nisn"]) == 10
        jenjang = schools[s["npsn"]]
        assert jenjang == "SLB" or {"SD": range(1, 7), "SMP": range(7, 10)}.get(
            jenjang, range(10, 13)
        ).__contains__(s["kelas"])
    for npsn in schools:
        assert len(npsn) == 8 and npsn.isdigit()


def test_sosial_families_are_kependudukan_families(db: dict[str, sqlite3.Connection]) -> None:
    kk = {r[0]: r[1] for r in db["kependudukan"].execute("SELECT no_kk, desa_kode FROM keluarga")}
    sosial = {r[0]: r[1] for r in db["sosial"].execute("SELECT no_kk, desa_kode FROM keluarga")}
    assert sosial == kk
    for (no_kk,) in db["sosial"].execute("SELECT no_kk FROM penerima"):
        assert no_kk in kk


def test_pbi_jk_assistance_matches_the_pbi_jkn_segment(db: dict[str, sqlite3.Connection]) -> None:
    pbi_families = {
        r[0] for r in db["sosial"].execute("SELECT no_kk FROM penerima WHERE program = 'PBI_JK'")
    }
    no_kk_of = dict(db["kependudukan"].execute("SELECT nik, no_kk FROM penduduk").fetchall())
    for nik, segmen in db["kesehatan"].execute("SELECT nik, segmen FROM peserta"):
        assert (segmen == "PBI") == (no_kk_of[nik] in pbi_families)


def test_immunisations_follow_birth(db: dict[str, sqlite3.Connection]) -> None:
    born = dict(db["kependudukan"].execute("SELECT nik, tanggal_lahir FROM penduduk").fetchall())
    for nik, tanggal in db["kesehatan"].execute("SELECT nik, tanggal FROM imunisasi"):
        given = date.fromisoformat(tanggal)
        assert date.fromisoformat(born[nik]) <= given <= REFERENCE_DATE
        assert given - date.fromisoformat(born[nik]) < timedelta(days=560)
