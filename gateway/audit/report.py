"""The DPO's view of the audit log: a resident's access report, and access statistics.

A data subject may ask who read their data (UU 27/2022); the controller answers within 3x24
hours, so the report states when it was produced and by when the answer is due. The report is
searched by NIK or No. KK through the subject index (records of data returned, identifiers
released in cursors or keys, and refused lookups) and never prints the identifier's hash chain
or other residents. CSV for spreadsheets; PDF (fpdf2: pure Python, no system libraries, writes a
self-contained file with core fonts, smaller than reportlab for a one-table document).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.audit.log import AuditLog
from gateway.audit.records import AuditEvent, AuditRecord
from gateway.errors import GatewayError

#: UU 27/2022: a data subject's request is answered within 3x24 hours
ANSWER_WITHIN = timedelta(hours=72)
DECISION = "access_decision"


class AuditSearchError(GatewayError):
    """A search the DPO page or CLI cannot run (the identifier is malformed)."""

    code = "AUDIT_SEARCH_INVALID"


def how(event: AuditEvent, hashed: str) -> str:
    """How a record concerns the subject: data returned, identifier released, refused lookup."""
    ways = []
    if hashed in event.subjects:
        ways.append("data returned")
    if hashed in event.released:
        ways.append("identifier released in a cursor or key")
    if hashed in event.refused_lookups:
        ways.append("refused lookup")
    return ", ".join(ways)


@dataclass(frozen=True, slots=True)
class AccessRow:
    seq: int
    time: str
    application: str
    opd: str
    user: str
    purpose: str
    operation: str
    fields: tuple[str, ...]
    refused: tuple[str, ...]
    outcome: str
    how: str

    @property
    def was_refused(self) -> bool:
        return self.outcome != "ok" or bool(self.refused) or "refused" in self.how


@dataclass(frozen=True, slots=True)
class ResidentReport:
    kind: str  # "NIK" or "No. KK"
    identifier: str
    produced_at: datetime
    rows: tuple[AccessRow, ...]

    @property
    def answer_due(self) -> datetime:
        return self.produced_at + ANSWER_WITHIN


def check_identifier(value: str, kind: str = "nik") -> tuple[str, str]:
    """(label, digits) of a NIK or No. KK (both 16 digits), else ``AuditSearchError``."""
    label = {"nik": "NIK", "kk": "No. KK"}.get(kind)
    if label is None:
        raise AuditSearchError(f'unknown identifier kind "{kind}" (nik or kk)')
    digits = value.strip().replace(" ", "")
    if len(digits) != 16 or not digits.isdigit():
        raise AuditSearchError(f"a {label} has 16 digits")
    return label, digits


async def resident_report(
    log: AuditLog, value: str, kind: str = "nik", now: datetime | None = None
) -> ResidentReport:
    """Every recorded access to the resident's (or family's) data, refused attempts included."""
    label, digits = check_identifier(value, kind)
    hashed = log.subject_hash(digits)
    rows = []
    for record in await log.subject(digits):
        event = record.event
        rows.append(
            AccessRow(
                seq=record.seq,
                time=event.time,
                application=event.application or "-",
                opd=event.opd or "-",
                user=event.user or "-",
                purpose=event.purpose or "-",
                operation=event.operation_name or "-",
                fields=event.fields,
                refused=tuple(f"{c} ({r})" for _, c, r in event.refused),
                outcome=event.outcome,
                how=how(event, hashed),
            )
        )
    return ResidentReport(label, digits, now or datetime.now(UTC), tuple(rows))


_COLUMNS = (
    *("waktu", "aplikasi", "OPD", "pengguna", "tujuan"),
    *("operasi", "kolom", "ditolak", "hasil", "cara"),
)


def to_csv(report: ResidentReport) -> str:
    """The report as CSV (UTF-8), with the production time and due date as leading comments."""
    out = io.StringIO()
    out.write(f"# Laporan akses data {report.kind} {report.identifier}\n")
    out.write(f"# dibuat {report.produced_at.isoformat(timespec='seconds')}; ")
    out.write(f"jawaban paling lambat {report.answer_due.isoformat(timespec='seconds')}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for row in report.rows:
        writer.writerow(
            (
                row.time,
                row.application,
                row.opd,
                row.user,
                row.purpose,
                row.operation,
                " ".join(row.fields),
                " ".join(row.refused),
                row.outcome,
                row.how,
            )
        )
    return out.getvalue()


def to_pdf(report: ResidentReport) -> bytes:
    """The report as a PDF (A4 landscape, core fonts: Latin-1 text only, which covers the data)."""
    from fpdf import FPDF

    def text(value: str) -> str:
        return value.encode("latin-1", "replace").decode("latin-1")

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(text(f"Laporan akses data {report.kind} {report.identifier}"))
    pdf.set_creation_date(report.produced_at)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, text(f"Laporan akses data pribadi - {report.kind} {report.identifier}"))
    pdf.ln(9)
    pdf.set_font("Helvetica", size=9)
    produced = report.produced_at.strftime("%Y-%m-%d %H:%M UTC")
    due = report.answer_due.strftime("%Y-%m-%d %H:%M UTC")
    pdf.multi_cell(
        0,
        5,
        text(
            f"Dibuat: {produced}. Jawaban kepada subjek data paling lambat {due} "
            "(UU 27/2022: 3 x 24 jam). Sumber: log audit Jama Jama (rantai hash terverifikasi "
            f"terpisah). Jumlah catatan: {len(report.rows)}."
        ),
    )
    pdf.ln(2)
    widths = (38, 30, 30, 26, 30, 30, 58, 35)
    heads = ("Waktu", "Aplikasi", "OPD", "Pengguna", "Tujuan", "Hasil", "Kolom", "Cara")
    with pdf.table(col_widths=widths, text_align="LEFT") as table:
        table.row([text(h) for h in heads])
        for row in report.rows:
            outcome = row.outcome + (f"; ditolak: {', '.join(row.refused)}" if row.refused else "")
            table.row(
                [
                    text(v)
                    for v in (
                        row.time,
                        row.application,
                        row.opd,
                        row.user,
                        row.purpose,
                        outcome,
                        ", ".join(row.fields),
                        row.how,
                    )
                ]
            )
    if not report.rows:
        pdf.ln(4)
        pdf.cell(0, 6, text("Tidak ada akses tercatat atas data ini."))
    return bytes(pdf.output())


@dataclass(frozen=True, slots=True)
class ApplicationStats:
    application: str
    operations: int
    personal: int
    refused: int
    subjects: int
    last: str


@dataclass(slots=True)
class _Tally:
    operations: int = 0
    personal: int = 0
    refused: int = 0
    last: str = ""
    subjects: set[str] = field(default_factory=set)


def statistics(records: Iterable[AuditRecord]) -> list[ApplicationStats]:
    """Per application: operations, those with personal data, refused ones, distinct data
    subjects, last access (decision records of access requests are not accesses)."""
    seen: dict[str, _Tally] = {}
    for record in records:
        event = record.event
        if event.operation_type == DECISION:
            continue
        tally = seen.setdefault(event.application or "anonim", _Tally())
        tally.operations += 1
        tally.personal += int(event.personal)
        tally.refused += int(event.outcome != "ok" or bool(event.refused))
        tally.subjects.update(event.indexed())
        tally.last = max(tally.last, event.time)
    return [
        ApplicationStats(app, t.operations, t.personal, t.refused, len(t.subjects), t.last)
        for app, t in sorted(seen.items())
    ]
