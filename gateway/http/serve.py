"""`jamajama gateway`: serve a supergraph over HTTP with uvicorn (uvloop, httptools if present)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import uvicorn

from gateway.auth.guard import HttpGuard
from gateway.auth.setup import dev_settings, links_authorization, secure_gateway
from gateway.config import load_settings
from gateway.engine import Gateway
from gateway.errors import GatewayError
from gateway.gc_tuning import tune_garbage_collector
from gateway.http.setup import HttpServices
from gateway.reload import ReloadingGateway


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--supergraph", type=Path, help="the supergraph SDL file")
    parser.add_argument(
        "--registry",
        help="follow this schema registry (hot reload) instead of --supergraph; "
        "default [registry_poll] url",
    )
    parser.add_argument(
        "--subgraph",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="compose the supergraph at start from live subgraphs (_service { sdl }; repeatable) "
        "instead of --supergraph",
    )
    parser.add_argument("--host", help="address to listen on (default [server] host, 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, help="port to listen on, 0: any free (default [server] port, 4000)"
    )
    parser.add_argument(
        "--subgraph-url",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="route subgraph NAME to URL instead of its supergraph routing URL (repeatable)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    parser.add_argument(
        "--config", type=Path, help="configuration file (TOML, docs/configuration.md)"
    )
    parser.add_argument(
        "--deduplicate-requests",
        action="store_true",
        help="identical queries in flight share one execution (gateways without access "
        "control only; default [server] deduplicate_requests)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes sharing the port (default [server] workers, 1); with metrics, "
        "set PROMETHEUS_MULTIPROC_DIR",
    )
    parser.add_argument(
        "--dev-auth",
        action="store_true",
        help="accept development tokens (jamajama token mint) for the demo applications",
    )


def parse_subgraph_urls(pairs: list[str]) -> dict[str, str]:
    """``["name=url", ...]`` -> ``{name: url}``; raises ValueError on a malformed pair."""
    urls: dict[str, str] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not name or not url:
            raise ValueError(f"--subgraph-url expects NAME=URL, got {pair!r}")
        urls[name] = url
    return urls


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run(args: argparse.Namespace) -> int:
    try:
        server = load_settings(args.config).server
    except GatewayError as error:
        print(f"jamajama gateway: {error.message} ({error.code})", file=sys.stderr)
        return 1
    # Command-line options win over [server] in the configuration.
    args.host = args.host if args.host is not None else server.host
    args.port = args.port if args.port is not None else server.port
    args.supergraph = args.supergraph if args.supergraph is not None else server.supergraph
    args.subgraph_url = [f"{n}={u}" for n, u in server.subgraph_urls.items()] + args.subgraph_url
    workers = args.workers if args.workers is not None else server.workers
    if workers > 1:
        return _run_workers(args, workers)
    return _run_one(args)


def _run_one(args: argparse.Namespace) -> int:
    if args.supergraph is None and not args.subgraph:
        return _run_from_registry(args)
    try:
        urls = parse_subgraph_urls(args.subgraph_url)
        sdl = _compose_live(args.subgraph) if args.subgraph else args.supergraph.read_text()
    except _CompositionRefused as refused:
        print(f"jamajama gateway: the subgraphs do not compose:\n{refused}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        print(f"jamajama gateway: cannot fetch a subgraph's SDL: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"jamajama gateway: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"jamajama gateway: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config)
        if args.dev_auth:
            settings = dev_settings(settings, Path("var/dev"))
        services = HttpServices.from_settings(settings, logs=True)
        guard: HttpGuard | None = None
        if settings.auth.enabled and links_authorization(sdl):
            gateway, guard = secure_gateway(
                sdl, settings, subgraph_urls=urls, **services.gateway_options()
            )
        else:
            gateway = Gateway.from_supergraph_sdl(
                sdl,
                subgraph_urls=urls,
                deduplicate_requests=args.deduplicate_requests
                or settings.server.deduplicate_requests,
                **services.gateway_options(),
            )
    except GatewayError as error:
        print(f"jamajama gateway: {error.message} ({error.code})", file=sys.stderr)
        return 1
    unknown = sorted(set(urls) - set(gateway.supergraph.subgraphs))
    if unknown:
        print(f"jamajama gateway: unknown subgraph(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    return _serve(args, gateway, guard, services)


class _CompositionRefused(Exception):
    """The live subgraphs do not compose; the message lists every finding."""


def _compose_live(specs: list[str]) -> str:
    """The supergraph of live subgraphs, each asked for ``_service { sdl }`` at its URL."""
    from gateway.composition.cli import collect_sources
    from gateway.composition.compose import compose

    for spec in specs:
        if not spec.partition("=")[2].startswith(("http://", "https://")):
            raise ValueError(f"--subgraph expects NAME=URL, got {spec!r}")
    result = compose(collect_sources(specs, None, {}))
    if result.supergraph_sdl is None or result.errors:
        raise _CompositionRefused("\n".join(f"  {error}" for error in result.errors))
    return result.supergraph_sdl


def _run_from_registry(args: argparse.Namespace) -> int:
    """Serve the registry's supergraph and hot-reload new versions (docs/registry.md)."""
    from gateway.registry.usage import HttpUsageSink, UsageRecorder
    from gateway.reload import gateway_factory, reloading_gateway_from_registry

    try:
        urls = parse_subgraph_urls(args.subgraph_url)
        settings = load_settings(args.config)
        if args.dev_auth:
            settings = dev_settings(settings, Path("var/dev"))
        poll = settings.registry_poll
        if args.registry:
            poll = poll.model_copy(update={"url": args.registry})
            settings = settings.model_copy(update={"registry_poll": poll})  # GraphiQL's links
        if not poll.url:
            print("jamajama gateway: give --supergraph FILE or --registry URL", file=sys.stderr)
            return 2
        services = HttpServices.from_settings(settings, logs=True)
        transport = services.transport
        factory, guard = gateway_factory(settings, transport, urls)
        factory = services.factory(factory)
        usage = None
        if poll.usage_token is not None:
            sink = HttpUsageSink(poll.url, poll.usage_token.get_secret_value())
            usage = UsageRecorder(sink)
        gateway = reloading_gateway_from_registry(factory, poll, usage=usage)
    except ValueError as error:
        print(f"jamajama gateway: {error}", file=sys.stderr)
        return 2
    except GatewayError as error:
        print(f"jamajama gateway: {error.message} ({error.code})", file=sys.stderr)
        return 1
    return _serve(args, gateway, guard, services)


