"""``jamajama access request|list|approve|reject|revoke|apply``: access requests from a shell;
``jamajama access keys|rotate-key|revoke-key``: a consumer application's credentials.

The same records as the portal's Pengajuan akses page, in the configured applications store.
``--as-opd`` names the data-owning OPD the acting admin administers (``kependudukan``…): only
that OPD's part is decided. Each decision is written to the configured audit log and takes effect
in the application registry at once; ``apply`` tidies expired grants (the gateway already ignores
them from their end instant). ``rotate-key`` prints the new key once (it is not stored).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.access_requests.model import AccessRequest

if TYPE_CHECKING:
    from gateway.access_requests.credentials import Credentials
    from gateway.auth.credentials import Credential


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    commands = {
        "request": "request scopes for an application, for stated purposes",
        "list": "list access requests and the state of each OPD's part",
        "approve": "approve an OPD's part of a request (takes effect at once)",
        "reject": "reject an OPD's part of a request",
        "revoke": "revoke an OPD's part of a request (takes effect at once)",
        "apply": "write the grants in force into the registry (expiry sweep)",
        "keys": "list an application's credentials (ids and validity, never secrets)",
        "rotate-key": "issue a new key for an application; its keys end after a grace period",
        "revoke-key": "end one credential at once",
    }
    for name, text in commands.items():
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument("--config", type=Path, help="gateway configuration (TOML)")
        command.add_argument("--dev", action="store_true", help="the stores of `jamajama dev`")
        command.add_argument("--user", default="cli", help="who acts (recorded in the audit log)")
        if name == "request":
            command.add_argument("application", help="consumer application id")
            command.add_argument("--scope", action="append", dest="scopes", required=True)
            command.add_argument("--purpose", action="append", dest="purposes", required=True)
            command.add_argument("--note", default="", help="why, in the requester's words")
            command.add_argument(
                "--valid-until", type=_when, help="expiry, ISO date or time (UTC if no zone)"
            )
        elif name in ("keys", "rotate-key"):
            command.add_argument("application", help="consumer application id")
            if name == "rotate-key":
                command.add_argument(
                    "--grace-hours",
                    type=float,
                    default=24.0,
                    help="how long the old keys stay valid (default 24, at most 720; 0: at once)",
                )
        elif name == "revoke-key":
            command.add_argument("credential_id")
            command.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        elif name == "list":
            command.add_argument("--application")
            command.add_argument("--opd", help="only requests with a part for this OPD")
        elif name != "apply":
            command.add_argument("request_id")
            command.add_argument("--as-opd", required=True, help="the OPD you administer")
            command.add_argument("--reason", required=True, help="the decision's reason")
            if name == "revoke":
                command.add_argument(
                    "--operator", action="store_true", help="act as the Diskominfo operator"
                )


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def describe(request: AccessRequest, now: datetime) -> str:
    lines = [
        f"{request.id}  {request.application}  {request.state(now)}  "
        f"purposes: {', '.join(sorted(request.purposes))}  "
        f"until: {request.valid_until.isoformat() if request.valid_until else '-'}"
    ]
    for part in request.parts:
        decided = f" by {part.decided_by}: {part.reason}" if part.decided_by else ""
        lines.append(
            f"  {part.owner:<14} {part.status:<9} {', '.join(sorted(part.scopes))}{decided}"
        )
    return "\n".join(lines)


def describe_key(credential: Credential, now: datetime) -> str:
    until = credential.expires_at.isoformat() if credential.expires_at else "-"
    return (
        f"{credential.id}  {credential.application}  {credential.state(now):<8} "
        f"created {credential.created_at.isoformat()} by {credential.created_by}  until {until}"
    )


async def _keys(args: argparse.Namespace, keys: Credentials, now: datetime) -> None:
    if args.action == "keys":
        found = await keys.of(args.application)
        for credential in found:
            print(describe_key(credential, now))
        if not found:
            print("no credentials", file=sys.stderr)
    elif args.action == "rotate-key":
        rotation = await keys.rotate(args.application, args.user, timedelta(hours=args.grace_hours))
        for ending in rotation.ending:
            print(describe_key(ending, now))
        print(describe_key(rotation.credential, now))
        print(f"new key (shown once, store it now): {rotation.key}")
    else:
        print(describe_key(await keys.revoke(args.credential_id, args.user, args.reason), now))


def run(args: argparse.Namespace) -> int:
    from gateway.access_requests.credentials import Credentials
    from gateway.access_requests.service import AccessRequests, Actor
    from gateway.access_requests.store import AccessRequestStore
    from gateway.audit.log import open_audit_log
    from gateway.auth.applications import create_registry, seed_registry
    from gateway.config import load_settings
    from gateway.errors import GatewayError

    async def main() -> int:
        settings = load_settings(args.config)
        if args.dev:
            from gateway.config import dev_settings

            settings = dev_settings(settings, Path("var/dev"))
        section = settings.auth.applications
        registry = create_registry(section)
        store = AccessRequestStore.open(section)
        log = open_audit_log(settings.audit)
        service = AccessRequests(store, registry, log)
        try:
            await seed_registry(registry, section.seed)
            await service.apply()
            now = datetime.now(UTC)
            if args.action == "request":
                made = await service.request(
                    args.application,
                    args.scopes,
                    args.purposes,
                    requested_by=args.user,
                    note=args.note,
                    valid_until=args.valid_until,
                )
                print(describe(made, now))
            elif args.action == "list":
                found = await service.list(application=args.application, owner=args.opd)
                for request in found:
                    print(describe(request, now))
                if not found:
                    print("no access requests", file=sys.stderr)
            elif args.action in ("keys", "rotate-key", "revoke-key"):
                await _keys(args, Credentials(registry, log), now)
            elif args.action == "apply":
                print("grants in force written to the registry")
            else:
                actor = Actor(args.user, args.as_opd, getattr(args, "operator", False))
                decide = getattr(service, args.action)
                print(describe(await decide(args.request_id, args.as_opd, actor, args.reason), now))
            return 0
        finally:
            await log.aclose()
            await store.aclose()
            await registry.aclose()

    try:
        return asyncio.run(main())
    except GatewayError as error:
        print(f"{error.code}: {error.message}", file=sys.stderr)
        return 2
