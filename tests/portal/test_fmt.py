from datetime import UTC, date, datetime

import pytest

from gateway.portal import fmt


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1101376, 0, "1.101.376"),
        (0, 0, "0"),
        (999, 0, "999"),
        (1000, 0, "1.000"),
        (1234.56, 1, "1.234,6"),
        (-2500, 0, "-2.500"),
        (None, 0, "tidak tersedia"),
    ],
)
def test_angka_groups_thousands_with_dots(
    value: float | None, decimals: int, expected: str
) -> None:
    assert fmt.angka(value, decimals) == expected


def test_persen_uses_a_decimal_comma() -> None:
    assert fmt.persen(87.44) == "87,4%"
    assert fmt.persen(100) == "100,0%"
    assert fmt.rasio_persen(874, 1000) == "87,4%"
    assert fmt.rasio_persen(5, 0) == "tidak tersedia"
    assert fmt.rasio_persen(None, 10) == "tidak tersedia"


def test_tanggal_names_the_month_in_indonesian() -> None:
    assert fmt.tanggal(date(2026, 12, 1)) == "1 Desember 2026"
    assert fmt.tanggal("2026-08-17T10:00:00Z") == "17 Agustus 2026"
    assert fmt.tanggal(None) == "tidak tersedia"
    assert fmt.waktu(datetime(2026, 1, 5, 9, 7, tzinfo=UTC)) == "5 Januari 2026 09.07"
