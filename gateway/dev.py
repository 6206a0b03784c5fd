"""``jamajama dev``: the whole system on one machine, on embedded defaults, as a local loop.

Generates (or finds cached) the OPD stores once, then starts every service as its own process:
the five subgraphs (``jamajama subgraph serve NAME`` on ports 4001..4005, or from
``--base-port``), the five REST OPDs (``jamajama rest serve NAME`` on ports 4101..4105, or from
``--rest-base-port``) and a development registry (embedded SQLite under ``var/dev/``, port
4100), in parallel; publishes the subgraphs to the registry in dependency order (an extension
needs its base entity published first), then the REST OPDs' connector SDLs
(``schema/rest/NAME.graphql``), then starts the gateway following the registry, configured to
reach the REST OPDs (``[connectors]``: their base URLs here, their API keys from
``$JAMAJAMA_REST_<NAME>_KEY``, ``dev-<name>`` by default). It prints one line per service
saying where it listens once it answers.

Then it watches ``subgraphs/*.py``, ``schema/*.graphql`` and their ``rest/`` counterparts: a
changed subgraph module restarts that subgraph and republishes what it now serves; a changed
REST OPD module restarts that service; a changed SDL file is published as is. Each
publish prints the registry's verdict (composition errors, breaking changes with the operations
that use them) and the schema diff; the gateway picks an accepted version up within a second.
Subgraph errors reach clients unredacted (development only). Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import httpx

from gateway.auth.exposure import EXPOSE_FLAG, add_exposure_argument, exposure_refused

#: the OPD subgraphs in start and publish order (each extends only entities of those before it)
SUBGRAPH_NAMES: tuple[str, ...] = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")
#: the REST OPDs (``subgraphs.rest.REST_OPDS``), published after the subgraphs they extend
REST_NAMES: tuple[str, ...] = ("bapenda", "bkd", "tanaman_pangan", "dpmptsp", "bpbd")
READY_TIMEOUT_S = 60.0
ROOT = Path(__file__).resolve().parent.parent
#: how often the watched files are looked at (mtime polling: no dependency, bounded cost)
WATCH_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class Service:
    """One process ``jamajama dev`` starts: how to run it and how to know it is ready."""

    name: str
    port: int
    argv: tuple[str, ...]
    endpoint: str = "/graphql"
    health: str = "/health"
    #: what ``GET health`` must answer (JSON fields), so another process on the port is not
    #: mistaken for this service
    health_expects: tuple[tuple[str, str], ...] = ()
    #: start only once every service listed before it is ready and the subgraphs are published
    after_previous: bool = False
    #: environment variables added for this process
    env: tuple[tuple[str, str], ...] = field(default=())


def _jamajama(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "gateway.cli", *args)


def _data_args(args: argparse.Namespace) -> tuple[str, ...]:
    return ("--seed", str(args.seed), "--scale", str(args.scale))


def subgraph_service(args: argparse.Namespace, index: int) -> Service:
    name, port = SUBGRAPH_NAMES[index], args.base_port + index
    argv = _jamajama(
        "subgraph", "serve", name, "--host", args.host, "--port", str(port), *_data_args(args)
    )
    return Service(name, port, argv, health_expects=(("subgraph", name),))


def rest_service(args: argparse.Namespace, index: int) -> Service:
    name, port = REST_NAMES[index], args.rest_base_port + index
    argv = _jamajama(
        "rest", "serve", name, "--host", args.host, "--port", str(port), *_data_args(args)
    )
    return Service(
        name,
        port,
        argv,
        endpoint="/openapi.json",
        health_expects=(("service", name),),
        env=((_key_variable(name), _rest_key(name)),),
    )


def _key_variable(name: str) -> str:
    return f"JAMAJAMA_REST_{name.upper()}_KEY"


def _rest_key(name: str) -> str:
    """The REST OPD's API key: as ``subgraphs.rest.api_key`` reads it (the same variable)."""
    return os.environ.get(_key_variable(name), f"dev-{name}")


def rest_sdl(name: str) -> Path:
    return ROOT / "schema" / "rest" / f"{name}.graphql"