def _serve(
    args: argparse.Namespace,
    gateway: Gateway | ReloadingGateway,
    guard: HttpGuard | None,
    services: HttpServices,
) -> int:
    inherited: socket.socket | None = getattr(args, "listen_socket", None)
    sock = inherited or _listen(args)
    if sock is None:
        return 1
    if load_settings(args.config).server.tune_gc:
        tune_garbage_collector()
    config = uvicorn.Config(
        services.app(gateway, guard),
        loop="uvloop" if _installed("uvloop") else "asyncio",
        http="httptools" if _installed("httptools") else "h11",
        log_level=args.log_level,
        access_log=False,
    )
    if inherited is None:
        _announce(args, sock)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _listen(args: argparse.Namespace) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        print(
            f"jamajama gateway: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        sock.close()
        return None
    # Listening before the line is printed: connections made as soon as it appears are queued.
    sock.listen(2048)
    return sock


def _announce(args: argparse.Namespace, sock: socket.socket) -> None:
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if sock.family == socket.AF_INET6 else args.host
    print(f"Jama Jama gateway listening on http://{host}:{port}/graphql", flush=True)


def _run_workers(args: argparse.Namespace, workers: int) -> int:
    """Fork ``workers`` processes serving one listening socket; each builds its own gateway
    (connections, stores and caches are never shared across a fork). The parent forwards
    SIGTERM/SIGINT, drops dead workers' live metrics, and exits with the worst exit code."""
    from gateway.observability.metrics import mark_process_dead, multiprocess_dir

    directory = multiprocess_dir()
    if directory is None and load_settings(args.config).telemetry.metrics:
        print(
            "jamajama gateway: several workers need PROMETHEUS_MULTIPROC_DIR (an empty, "
            "writable directory) for correct metrics",
            file=sys.stderr,
        )
        return 2
    if directory is not None:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    sock = _listen(args)
    if sock is None:
        return 1
    _announce(args, sock)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            args.listen_socket = sock
            code = 1
            try:
                code = _run_one(args)
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def stop(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worst = 0
    for child in children:
        _, status = os.waitpid(child, 0)
        mark_process_dead(child)
        worst = max(worst, os.waitstatus_to_exitcode(status))
    return worst
