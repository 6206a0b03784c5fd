"""``jamajama audit verify|subject|checkpoint|public-key``.

``verify`` checks the chain and every checkpoint of its head (the database's, the configured
file's, and copies given with ``--checkpoint-file``, e.g. a witness's); it names every record
that was edited, removed, reordered, cut from the end or rewritten. Exit codes: 0 intact, 1
tampered, 2 unusable (bad configuration or key, store unreachable).
``subject NIK`` lists each operation that returned the resident's data, released the NIK in a
cursor or key, or was a refused lookup of it: when, which application and OPD, which end user,
for what purpose, which fields.
``checkpoint`` anchors the head now; ``public-key`` prints the checkpoints' Ed25519 public key
for a third party who verifies them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from gateway.audit.log import AuditLog, open_audit_log
from gateway.audit.records import AuditEvent
from gateway.errors import GatewayError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("verify", "check that no audit record was edited, removed, reordered or cut off"),
        ("subject", "who accessed a resident's data, when, for what purpose"),
        ("checkpoint", "write a signed checkpoint of the chain head now"),
        ("public-key", "print the public key that verifies the checkpoints"),
    ):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument("--config", type=Path, help="gateway configuration file (TOML)")
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.add_argument(
            "--dev", action="store_true", help="the log of `jamajama dev` (var/dev/audit.sqlite3)"
        )
        if name == "subject":
            command.add_argument("nik", help="the resident's NIK (16 digits)")
        if name == "verify":
            command.add_argument(
                "--checkpoint-file",
                type=Path,
                action="append",
                default=[],
                help="more checkpoints to compare (JSON lines, e.g. a witness's copy; repeatable)",
            )
            command.add_argument(
                "--public-key",
                help="Ed25519 public key (hex) the checkpoints must be signed with "
                "(default: derived from audit.signing_key)",
            )


async def _verify(log: AuditLog, args: argparse.Namespace) -> int:
    report = await log.verify(args.checkpoint_file, args.public_key)
    if args.json:
        problems = [{"seq": p.seq, "message": p.message} for p in report.problems]
        print(
            json.dumps(
                {
                    "records": report.records,
                    "head": report.head,
                    "checkpoints": report.checkpoints,
                    "anchored": report.anchored,
                    "problems": problems,
                }
            )
        )
    elif report.ok:
        print(
            f"audit log intact: {report.records} records, head {report.head}; "
            f"{report.checkpoints} checkpoint(s), the last for record {report.anchored}"
        )
        if report.records > report.anchored:  # deletable without trace until anchored
            print(f"{report.records - report.anchored} record(s) after the last checkpoint")
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
    hashed = log.subject_hash(nik)
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
                "how": _how(event, hashed),
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
            f"purpose {row['purpose']}  operation {row['operation'] or '-'}  {row['outcome']}  "
            f"({row['how']})\n"
            f"    fields: {', '.join(row['fields'])}"
        )
    return 0


def _how(event: AuditEvent, hashed: str) -> str:
    """How the record concerns the subject: its data returned, its identifier released in a
    cursor or key, or a refused lookup of it."""
    ways = []
    if hashed in event.subjects:
        ways.append("data returned")
    if hashed in event.released:
        ways.append("identifier released in a cursor or key")
    if hashed in event.refused_lookups:
        ways.append("refused lookup")
    return ", ".join(ways)


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
                return await _verify(log, args)
            if args.action == "checkpoint":
                written = await log.checkpoint()
                print(f"checkpoint of record {written.count}" if written else "nothing new")
                return 0
            if args.action == "public-key":
                print(log.public_key or "no audit.signing_key: checkpoints are unsigned")
                return 0 if log.public_key else 2
            return await _subject(log, args.nik, args.json)
        except GatewayError as error:
            print(error.message, file=sys.stderr)
            return 2
        finally:
            await log.aclose()

    return asyncio.run(main())
