"""``jamajama registry ...`` (serve, token, bootstrap, subgraphs, log, supergraph, rollback,
catalogue) and ``jamajama publish``/``check``.

An OPD team publishes with its own token::

    jamajama publish kesehatan --url http://kesehatan:4003/graphql --sdl schema/kesehatan.graphql \
        --registry http://registry:4100 --token "$JAMAJAMA_REGISTRY_TOKEN"

``--sdl`` may be a file or a live subgraph URL (asked for ``_service { sdl }``). A connector
subgraph (an SDL linking the connect spec: the gateway calls the OPD's REST API) has no GraphQL
endpoint and is published without ``--url``; ``check`` reports each connector problem with its
code and where it is (``[bapenda] Query.kendaraan[0] (line 20): ... (CONNECTOR_...)``).
``check`` prints what a publish would do without publishing: the registry's verdict and the
schema diff clients would see; each breaking change and each newly deprecated field names the
consumer applications that used it. ``registry log`` lists, under each version, the applications
its breaking and deprecation changes affected (as its publish check found them). Every command
prints text for people; ``--json`` prints the registry's JSON answer.
Exit codes: 0 accepted, 1 refused, 2 usage/network.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from gateway.registry.client import RegistryClient

DEFAULT_REGISTRY = "http://127.0.0.1:4100"
#: the subgraphs a ``--dev`` registry issues tokens for (those ``jamajama dev`` publishes)
DEV_SUBGRAPHS: tuple[str, ...] = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")
DEV_DATABASE = Path("var/dev/registry.sqlite3")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry",
        default=os.environ.get("JAMAJAMA_REGISTRY_URL", DEFAULT_REGISTRY),
        help="registry base URL (env JAMAJAMA_REGISTRY_URL, default %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("JAMAJAMA_REGISTRY_TOKEN"),
        help="bearer token (env JAMAJAMA_REGISTRY_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print the registry's JSON answer")


def _author(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--author",
        default=os.environ.get("JAMAJAMA_REGISTRY_AUTHOR"),
        help="who publishes (a name or e-mail; the log shows it after the token's team; "
        "env JAMAJAMA_REGISTRY_AUTHOR)",
    )


def _publish_arguments(parser: argparse.ArgumentParser, publish: bool) -> None:
    parser.add_argument("name", help="the subgraph's name")
    parser.add_argument(
        "--url",
        default="",
        help="the routing URL the gateway calls (a connector subgraph, which has none, omits it)",
    )
    parser.add_argument("--sdl", required=True, help="SDL file, or the live subgraph URL")
    if publish:
        _author(parser)
        parser.add_argument(
            "--override",
            metavar="REASON",
            help="admin token: publish breaking changes to fields in use anyway (approved; the "
            "consumers were told), recording REASON in the version log",
        )
    _common(parser)


def when(epoch: float) -> str:
    """A registry timestamp for people: ``2026-12-01 15:04 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def _read_sdl(where: str) -> str:
    if where.startswith(("http://", "https://")):
        from gateway.composition.cli import fetch_sdl

        return fetch_sdl(where)
    return Path(where).read_text()


def schema_diff(client: RegistryClient, name: str, url: str, sdl: str) -> list[str] | None:
    """The diff clients would see if ``name`` were published with ``sdl`` (None: cannot tell).

    Composed here from the registry's current subgraphs, so that it works with any registry.
    """
    from gateway.composition.compose import SubgraphSource, compose
    from gateway.errors import GatewayError
    from gateway.registry.diff import diff_schemas, render_diff
    from gateway.supergraph import load_supergraph

    sources = [SubgraphSource(name, sdl, url)]
    for current in client.subgraphs()["subgraphs"]:
        if current["name"] == name:
            continue
        versions = client.subgraph_versions(current["name"])["versions"]
        chosen = next(v for v in versions if v["version_id"] == current["version_id"])
        sources.append(SubgraphSource(current["name"], chosen["sdl"], current["url"]))
    result = compose(sources)
    if result.supergraph_sdl is None:
        return None
    try:
        new = load_supergraph(result.supergraph_sdl, authorization_enforced=True).api_schema
        old_sdl = client.current_supergraph()
        if old_sdl is None:
            return [f"  + the first supergraph, with {name} (safe)"]
        old = load_supergraph(old_sdl, authorization_enforced=True).api_schema
    except GatewayError:
        return None
    return render_diff(diff_schemas(old, new))


def submit(
    client: RegistryClient,
    name: str,
    url: str,
    sdl: str,
    *,
    dry_run: bool,
    diff: bool = True,
    author: str | None = None,
    override_reason: str | None = None,
) -> tuple[int, dict[str, Any], list[str]]:
    """Check or publish; the HTTP status, the registry's answer, and its verdict for people."""
    changes = schema_diff(client, name, url, sdl) if diff else None
    if dry_run:
        status, body = client.check(name, url, sdl)
    else:
        status, body = client.publish(name, url, sdl, author, override_reason)
    if "error" in body:
        return status, body, [f"{body['error']['code']}: {body['error']['message']}"]
    lines = [body["message"]]
    codes = {e.get("code") for e in body.get("composition_errors") or []}
    if "EXTERNAL_MISSING_ON_BASE" in codes:
        lines.append(
            "hint: a subgraph this one extends may not be published yet; publish the bases first "
            "(here: wilayah, then kependudukan), see `jamajama registry subgraphs`"
        )
    if changes is not None and not body.get("unchanged"):
        lines += ["schema diff (what clients would see):", *changes]
    return status, body, lines


