"""Indonesian identifiers: how the generator builds them and how arguments are validated.

- NIK: 16 digits ``PPKKCC DDMMYY SSSS`` (kecamatan digits, birth date with 40 added to the day for
  women, a serial unique per region and date).
- No. KK: 16 digits ``PPKKCC DDMMYY SSSS`` (kecamatan digits, issue date, serial).
- NPSN: 8 digits (school). NISN: 10 digits, the first three are the last three of the birth year.
- JKN/BPJS Kesehatan card: 13 digits.
- Region code: ``18``, ``18.71``, ``18.71.01`` or ``18.71.01.1001`` (Kemendagri).
- Health facility code: ``P``/``K``/``R`` (puskesmas, klinik, rumah sakit) and 8 digits.

Each ``validate_*`` raises :class:`InvalidInput` with a specific ``reason`` code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .errors import InvalidInput

NIK_RE = re.compile(r"\d{16}")
REGION_RE = re.compile(r"18(\.\d{2}(\.\d{2}(\.\d{4})?)?)?")
NPSN_RE = re.compile(r"\d{8}")
NISN_RE = re.compile(r"\d{10}")
JKN_RE = re.compile(r"\d{13}")
FASKES_RE = re.compile(r"[PKR]\d{8}")


@dataclass(frozen=True, slots=True)
class NikParts:
    """What a NIK says about its holder."""

    kecamatan_digits: str
    tanggal_lahir: date
    perempuan: bool
    serial: int

    @property
    def kecamatan_kode(self) -> str:
        d = self.kecamatan_digits
        return f"{d[0:2]}.{d[2:4]}.{d[4:6]}"


def format_date6(d: date, *, add_to_day: int = 0) -> str:
    return f"{d.day + add_to_day:02d}{d.month:02d}{d.year % 100:02d}"


def make_nik(kecamatan_digits: str, tanggal_lahir: date, perempuan: bool, serial: int) -> str:
    """Build a NIK; `serial` must be unique for the region and the date part."""
    if not 1 <= serial <= 9999:
        raise ValueError(f"NIK serial out of range: {serial}")
    born = format_date6(tanggal_lahir, add_to_day=40 if perempuan else 0)
    return f"{kecamatan_digits}{born}{serial:04d}"


def make_no_kk(kecamatan_digits: str, tanggal_terbit: date, serial: int) -> str:
    if not 1 <= serial <= 9999:
        raise ValueError(f"No. KK serial out of range: {serial}")
    return f"{kecamatan_digits}{format_date6(tanggal_terbit)}{serial:04d}"


def _century(yy: int, *, not_after: date) -> int:
    year = 2000 + yy
    return year if year <= not_after.year else year - 100


def parse_nik(nik: str, *, today: date) -> NikParts:
    """Split a structurally valid NIK; raises :class:`InvalidInput` (reason ``INVALID_NIK``)."""
    if not isinstance(nik, str) or not NIK_RE.fullmatch(nik):
        raise InvalidInput(
            f"NIK must be exactly 16 digits (PPKKCC DDMMYY SSSS), got {_show(nik)}",
            reason="INVALID_NIK",
        )
    if nik[:2] != "18":
        raise InvalidInput(
            f"NIK {nik} is not from Lampung: it must start with province code 18",
            reason="INVALID_NIK",
        )
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    perempuan = day > 40
    if perempuan:
        day -= 40
    try:
        born = date(_century(yy, not_after=today), month, day)
    except ValueError:
        raise InvalidInput(
            f"NIK {nik} has no valid birth date in digits 7-12 (DDMMYY, day + 40 for women)",
            reason="INVALID_NIK",
        ) from None
    serial = int(nik[12:])
    if serial == 0:
        raise InvalidInput(f"NIK {nik} has serial 0000", reason="INVALID_NIK")
    return NikParts(nik[:6], born, perempuan, serial)


def validate_nik(nik: str, *, today: date) -> str:
    """`nik` if it is valid on `today`, else :class:`InvalidInput`. Valid ones are remembered
    (the gateway sends the same residents again and again: a case's members to two subgraphs)."""
    if not isinstance(nik, str):
        parse_nik(nik, today=today)  # raises
    return _valid_nik(nik, today)


@lru_cache(maxsize=65_536)
def _valid_nik(nik: str, today: date) -> str:
    parse_nik(nik, today=today)  # an invalid NIK raises, and exceptions are not cached
    return nik


def validate_no_kk(no_kk: str) -> str:
    if not isinstance(no_kk, str) or not NIK_RE.fullmatch(no_kk) or no_kk[:2] != "18":
        raise InvalidInput(
            f"No. KK must be 16 digits starting with province code 18, got {_show(no_kk)}",
            reason="INVALID_NO_KK",
        )
    day, month = int(no_kk[6:8]), int(no_kk[8:10])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise InvalidInput(
            f"No. KK {no_kk} has no valid issue date in digits 7-12 (DDMMYY)",
            reason="INVALID_NO_KK",
        )
    return no_kk


def validate_region_code(kode: str) -> str:
    if not isinstance(kode, str) or not REGION_RE.fullmatch(kode):
        raise InvalidInput(
            "Region code must be a Kemendagri code of Lampung: 18, 18.71, 18.71.01 or "
            f"18.71.01.1001, got {_show(kode)}",
            reason="INVALID_REGION_CODE",
        )
    return kode


def validate_npsn(npsn: str) -> str:
    if not isinstance(npsn, str) or not NPSN_RE.fullmatch(npsn):
        raise InvalidInput(
            f"NPSN must be exactly 8 digits, got {_show(npsn)}", reason="INVALID_NPSN"
        )
    return npsn


def validate_faskes_code(kode: str) -> str:
    if not isinstance(kode, str) or not FASKES_RE.fullmatch(kode):
        raise InvalidInput(
            "Health facility code must be P, K or R (puskesmas, klinik, rumah sakit) followed by "
            f"8 digits, got {_show(kode)}",
            reason="INVALID_FASKES_CODE",
        )
    return kode


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
