"""``jamajama token ...``: development tokens for the demo consumer applications.

``jamajama token list`` shows the demo applications; ``jamajama token mint APP`` prints an HS256
token for one of them (or any application id, with ``--scope``) signed with the configured secret
(the development secret by default). Production tokens come from the OIDC provider, not from here.

``jamajama token registered`` lists the consumer-application registry of a configuration and
``jamajama token revoke APP`` revokes an application there: every replica refuses its tokens
(anonymous access only) from the next request on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jwt

from gateway.auth.demo import DEMO_APPLICATIONS, DEMO_USERS, DEV_AUDIENCE, DEV_ISSUER, DEV_SECRET


def mint_token(
    application: str,
    *,
    scopes: list[str] | None = None,
    user: str | None = None,
    secret: str = DEV_SECRET,
    ttl_seconds: int = 3600,
    issuer: str | None = DEV_ISSUER,
    audience: str | None = DEV_AUDIENCE,
    opd: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 token naming ``application`` (claim ``azp``) with its demo scopes by default."""
    demo = {a.id: a for a in DEMO_APPLICATIONS}.get(application)
    if scopes is None:
        scopes = list(demo.scopes) if demo else []
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "sub": user or DEMO_USERS.get(application, application),
        "azp": application,
        "scope": " ".join(scopes),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
    }
    if opd or demo:
        claims["opd"] = opd or (demo.opd if demo else "")
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="list the demo consumer applications")
    mint = sub.add_parser("mint", help="print a development token for an application")
    mint.add_argument("application", help="application id, e.g. sibansos")
    mint.add_argument("--user", help="end user (claim sub)")
    mint.add_argument(
        "--scope", action="append", dest="scopes", help="a scope (repeatable; default: the demo's)"
    )
    mint.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (%(default)s)")
    mint.add_argument("--config", type=Path, help="gateway configuration (for the HS256 secret)")
    for name, text in (
        ("registered", "list the registered consumer applications"),
        ("revoke", "revoke a consumer application (takes effect at once)"),
    ):
        command = sub.add_parser(name, help=text, description=text)
        if name == "revoke":
            command.add_argument("application", help="application id")
        command.add_argument("--config", type=Path, help="gateway configuration (TOML)")
        command.add_argument("--dev", action="store_true", help="the registry of `jamajama dev`")


def _nothing_registered(args: argparse.Namespace) -> str:
    if args.config is None and not args.dev:
        return (
            "no applications: without --config the registry is empty; `--dev` lists those of "
            "`jamajama dev`, `--config FILE` those of a deployment (e.g. deploy/gateway.toml)"
        )
    return "no applications are registered (add [[auth.applications.seed]] to the configuration)"


def _registry_command(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.access_requests.service import reapply_grants
    from gateway.auth.applications import create_registry, seed_registry
    from gateway.config import load_settings
    from gateway.errors import GatewayError

    async def main() -> int:
        settings = load_settings(args.config)
        if args.dev:
            from gateway.config import dev_settings

            settings = dev_settings(settings, Path("var/dev"))
        registry = create_registry(settings.auth.applications)
        try:
            await seed_registry(registry, settings.auth.applications.seed)
            await reapply_grants(registry, settings.auth.applications)  # approved access requests
            if args.action == "revoke":
                if not await registry.revoke(args.application):
                    print(f"no application {args.application!r} is registered", file=sys.stderr)
                    return 1
                print(f"revoked {args.application}")
                return 0
            applications = await registry.list()
            if not applications:
                print(_nothing_registered(args), file=sys.stderr)
                return 1
            for app in applications:
                state = "REVOKED" if app.revoked else "active"
                print(
                    f"{app.id:<16} {state:<8} {app.opd}\n"
                    f"  scopes:   {', '.join(sorted(app.scopes)) or '-'}\n"
                    f"  purposes: {', '.join(sorted(app.purposes)) or '-'}"
                )
                for grant in app.expiring:  # granted until an instant (access requests)
                    print(
                        f"  until {grant.until.isoformat()}: "
                        f"{', '.join(sorted(grant.scopes))} "
                        f"(purposes: {', '.join(sorted(grant.purposes))})"
                    )
            return 0
        finally:
            await registry.aclose()

    try:
        return asyncio.run(main())
    except GatewayError as error:
        print(error.message, file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.action in ("registered", "revoke"):
        return _registry_command(args)
    if args.action == "list":
        for app in DEMO_APPLICATIONS:
            scopes = ", ".join(app.scopes) or "(none: aggregates only)"
            purposes = ", ".join(app.purposes) or "(none)"
            print(f"{app.id:<16} {app.opd}\n  scopes:   {scopes}\n  purposes: {purposes}")
        return 0
    secret = DEV_SECRET
    issuer: str | None = DEV_ISSUER
    audience: str | None = DEV_AUDIENCE
    known = {app.id for app in DEMO_APPLICATIONS}
    if args.config is not None:
        from gateway.config import ConfigError, load_settings

        try:
            settings = load_settings(args.config)
        except ConfigError as error:
            print(error.message, file=sys.stderr)
            return 2
        section = settings.auth.jwt
        known |= {seed.id for seed in settings.auth.applications.seed}
        if section.secret is None:
            print("the configuration has no auth.jwt.secret (HS256)", file=sys.stderr)
            return 2
        secret = section.secret.get_secret_value()
        issuer, audience = section.issuer, section.audience
    if args.application not in known and not args.scopes:
        print(
            f"unknown application {args.application!r}: known are {', '.join(sorted(known))} "
            "(`jamajama token list`); for an application registered elsewhere, give its scopes "
            "with --scope",
            file=sys.stderr,
        )
        return 2
    print(
        mint_token(
            args.application,
            scopes=args.scopes,
            user=args.user,
            secret=secret,
            ttl_seconds=args.ttl,
            issuer=issuer,
            audience=audience,
        )
    )
    return 0