def connectors_config(args: argparse.Namespace) -> dict[str, object]:
    """``[connectors]`` of the development gateway: every REST OPD source at its local port,
    its API key read from the variable the REST service reads (never on a command line)."""
    from gateway.connectors.sdl import read_connectors

    sources: dict[str, object] = {}
    for index, name in enumerate(REST_NAMES):
        model = read_connectors(name, rest_sdl(name).read_text())
        for source in model.sources.values() if model is not None else ():
            path = urlsplit(source.base_url.source).path
            sources[f"{name}.{source.name}"] = {
                "base_url": f"http://{args.host}:{args.rest_base_port + index}{path}",
                "config_env": {"apiKey": _key_variable(name)},
            }
    return {"sources": sources}


def services(args: argparse.Namespace) -> list[Service]:
    """Everything ``jamajama dev`` runs, in start order.

    The gateway comes last, once the subgraphs answer and are published: it follows the
    development registry (polling every second, reporting field usage so that breaking-change
    checks know what is used), accepts development tokens for the demo applications
    (``jamajama token mint APP``) and passes subgraph errors through unredacted.
    """
    from gateway.registry.tokens import DEV_ADMIN_TOKEN

    subgraphs = [subgraph_service(args, i) for i in range(len(SUBGRAPH_NAMES))]
    rest = [rest_service(args, i) for i in range(len(REST_NAMES))]
    registry_url = f"http://{args.host}:{args.registry_port}"
    registry = Service(
        "registry",
        args.registry_port,
        _jamajama(
            "registry", "serve", "--dev", "--host", args.host, "--port", str(args.registry_port)
        ),
        endpoint="",
        health="/healthz",
        health_expects=(("status", "ok"),),
    )
    portal_port = args.portal_port or args.gateway_port + 200
    gateway = Service(
        "gateway",
        args.gateway_port,
        _jamajama(
            "gateway",
            "--registry",
            registry_url,
            "--host",
            args.host,
            "--port",
            str(args.gateway_port),
            "--dev-auth",
            *((EXPOSE_FLAG,) if args.dangerously_expose_dev_auth else ()),
        ),
        health_expects=(("status", "ok"),),
        after_previous=True,
        env=(
            ("JAMAJAMA_HTTP__SUBGRAPH_ERRORS", "pass"),
            ("JAMAJAMA_REGISTRY_POLL__INTERVAL_SECONDS", "1"),
            ("JAMAJAMA_REGISTRY_POLL__USAGE_TOKEN", DEV_ADMIN_TOKEN),
            ("JAMAJAMA_REGISTRY_POLL__USAGE_INTERVAL_SECONDS", "2"),
            ("JAMAJAMA_REGISTRY_POLL__CACHE_PATH", "var/dev/supergraph.cache.graphql"),
            # the portal's origin, and no other
            ("JAMAJAMA_HTTP__CORS__ALLOW_ORIGINS", f'["http://{args.host}:{portal_port}"]'),
            ("JAMAJAMA_CONNECTORS", json.dumps(connectors_config(args))),
            *((_key_variable(name), _rest_key(name)) for name in REST_NAMES),
        ),
    )
    portal = Service(
        "portal",
        portal_port,
        _jamajama(
            "portal", "--dev", "--host", args.host, "--port", str(portal_port),
            "--gateway", f"http://{args.host}:{args.gateway_port}", "--registry", registry_url,
        ),
        endpoint="/",
        health="/healthz",
        health_expects=(("service", "portal"),),
    )  # fmt: skip
    return [*subgraphs, *rest, registry, gateway, portal]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address of every service (loopback: %(default)s)"
    )
    add_exposure_argument(parser)
    parser.add_argument(
        "--base-port", type=int, default=4001, help="port of the first subgraph (%(default)s)"
    )
    parser.add_argument(
        "--rest-base-port",
        type=int,
        default=4101,
        help="port of the first REST OPD (%(default)s)",
    )
    parser.add_argument(
        "--gateway-port", type=int, default=4000, help="port of the gateway (%(default)s)"
    )
    parser.add_argument(
        "--registry-port", type=int, default=4100, help="port of the registry (%(default)s)"
    )
    parser.add_argument(
        "--portal-port", type=int, help="port of the portal (default: the gateway's + 200, 4200)"
    )
    parser.add_argument("--seed", type=int, default=18, help="generator seed (%(default)s)")
    parser.add_argument(
        "--scale", type=float, default=0.001, help="fraction of the real population (%(default)s)"
    )
    parser.add_argument(
        "--no-watch", action="store_true", help="do not republish changed subgraphs"
    )


