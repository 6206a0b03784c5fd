"""``jamajama registry`` (serve, list, history, fetch, rollback) and ``jamajama publish``/``check``.

An OPD team publishes with its own token::

    jamajama publish kesehatan --url http://kesehatan:4003/graphql --sdl schema/kesehatan.graphql \
        --registry http://registry:4100 --token "$JAMAJAMA_REGISTRY_TOKEN"

``--sdl`` may be a file or a live subgraph URL (asked for ``_service { sdl }``). ``check`` prints
what a publish would do without publishing. Exit codes: 0 accepted, 1 refused, 2 usage/network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import httpx

DEFAULT_REGISTRY = "http://127.0.0.1:4100"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        default=os.environ.get("JAMAJAMA_REGISTRY_URL", DEFAULT_REGISTRY),
        help="registry base URL (env JAMAJAMA_REGISTRY_URL)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("JAMAJAMA_REGISTRY_TOKEN"),
        help="bearer token (env JAMAJAMA_REGISTRY_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print the registry's JSON answer")


def _publish_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the subgraph's name")
    parser.add_argument("--url", required=True, help="the routing URL the gateway calls")
    parser.add_argument("--sdl", required=True, help="SDL file, or the live subgraph URL")
    _common(parser)


def _read_sdl(where: str) -> str:
    if where.startswith(("http://", "https://")):
        from gateway.composition.cli import fetch_sdl

        return fetch_sdl(where)
    return Path(where).read_text()


def _submit(args: argparse.Namespace, dry_run: bool) -> int:
    from gateway.registry.client import RegistryClient

    try:
        sdl = _read_sdl(args.sdl)
        with RegistryClient(args.registry, args.token) as client:
            call = client.check if dry_run else client.publish
            status, body = call(args.name, args.url, sdl)
    except (OSError, ValueError, httpx.HTTPError) as exc:
        print(f"jamajama: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(body, indent=2))
    elif "error" in body:
        print(f"{body['error']['code']}: {body['error']['message']}", file=sys.stderr)
    else:
        print(body["message"], file=sys.stdout if body.get("accepted") else sys.stderr)
    if status in (401, 403, 400):
        return 2
    return 0 if body.get("accepted") else 1


class PublishCommand:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        _publish_arguments(parser)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        return _submit(args, dry_run=False)


class CheckCommand:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        _publish_arguments(parser)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        return _submit(args, dry_run=True)


# ``jamajama registry ...`` ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="run the registry service")
    serve.add_argument("--config", type=Path, help="TOML configuration file")
    serve.add_argument("--host", help="override [registry] host")
    serve.add_argument("--port", type=int, help="override [registry] port")
    for name, help_text in (
        ("subgraphs", "list the current subgraphs"),
        ("versions", "list supergraph versions (or one subgraph's with --subgraph)"),
        ("supergraph", "print the current (or --version N) supergraph SDL"),
        ("rollback", "make version N current again (admin token)"),
        ("catalogue", "print the data catalogue (JSON)"),
    ):
        p = sub.add_parser(name, help=help_text)
        _common(p)
        if name == "versions":
            p.add_argument("--subgraph", help="one subgraph's versions")
        if name == "supergraph":
            p.add_argument("--version", type=int, help="a past version")
        if name == "rollback":
            p.add_argument("version", type=int)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.config import ConfigError, load_settings
    from gateway.errors import GatewayError
    from gateway.registry.service import app_from_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"jamajama registry: {exc.message}", file=sys.stderr)
        return 2
    section = settings.registry
    try:
        app = app_from_settings(section)
    except GatewayError as exc:  # e.g. SCHEMA_OUTDATED: names `jamajama migrate`
        print(f"jamajama registry: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=args.host or section.host,
        port=args.port or section.port,
        log_level="info",
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.registry_command == "serve":
        return _serve(args)
    from gateway.registry.client import RegistryClient

    try:
        with RegistryClient(args.registry, args.token) as client:
            if args.registry_command == "subgraphs":
                body = client.subgraphs()
                for s in body["subgraphs"]:
                    print(f"{s['name']}\t{s['url']}\tv{s['version_id']}\t{s['published_by']}")
            elif args.registry_command == "versions":
                body = (
                    client.subgraph_versions(args.subgraph)
                    if args.subgraph
                    else client.supergraph_versions()
                )
                for v in body["versions"]:
                    print(json.dumps({k: val for k, val in v.items() if k != "sdl"}))
            elif args.registry_command == "supergraph":
                sys.stdout.write(client.supergraph(args.version))
            elif args.registry_command == "rollback":
                status, body = client.rollback(args.version)
                print(json.dumps(body, indent=2))
                return 0 if status == 200 else 1
            elif args.registry_command == "catalogue":
                print(json.dumps(client._json(client._http.get("/api/catalogue")), indent=2))
    except (httpx.HTTPError, ValueError) as exc:
        print(f"jamajama registry: {exc}", file=sys.stderr)
        return 2
    return 0