def _submit(args: argparse.Namespace, dry_run: bool) -> int:
    from gateway.registry.client import RegistryClient

    try:
        sdl = _read_sdl(args.sdl)
        with RegistryClient(args.registry, args.token) as client:
            status, body, lines = submit(
                client,
                args.name,
                args.url,
                sdl,
                dry_run=dry_run,
                diff=not args.json,
                author=getattr(args, "author", None),
                override_reason=getattr(args, "override", None),
            )
    except (OSError, ValueError, httpx.HTTPError) as exc:
        print(f"jamajama: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print("\n".join(lines), file=sys.stdout if body.get("accepted") else sys.stderr)
    if status in (401, 403, 400):
        return 2
    return 0 if body.get("accepted") else 1


class PublishCommand:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        _publish_arguments(parser, publish=True)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        return _submit(args, dry_run=False)


class CheckCommand:
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        _publish_arguments(parser, publish=False)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        return _submit(args, dry_run=True)


# ``jamajama registry ...`` ----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="run the registry service")
    serve.add_argument("--config", type=Path, help="TOML configuration file (deploy/registry.toml)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help=f"development registry: {DEV_DATABASE}, the well-known development tokens "
        "(`jamajama registry token NAME --dev`); never in production",
    )
    serve.add_argument("--host", help="override [registry] host")
    serve.add_argument("--port", type=int, help="override [registry] port")
    token = sub.add_parser(
        "token", help="mint a publish token for an OPD team (or print the --dev one)"
    )
    token.add_argument("name", help="the subgraph the token may publish, or `admin`")
    token.add_argument("--dev", action="store_true", help="the token of a --dev registry")
    bootstrap = sub.add_parser(
        "bootstrap",
        help="publish running subgraphs in the order given (a new deployment's first supergraph)",
    )
    bootstrap.add_argument(
        "subgraphs",
        nargs="+",
        metavar="NAME=URL",
        help="a running subgraph (asked for _service { sdl }; its URL is the routing URL), "
        "bases before the subgraphs that extend them",
    )
    bootstrap.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for each subgraph (%(default)s)"
    )
    _common(bootstrap)
    for name, help_text in (
        ("subgraphs", "list the current subgraphs"),
        ("log", "supergraph versions with dates and authors (or one subgraph's with --subgraph)"),
        ("versions", "the same as log"),
        ("supergraph", "print the current (or --version N) supergraph SDL"),
        ("rollback", "make version N current again (admin token)"),
        ("catalogue", "print the data catalogue (JSON)"),
    ):
        p = sub.add_parser(name, help=help_text)
        _common(p)
        if name in ("log", "versions"):
            p.add_argument("--subgraph", help="one subgraph's versions")
        if name == "supergraph":
            p.add_argument("--version", type=int, help="a past version")
        if name == "rollback":
            p.add_argument("version", type=int)
            _author(p)


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
    if args.dev:
        from pydantic import SecretStr

        from gateway.registry.tokens import DEV_ADMIN_TOKEN, dev_tokens

        section = section.model_copy(
            update={
                "database": DEV_DATABASE,
                "database_url": None,
                "tokens": {n: SecretStr(t) for n, t in dev_tokens(DEV_SUBGRAPHS).items()},
                "admin_token": SecretStr(DEV_ADMIN_TOKEN),
            }
        )
        section.database.parent.mkdir(parents=True, exist_ok=True)
        print(
            f"development registry ({section.database}): publish with "
            "`--token $(jamajama registry token NAME --dev)`",
            file=sys.stderr,
            flush=True,
        )
    elif not section.tokens and section.admin_token is None:
        print(
            "jamajama registry: no tokens configured, nobody can publish: `--dev` for a "
            "development registry, or `jamajama registry token NAME` and deploy/registry.toml",
            file=sys.stderr,
            flush=True,
        )
    try:
        app = app_from_settings(section)
    except GatewayError as exc:  # e.g. SCHEMA_OUTDATED: names `jamajama migrate`
        print(f"jamajama registry: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=args.host or section.host,
        port=args.port or section.port,
        log_level="warning",
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    from gateway.registry.tokens import DEV_ADMIN_TOKEN, dev_token, mint_token

    if args.dev:
        if args.name != "admin" and args.name not in DEV_SUBGRAPHS:
            names = ", ".join(DEV_SUBGRAPHS)
            print(
                f"jamajama registry: a --dev registry has tokens for {names} and admin, "
                f"not {args.name!r}",
                file=sys.stderr,
            )
            return 2
        print(DEV_ADMIN_TOKEN if args.name == "admin" else dev_token(args.name))
        return 0
    minted = mint_token()
    key = "admin_token" if args.name == "admin" else f"tokens.{args.name}"
    env = (
        "JAMAJAMA_REGISTRY__ADMIN_TOKEN"
        if args.name == "admin"
        else f'JAMAJAMA_REGISTRY__TOKENS=\'{{"{args.name}": "{minted.configured}"}}\''
    )
    print(minted.token)
    print(
        f"# give the token above to the {args.name} team, once; the registry keeps only its hash:\n"
        f'#   [registry] {key} = "{minted.configured}"   (or {env})',
        file=sys.stderr,
    )
    return 0


def _bootstrap(args: argparse.Namespace) -> int:
    """Publish each running subgraph in turn, waiting up to ``--wait`` s for it to answer."""
    from gateway.composition.cli import fetch_sdl
    from gateway.registry.client import RegistryClient

    for spec in args.subgraphs:
        name, sep, url = spec.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            print(f"jamajama registry: expected NAME=URL, got {spec!r}", file=sys.stderr)
            return 2
        deadline = time.monotonic() + args.wait
        while True:
            try:
                sdl = fetch_sdl(url, timeout=5.0)
                break
            except (httpx.HTTPError, ValueError) as error:
                if time.monotonic() > deadline:
                    print(f"jamajama registry: {name} at {url}: {error}", file=sys.stderr)
                    return 2
                time.sleep(1.0)
        try:
            with RegistryClient(args.registry, args.token) as client:
                status, body, lines = submit(client, name, url, sdl, dry_run=False, diff=False)
        except (httpx.HTTPError, ValueError) as error:
            print(f"jamajama registry: {error}", file=sys.stderr)
            return 2
        accepted = bool(body.get("accepted"))
        print("\n".join(lines), file=sys.stdout if accepted else sys.stderr, flush=True)
        if not accepted:
            return 2 if status in (400, 401, 403) else 1
    return 0


def _print_versions(body: dict[str, Any], subgraph: str | None) -> None:
    for v in body["versions"]:
        if subgraph:
            author = v.get("author") or v["published_by"]
            print(f"#{v['version_id']:<4} {when(v['published_at'])}  {author:<18} {v['url']}")
            continue
        author = v.get("author") or v["created_by"]
        what = (
            "rollback to an earlier version"
            if v["action"] == "rollback"
            else f"publish {v.get('subgraph') or ''}".rstrip()
        )
        line = f"v{v['version']:<4} {when(v['created_at'])}  {author:<18} {what}"
        if v.get("override_reason"):
            line += f"  (override: {v['override_reason']})"
        print(line)
        for entry in v.get("affected") or []:
            print(f"       {_affected_line(entry)}")


def _affected_line(entry: dict[str, Any]) -> str:
    """``breaking: field X.y was removed; applications: sibansos (3x)`` (one log entry)."""
    from gateway.registry.checks import ApplicationUse, render_applications

    users = render_applications(
        [ApplicationUse(a["application"], int(a["count"])) for a in entry["applications"]]
    )
    return f"{entry['kind']}: {entry['message']}; applications: {users or 'none in the window'}"


def run(args: argparse.Namespace) -> int:
    if args.registry_command == "serve":
        return _serve(args)
    if args.registry_command == "token":
        return _token(args)
    if args.registry_command == "bootstrap":
        return _bootstrap(args)
    from gateway.registry.client import RegistryClient

    try:
        with RegistryClient(args.registry, args.token) as client:
            return _remote_command(client, args)
    except (httpx.HTTPError, ValueError) as exc:
        print(f"jamajama registry: {exc}", file=sys.stderr)
        return 2


def _remote_command(client: RegistryClient, args: argparse.Namespace) -> int:
    """The sub-commands that ask a running registry; the exit status."""
    if args.registry_command == "subgraphs":
        _print_subgraphs(client.subgraphs(), as_json=args.json)
    elif args.registry_command in ("log", "versions"):
        body = (
            client.subgraph_versions(args.subgraph)
            if args.subgraph
            else client.supergraph_versions()
        )
        if args.json:
            print(json.dumps(body, indent=2))
        else:
            _print_versions(body, args.subgraph)
    elif args.registry_command == "supergraph":
        sys.stdout.write(client.supergraph(args.version))
    elif args.registry_command == "rollback":
        return _rollback(client, args)
    elif args.registry_command == "catalogue":
        print(json.dumps(client.catalogue(), indent=2))
    return 0


def _print_subgraphs(body: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(body, indent=2))
        return
    for subgraph in body["subgraphs"]:
        print(
            f"{subgraph['name']:<14} {subgraph['url']:<36} #{subgraph['version_id']:<4} "
            f"{when(subgraph['published_at'])}  "
            f"{subgraph.get('author') or subgraph['published_by']}"
        )


def _rollback(client: RegistryClient, args: argparse.Namespace) -> int:
    status, body = client.rollback(args.version, args.author)
    if args.json:
        print(json.dumps(body, indent=2))
    elif status == 200:
        print(
            f"supergraph version {body['version']['version']} is version "
            f"{body['rolled_back_to']} again"
        )
    else:
        print(f"{body['error']['code']}: {body['error']['message']}", file=sys.stderr)
    return 0 if status == 200 else 1