def _wait_ready(host: str, service: Service, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    url = f"http://{host}:{service.port}{service.health}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200:
                body = response.json()
                return all(body.get(k) == v for k, v in service.health_expects)
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    return False


def _start(service: Service) -> subprocess.Popen[bytes]:
    env = {**os.environ, **dict(service.env)} if service.env else None
    return subprocess.Popen(service.argv, stdout=subprocess.DEVNULL, env=env)


def _all_ready(host: str, pending: list[tuple[Service, subprocess.Popen[bytes]]]) -> bool:
    """Wait for each started service in turn, print where it listens, and empty `pending`."""
    while pending:
        service, proc = pending.pop(0)
        if not _wait_ready(host, service, proc):
            print(f"{service.name} failed to start (exit {proc.poll()})", file=sys.stderr)
            return False
        print(f"{service.name:<14} http://{host}:{service.port}{service.endpoint}", flush=True)
    return True


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Publisher:
    """Publishes one subgraph to the development registry and prints the verdict."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.registry = f"http://{args.host}:{args.registry_port}"
        self.host = args.host
        self.base_port = args.base_port
        self.rest_base_port = args.rest_base_port

    def url(self, name: str) -> str:
        """The routing URL: a subgraph's endpoint; a REST OPD's base (the gateway calls it)."""
        if name in REST_NAMES:
            return f"http://{self.host}:{self.rest_base_port + REST_NAMES.index(name)}"
        return f"http://{self.host}:{self.base_port + SUBGRAPH_NAMES.index(name)}/graphql"

    def publish(self, name: str, sdl_from: str | None = None, start: bool = False) -> bool:
        """Publish ``name`` with the SDL of ``sdl_from`` (a file; default: what it serves).

        At start-up (``start``) the code on disk is the truth: a version refused only for breaking
        changes to fields used in an earlier session is published anyway, by an admin override
        the log records; a composition error still stops ``jamajama dev``.
        """
        from gateway.composition.cli import fetch_sdl
        from gateway.registry.cli import submit
        from gateway.registry.client import RegistryClient
        from gateway.registry.tokens import DEV_ADMIN_TOKEN, dev_token

        url = self.url(name)
        if sdl_from is None and name in REST_NAMES:
            sdl_from = str(rest_sdl(name))  # a connector SDL: the file is what it serves
        # the development registry has team tokens for the five subgraphs; the admin publishes
        # the REST OPDs' connector SDLs
        token = DEV_ADMIN_TOKEN if name in REST_NAMES else dev_token(name)
        try:
            sdl = Path(sdl_from).read_text() if sdl_from else fetch_sdl(url)
            with RegistryClient(self.registry, token) as client:
                status, body, lines = submit(client, name, url, sdl, dry_run=False, diff=not start)
            if start and status == 409:
                with RegistryClient(self.registry, DEV_ADMIN_TOKEN) as admin:
                    reason = "jamajama dev start-up: publishes what the code serves"
                    status, body, lines = submit(
                        admin, name, url, sdl, dry_run=False, diff=False, override_reason=reason
                    )
                start = False  # say so
        except (OSError, ValueError, httpx.HTTPError) as error:
            print(f"{name}: cannot publish: {error}", file=sys.stderr, flush=True)
            return False
        accepted = bool(body.get("accepted"))
        if not accepted or not start:
            print("\n".join(lines), file=sys.stdout if accepted else sys.stderr, flush=True)
        return accepted


def _snapshot() -> dict[Path, float]:
    """The watched files and their modification times."""
    files = [
        *(ROOT / "subgraphs" / f"{name}.py" for name in SUBGRAPH_NAMES),
        *(ROOT / "schema" / f"{name}.graphql" for name in SUBGRAPH_NAMES),
        *(ROOT / "subgraphs" / "rest" / f"{name}.py" for name in REST_NAMES),
        *(rest_sdl(name) for name in REST_NAMES),
    ]
    return {path: path.stat().st_mtime for path in files if path.exists()}


def changed_files(before: dict[Path, float], after: dict[Path, float]) -> Iterator[Path]:
    for path, mtime in after.items():
        if before.get(path) != mtime:
            yield path


class Loop:
    """The running processes and what a changed file does to them."""

    def __init__(self, args: argparse.Namespace, procs: dict[str, subprocess.Popen[bytes]]):
        self.args = args
        self.procs = procs
        self.publisher = Publisher(args)

    def on_change(self, path: Path) -> None:
        name = path.stem
        if path.suffix == ".graphql":
            print(f"{path.relative_to(ROOT)} changed: publishing it", flush=True)
            self.publisher.publish(name, sdl_from=str(path))
            return
        print(f"{path.relative_to(ROOT)} changed: restarting {name}", flush=True)
        rest = name in REST_NAMES
        if rest:
            service = rest_service(self.args, REST_NAMES.index(name))
        else:
            service = subgraph_service(self.args, SUBGRAPH_NAMES.index(name))
        _stop([self.procs[name]])
        self.procs[name] = _start(service)
        if not _wait_ready(self.args.host, service, self.procs[name]):
            print(f"{name} failed to start: fix it and save again", file=sys.stderr, flush=True)
            return
        if not rest:  # a REST OPD's connector SDL is a file of its own (published when saved)
            self.publisher.publish(name)

    def watch(self) -> int:
        """Until a registry or gateway process exits (a subgraph may fail and be fixed)."""
        seen = _snapshot()
        essential = [self.procs["registry"], self.procs["gateway"]]
        while all(p.poll() is None for p in essential):
            time.sleep(WATCH_INTERVAL_S)
            if self.args.no_watch:
                continue
            now = _snapshot()
            for path in changed_files(seen, now):
                self.on_change(path)
            seen = now
        failed = next(p for p in essential if p.poll() is not None)
        print(f"a service exited (code {failed.returncode}); stopping the others", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    refused = exposure_refused(args.host, True, args.dangerously_expose_dev_auth)
    if refused is not None:
        print(f"jamajama dev: {refused}", file=sys.stderr)
        return 2
    started = time.monotonic()
    planned = services(args)
    busy = [s for s in planned if _port_in_use(args.host, s.port)]
    if busy:
        ports = ", ".join(f"{s.name} {s.port}" for s in busy)
        print(
            f"port(s) already in use: {ports}; stop what uses them or pass --base-port, "
            "--rest-base-port, --registry-port, --gateway-port, --portal-port",
            file=sys.stderr,
        )
        return 1
    # Generate the shared stores once, before the subgraphs start reading them.
    prepared = subprocess.run(_jamajama("subgraph", "generate", *_data_args(args)), check=False)
    if prepared.returncode != 0:
        return prepared.returncode

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        pending: list[tuple[Service, subprocess.Popen[bytes]]] = []
        for service in planned:
            if service.after_previous:
                if not _all_ready(args.host, pending):
                    return 1
                publisher = Publisher(args)
                names = (*SUBGRAPH_NAMES, *REST_NAMES)
                if not all(publisher.publish(n, start=True) for n in names):
                    return 1
            procs[service.name] = _start(service)
            pending.append((service, procs[service.name]))
        if not _all_ready(args.host, pending):
            return 1
        watching = "" if args.no_watch else "; watching subgraphs/ and schema/"
        print(
            f"all services up in {time.monotonic() - started:.1f} s{watching}; Ctrl-C stops them",
            flush=True,
        )
        return Loop(args, procs).watch()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(list(procs.values()))
