"""Indonesian formatting of numbers, percentages and dates: the one place the portal does it.

``1.101.376`` (dot groups thousands), ``87,4%`` (comma is the decimal mark), ``1 Desember 2026``.
Registered as Jinja filters by ``gateway.portal.layout``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
#: what a figure that could not be fetched shows as
TIDAK_TERSEDIA = "tidak tersedia"


def angka(value: float | int | None, decimals: int = 0) -> str:
    """``1101376`` -> ``1.101.376``; ``1234.5, 1`` -> ``1.234,5``; None -> ``tidak tersedia``."""
    if value is None:
        return TIDAK_TERSEDIA
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def persen(value: float | None, decimals: int = 1) -> str:
    """A ratio in percent: ``87.44`` -> ``87,4%`` (the value is already in percent)."""
    if value is None:
        return TIDAK_TERSEDIA
    return f"{angka(value, decimals)}%"


def rasio_persen(part: float | None, whole: float | None, decimals: int = 1) -> str:
    """``part`` of ``whole`` in percent; unavailable when either is missing or ``whole`` is 0."""
    if part is None or not whole:
        return TIDAK_TERSEDIA
    return persen(100.0 * part / whole, decimals)


def tanggal(value: date | datetime | str | None) -> str:
    """``2026-12-01`` -> ``1 Desember 2026`` (ISO strings accepted, a trailing ``Z`` too)."""
    if value is None or value == "":
        return TIDAK_TERSEDIA
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"


def tanggal_epoch(value: float | None) -> str:
    """A Unix time (the registry's ``published_at``) as a date in UTC."""
    return TIDAK_TERSEDIA if value is None else tanggal(datetime.fromtimestamp(value, UTC))


def waktu(value: datetime | str | None) -> str:
    """``1 Desember 2026 14.05`` (Indonesian style uses a dot between hours and minutes)."""
    if value is None or value == "":
        return TIDAK_TERSEDIA
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{tanggal(value)} {value.hour:02d}.{value.minute:02d}"
