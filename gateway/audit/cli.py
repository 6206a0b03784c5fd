"""``jamajama audit verify|subject``: check the chain; answer "who accessed this resident's data".

``verify`` exits 1 and names every record that was edited, removed or reordered.
``subject NIK`` lists each operation that returned the resident's data: when, which application and
OPD, which end user, for what purpose, which fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gateway.audit.log import AuditLog, open_audit_log
from gateway.errors import GatewayError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("verify", "check that no audit record was edited, removed or reordered"),
        ("subject", "who accessed a resident's data, when, for what purpose"),
    ):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument("--config", type=Path, help="gateway configuration file (TOML)")
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.add_argument(
            "--dev", action="store_true", help="the log of `jamajama dev` (var/dev/audit.sqlite3)"
        )
        if name == "subject":
            command.add_argument("nik", help="the resident's NIK (16 digits)")


async def _verify(log: AuditLog, as_json: bool) -> int:
    report = await log.verify()
    if as_json:
        problems = [{"seq": p.seq, "message": p.message} for p in report.problems]
        print(json.dumps({"records": report.records, "head": report.head, "problems": problems}))
    elif report.ok:
        print(f"audit log intact: {report.records} records, head {report.head}")
    else:
        for problem in report.problems:
            print(problem.message)
        print(f"audit log TAMPERED: {len(report.problems)} problem(s) in {report.records} records")
    return 0 if report.ok else 1


async def _subject(log: AuditLog, nik: str, as_json: bool) -> int:
    if not (len(nik) == 16 and nik.isdigit()):
        print("a NIK has 16 digits", file=sys.stderr)
        return 2
    records = await log.subject(nik)
    rows: list[dict[str, Any]] = []
    for record in records:
        event = record.event
        rows.append(
            {
                "seq": record.seq,
                "time": event.time,
                "application": event.application,
                "opd": event.opd,
                "user": event.user,
                "purpose": event.purpose,
                "operation": event.operation_name,
                "fields": list(event.fields),
                "outcome": event.outcome,
            }
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not rows:
        print("no recorded access to this resident's data")
    for row in rows:
        print(
            f"{row['time']}  {row['application']} ({row['opd']})  user {row['user']}  "
            f"purpose {row['purpose']}  operation {row['operation'] or '-'}  {row['outcome']}\n"
            f"    fields: {', '.join(row['fields'])}"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    from gateway.config import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
        if args.dev:
            from gateway.config import dev_settings

            settings = dev_settings(settings, Path("var/dev"))
        log = open_audit_log(settings.audit)
    except (ConfigError, GatewayError) as error:
        print(error.message, file=sys.stderr)
        return 2

    async def main() -> int:
        try:
            if args.action == "verify":
                return await _verify(log, args.json)
            return await _subject(log, args.nik, args.json)
        except GatewayError as error:
            print(error.message, file=sys.stderr)
            return 2
        finally:
            await log.aclose()

    return asyncio.run(main())
