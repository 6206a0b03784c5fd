"""The real reference data every subgraph shares: Lampung's regions and population.

Codes, names and population come from Kepmendagri No 300.2.2-2138 Tahun 2025 via the
`cahyadsn/wilayah` dataset (MIT License, Copyright (c) 2017-2025 Cahya DSN); see
`subgraphs/kit/data/README.md`. Areas (km²) of the province and its regencies/cities are the ones
listed in the project's domain notes; kecamatan and desa areas are not published here (``None``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

PROVINSI = "provinsi"
KABUPATEN_KOTA = "kabupaten_kota"
KECAMATAN = "kecamatan"
DESA_KELURAHAN = "desa_kelurahan"
TINGKAT = (PROVINSI, KABUPATEN_KOTA, KECAMATAN, DESA_KELURAHAN)

#: km², province and regencies/cities (domain notes).
LUAS: dict[str, float] = {
    "18": 33570.758,
    "18.01": 2227.357,
    "18.02": 4559.57,
    "18.03": 2669.304,
    "18.04": 2110.101,
    "18.05": 3118.613,
    "18.06": 2947.187,
    "18.07": 3860.546,
    "18.08": 3522.114,
    "18.09": 1286.843,
    "18.10": 617.192,
    "18.11": 2200.414,
    "18.12": 1257.088,
    "18.13": 2937.496,
    "18.71": 183.719,
    "18.72": 73.214,
}


@dataclass(frozen=True, slots=True)
class Region:
    """One Kemendagri region: `18`, `18.71`, `18.71.01` or `18.71.01.1001`."""

    kode: str
    nama: str
    tingkat: str
    luas: float | None

    @property
    def parent_kode(self) -> str | None:
        return self.kode.rsplit(".", 1)[0] if "." in self.kode else None

    @property
    def digits(self) -> str:
        """The code without dots, as it opens a NIK (`187101` for `18.71.01`)."""
        return self.kode.replace(".", "")


@dataclass(frozen=True, slots=True)
class Population:
    """Registered population of one regency/city (or the province) by sex."""

    kode: str
    laki_laki: int
    perempuan: int

    @property
    def jumlah(self) -> int:
        return self.laki_laki + self.perempuan


@cache
def regions() -> tuple[Region, ...]:
    """All regions of the province in file order (parents before children)."""
    with (DATA_DIR / "wilayah-lampung.csv").open(encoding="utf-8", newline="") as f:
        return tuple(
            Region(row["kode"], row["nama"], row["tingkat"], LUAS.get(row["kode"]))
            for row in csv.DictReader(f)
        )


@cache
def regions_by_kode() -> dict[str, Region]:
    return {r.kode: r for r in regions()}


@cache
def population() -> dict[str, Population]:
    """Population per code (`18` and the 15 regencies/cities)."""
    with (DATA_DIR / "penduduk-lampung.csv").open(encoding="utf-8", newline="") as f:
        return {
            row["kode"]: Population(row["kode"], int(row["laki_laki"]), int(row["perempuan"]))
            for row in csv.DictReader(f)
        }


def ancestors_and_self(kode: str) -> list[str]:
    """`18.71.01.1001` -> [`18`, `18.71`, `18.71.01`, `18.71.01.1001`]."""
    parts = kode.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def short_name(nama: str) -> str:
    """`Kabupaten Lampung Selatan` -> `Lampung Selatan`, `Kota Metro` -> `Metro`."""
    for prefix in ("Kabupaten ", "Kota "):
        if nama.startswith(prefix):
            return nama[len(prefix) :]
    return nama
