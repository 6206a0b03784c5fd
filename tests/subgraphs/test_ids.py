"""Identifier formats: what the generator builds parses back; malformed ones are refused."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subgraphs.kit import ids
from subgraphs.kit.errors import InvalidInput

TODAY = date(2025, 7, 1)


@given(
    kecamatan=st.sampled_from(["180104", "187101", "181305"]),
    born=st.dates(min_value=date(1930, 1, 1), max_value=TODAY),
    perempuan=st.booleans(),
    serial=st.integers(1, 9999),
)
def test_make_nik_round_trips_through_parse_nik(
    kecamatan: str, born: date, perempuan: bool, serial: int
) -> None:
    nik = ids.make_nik(kecamatan, born, perempuan, serial)
    assert len(nik) == 16 and nik.isdigit()
    assert ids.parse_nik(nik, today=TODAY) == ids.NikParts(kecamatan, born, perempuan, serial)


def test_nik_of_a_woman_adds_40_to_the_day() -> None:
    assert ids.make_nik("187101", date(1990, 3, 5), True, 12) == "1871014503900012"
    assert ids.make_nik("187101", date(1990, 3, 5), False, 12) == "1871010503900012"


@pytest.mark.parametrize(
    ("nik", "fragment"),
    [
        ("187101050390001", "exactly 16 digits"),
        ("18710105039000123", "exactly 16 digits"),
        ("18710105039O0012", "exactly 16 digits"),
        ("3171010503900012", "not from Lampung"),
        ("1871013203900012", "birth date"),  # day 32
        ("1871017203900012", "birth date"),  # day 72 = 32 + 40
        ("1871010513900012", "birth date"),  # month 13
        ("1871010503900000", "serial 0000"),
    ],
)
def test_parse_nik_rejects_malformed(nik: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment) as info:
        ids.parse_nik(nik, today=TODAY)
    assert info.value.extensions == {"code": "BAD_USER_INPUT", "reason": "INVALID_NIK"}


def test_no_kk_encodes_region_and_issue_date() -> None:
    assert ids.make_no_kk("187101", date(2019, 9, 17), 3) == "1871011709190003"
    assert ids.validate_no_kk("1871011709190003") == "1871011709190003"


@pytest.mark.parametrize("no_kk", ["187101170919000", "3171011709190003", "1871013209190003"])
def test_validate_no_kk_rejects_malformed(no_kk: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ids.validate_no_kk(no_kk)
    assert info.value.extensions["reason"] == "INVALID_NO_KK"


@pytest.mark.parametrize("kode", ["18", "18.71", "18.71.01", "18.71.01.1001"])
def test_validate_region_code_accepts_every_level(kode: str) -> None:
    assert ids.validate_region_code(kode) == kode


@pytest.mark.parametrize("kode", ["", "1871", "18.7", "18.71.1", "17.71", "18.71.01.100", "18."])
def test_validate_region_code_rejects_malformed(kode: str) -> None:
    with pytest.raises(InvalidInput) as info:
        ids.validate_region_code(kode)
    assert info.value.extensions["reason"] == "INVALID_REGION_CODE"


def test_other_identifier_formats() -> None:
    assert ids.validate_npsn("10800001") == "10800001"
    assert ids.validate_faskes_code("P18710101") == "P18710101"
    for bad in ("1080000", "1080000a"):
        with pytest.raises(InvalidInput, match="NPSN"):
            ids.validate_npsn(bad)
    for bad in ("X18710101", "P1871010"):
        with pytest.raises(InvalidInput, match="facility"):
            ids.validate_faskes_code(bad)
