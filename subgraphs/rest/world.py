"""The data of the five REST OPDs, derived from the kit's generated world so that they agree
with the five GraphQL OPDs: the same residents (NIK, name, desa, occupation) and region codes.

Each OPD draws from its own ``random.Random(f"{seed}:{opd}")`` over the residents in NIK order,
so the same seed and scale always give the same vehicles, civil servants, farmers, permits and
disaster events. Civil servants are residents whose occupation is PNS or teacher; farmers are
the ``Petani/Pekebun``; vehicle and business owners are adults.
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from subgraphs.kit.generator import REFERENCE_DATE
from subgraphs.kit.reference import DESA_KELURAHAN, KABUPATEN_KOTA, KECAMATAN, regions

#: (code, name) of the provincial OPDs civil servants work for (BKD's reference table).
OPD = (
    ("1.01", "Dinas Pendidikan dan Kebudayaan"),
    ("1.02", "Dinas Kesehatan"),
    ("1.03", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("1.06", "Dinas Sosial"),
    ("2.09", "Dinas Tanaman Pangan dan Hortikultura"),
    ("2.18", "Dinas Penanaman Modal dan PTSP"),
    ("4.01", "Badan Kepegawaian Daerah"),
    ("4.02", "Badan Pendapatan Daerah"),
    ("4.05", "Badan Penanggulangan Bencana Daerah"),
)
MEREK = {
    "RODA_DUA": ("Honda", "Yamaha", "Suzuki", "Kawasaki"),
    "RODA_EMPAT": ("Toyota", "Daihatsu", "Mitsubishi", "Suzuki", "Honda"),
}
PLATE_AREA = {  # the letters after "BE" hint at the regency in Lampung's plates (simplified)
    "18.71": "A", "18.72": "B", "18.01": "C", "18.02": "D", "18.03": "E", "18.04": "F",
    "18.05": "G", "18.06": "H", "18.07": "J", "18.08": "K", "18.09": "L", "18.10": "M",
    "18.11": "N", "18.12": "P", "18.13": "R",
}  # fmt: skip
GOLONGAN = ("II/a", "II/c", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b")
JABATAN = ("Pelaksana", "Analis", "Pranata Komputer", "Penyuluh", "Kepala Seksi", "Kepala Bidang")
KBLI = (
    ("47111", "Perdagangan eceran berbagai macam barang di minimarket"),
    ("56101", "Restoran"),
    ("10794", "Industri kerupuk, keripik, peyek"),
    ("01132", "Pertanian hortikultura sayuran"),
    ("49421", "Angkutan ojek motor"),
    ("96012", "Binatu"),
)
SKALA = (("MIKRO", 70), ("KECIL", 20), ("MENENGAH", 8), ("BESAR", 2))
BENCANA = (("BANJIR", 40), ("TANAH_LONGSOR", 15), ("PUTING_BELIUNG", 20), ("KEBAKARAN_HUTAN", 10),
           ("GEMPA_BUMI", 5), ("KEKERINGAN", 10))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Resident:
    nik: str
    nama: str
    perempuan: bool
    tanggal_lahir: date
    pekerjaan: str
    desa_kode: str

    @property
    def kab_kode(self) -> str:
        return self.desa_kode[:5]

    @property
    def kec_kode(self) -> str:
        return self.desa_kode[:8]

    @property
    def umur(self) -> int:
        born, ref = self.tanggal_lahir, REFERENCE_DATE
        return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


@dataclass
class RestWorld:
    """Everything the five REST OPDs serve, built lazily per OPD."""

    residents: list[Resident]
    seed: int
    by_nik: dict[str, Resident] = field(init=False)

    def __post_init__(self) -> None:
        self.residents.sort(key=lambda r: r.nik)
        self.by_nik = {r.nik: r for r in self.residents}

    @classmethod
    def load(cls, directory: Path, seed: int) -> RestWorld:
        conn = sqlite3.connect(directory / "kependudukan.sqlite3")
        try:
            rows = conn.execute(
                "SELECT nik, nama, jenis_kelamin, tanggal_lahir, pekerjaan, desa_kode FROM penduduk"
            ).fetchall()
        finally:
            conn.close()
        residents = [
            Resident(nik, nama, jk == "PEREMPUAN", date.fromisoformat(lahir), pekerjaan, desa)
            for nik, nama, jk, lahir, pekerjaan, desa in rows
        ]
        return cls(residents, seed)

    def rng(self, opd: str) -> random.Random:
        return random.Random(f"{self.seed}:{opd}")

    # ------------------------------------------------------------ Bapenda (e-Samsat)

    @cached_property
    def kendaraan(self) -> list[dict[str, Any]]:
        rng = self.rng("bapenda")
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for r in self.residents:
            if r.umur < 17 or rng.random() > 0.35:
                continue
            for _ in range(rng.choice((1, 1, 1, 2))):
                jenis = "RODA_DUA" if rng.random() < 0.8 else "RODA_EMPAT"
                nopol = ""
                while not nopol or nopol in seen:  # plates are unique
                    area = PLATE_AREA.get(r.kab_kode, "Z")
                    nopol = f"BE {rng.randint(1000, 9999)} {area}{chr(65 + rng.randrange(26))}"
                seen.add(nopol)
                tahun = rng.randint(2008, 2025)
                pkb = (
                    rng.randint(15, 40) if jenis == "RODA_DUA" else rng.randint(150, 600)
                ) * 10_000
                jatuh_tempo = date(2025, rng.randint(1, 12), rng.randint(1, 28))
                lunas = jatuh_tempo > REFERENCE_DATE or rng.random() < 0.7
                out.append({
                    "nopol": nopol, "jenis_kendaraan": jenis, "merek": rng.choice(MEREK[jenis]),
                    "tahun_buat": tahun, "nik_pemilik": r.nik, "kode_wilayah": r.kab_kode,
                    "pajak": {"pkb": pkb, "jatuh_tempo": jatuh_tempo.isoformat(),
                              "status_bayar": "L" if lunas else "B"},
                })  # fmt: skip
        return out

    # ------------------------------------------------------------ BKD (civil servants)

    @cached_property
    def pegawai(self) -> list[dict[str, Any]]:
        rng = self.rng("bkd")
        out: list[dict[str, Any]] = []
        for r in self.residents:
            if r.pekerjaan not in ("Pegawai Negeri Sipil", "Guru") or not 20 <= r.umur <= 58:
                continue
            if r.pekerjaan == "Guru" and rng.random() < 0.5:
                continue  # honorary teachers are not civil servants
            tmt = r.tanggal_lahir + timedelta(days=365 * rng.randint(22, 30))
            tmt = min(tmt, REFERENCE_DATE)
            serial = len(out) % 1000
            nip = f"{r.tanggal_lahir:%Y%m%d}{tmt:%Y%m}{2 if r.perempuan else 1}{serial:03d}"
            opd = OPD[0] if r.pekerjaan == "Guru" else rng.choice(OPD)
            out.append({
                "nip": nip, "nik": r.nik, "namaLengkap": r.nama,
                "golongan": rng.choice(GOLONGAN), "jabatan": rng.choice(JABATAN),
                "tmtCpns": tmt.isoformat(), "kodeOpd": opd[0], "namaOpd": opd[1],
                "kodeWilayahKerja": r.kab_kode,
            })  # fmt: skip
        return out

    # ------------------------------------------------------------ Dinas Tanaman Pangan

    @cached_property
    def petani(self) -> list[dict[str, Any]]:
        rng = self.rng("tanaman_pangan")
        out = []
        for r in self.residents:
            if r.pekerjaan != "Petani/Pekebun":
                continue
            padi = round(rng.uniform(0.2, 2.0), 2) if rng.random() < 0.7 else 0.0
            jagung = round(rng.uniform(0.1, 1.5), 2) if rng.random() < 0.4 else 0.0
            out.append({
                "nik": r.nik, "nama": r.nama, "kode_desa": r.desa_kode,
                "kelompok_tani": f"Poktan Sri Rejeki {int(r.desa_kode[-4:]) % 7 + 1}",
                "luas_tanam_padi_ha": padi, "luas_tanam_jagung_ha": jagung,
            })  # fmt: skip
        return out

    @cached_property
    def petani_by_desa(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p in self.petani:
            grouped[p["kode_desa"]].append(p)
        return grouped

    # ------------------------------------------------------------ DPMPTSP (permits, OSS)

    @cached_property
    def izin(self) -> list[dict[str, Any]]:
        rng = self.rng("dpmptsp")
        out: list[dict[str, Any]] = []
        for r in self.residents:
            if r.umur < 18 or r.pekerjaan not in ("Wiraswasta", "Pedagang") or rng.random() > 0.6:
                continue
            kbli, uraian = rng.choice(KBLI)
            nib = f"{9120000000000 + len(out) * 7919 % 10**12:013d}"
            terbit = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1600))
            out.append({
                "nib": nib, "nama_usaha": f"{uraian.split()[0]} {r.nama.split()[0]}",
                "kbli": kbli, "uraian_kbli": uraian, "skala_usaha": _weighted(rng, SKALA),
                "nik_pemilik": r.nik, "kode_kecamatan": r.kec_kode,
                "tanggal_terbit": min(terbit, REFERENCE_DATE).isoformat(),
            })  # fmt: skip
        return out

    # ------------------------------------------------------------ BPBD (disaster events)

    @cached_property
    def kejadian(self) -> list[dict[str, Any]]:
        rng = self.rng("bpbd")
        out = []
        kecamatan = [r for r in regions() if r.tingkat == KECAMATAN]
        for kec in kecamatan:
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                tanggal = date(2024, 1, 1) + timedelta(days=rng.randint(0, 546))
                out.append({
                    "id": f"BPBD-{tanggal:%Y%m}-{len(out) + 1:04d}",
                    "jenis": _weighted(rng, BENCANA), "tanggal": tanggal.isoformat(),
                    "kode_kecamatan": kec.kode, "nama_kecamatan": kec.nama,
                    "korban_jiwa": rng.choice((0, 0, 0, 0, 1, 2)),
                    "rumah_rusak": rng.randint(0, 40), "pengungsi": rng.randint(0, 300),
                })  # fmt: skip
        return out


def region_codes() -> dict[str, set[str]]:
    """Level -> the region codes of that level (for validating request parameters)."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in regions():
        out[r.tingkat].add(r.kode)
    return out


LEVELS = (KABUPATEN_KOTA, KECAMATAN, DESA_KELURAHAN)
