"""``jamajama portal``: serve the SPLP portal (its own process, see ``docs/portal.md``)."""

from __future__ import annotations

import argparse

from gateway.portal.config import PortalSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4200, help="(%(default)s)")
    parser.add_argument(
        "--gateway", help="the gateway's base URL (env JAMAJAMA_PORTAL_GATEWAY_URL)"
    )
    parser.add_argument(
        "--registry", help="the schema registry's URL (JAMAJAMA_PORTAL_REGISTRY_URL)"
    )
    parser.add_argument(
        "--applications",
        help="the application registry store: SQLite path or PostgreSQL DSN "
        "(JAMAJAMA_PORTAL_APPLICATIONS_STORE)",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development: role picker sign-in, a minted dashboard token, cookies without Secure",
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.portal.app import create_app

    settings = PortalSettings.from_env(
        gateway_url=args.gateway,
        registry_url=args.registry,
        applications_store=args.applications,
        dev=args.dev,
    )
    app = create_app(settings)
    print(f"Jama Jama portal listening on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
