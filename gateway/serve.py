"""`jamajama gateway`: serve a supergraph over HTTP with uvicorn (uvloop, httptools if present).

This module turns the command line and ``[server]`` into ``StartOptions``, finds the supergraph
(file, live subgraphs or the registry) and hands the rest to the composition root,
``gateway.assembly.assemble``. With ``--workers N`` uvicorn's own supervisor runs N worker
processes, each accepting on its own ``SO_REUSEPORT`` socket of the port, and replaces a worker
that dies; each worker assembles its own gateway
(connections, stores and caches are never shared across processes).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from gateway.assembly import Assembly, assemble, links_authorization
from gateway.audit.keys import require_production_keys
from gateway.auth.exposure import add_exposure_argument, exposure_refused
from gateway.auth.identifiers import require_identifier_key
from gateway.config import Settings, dev_settings, load_settings
from gateway.errors import GatewayError
from gateway.gc_tuning import tune_garbage_collector
from gateway.observability.metrics import mark_process_dead, multiprocess_dir
from gateway.subscriptions.manager import SubscriptionManager

logger = logging.getLogger("jamajama.serve")

#: the start options of `jamajama gateway --workers N`, for the worker processes (JSON)
WORKER_OPTIONS_ENV = "JAMAJAMA_GATEWAY_WORKER_OPTIONS"


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
        help="accept development tokens (jamajama token mint) for the demo applications; "
        "loopback hosts only",
    )
    add_exposure_argument(parser)


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


class StartError(Exception):
    """The gateway cannot start; ``message`` is for the operator, ``exit_code`` for the shell."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class StartOptions:
    """What `jamajama gateway` was asked to serve, command line over ``[server]``."""

    config: str | None
    host: str
    port: int
    supergraph: str | None
    subgraphs: tuple[str, ...]
    subgraph_urls: tuple[str, ...]
    registry: str | None
    dev_auth: bool
    deduplicate: bool | None
    log_level: str
    tune_gc: bool
    metrics: bool


def start_options(args: argparse.Namespace) -> tuple[StartOptions, int]:
    """The options and the number of workers; raises ``StartError`` on a bad configuration."""
    try:
        settings = load_settings(args.config)
    except GatewayError as error:
        raise StartError(f"{error.message} ({error.code})") from error
    server = settings.server
    supergraph = args.supergraph if args.supergraph is not None else server.supergraph
    options = StartOptions(
        config=str(args.config) if args.config is not None else None,
        host=args.host if args.host is not None else server.host,
        port=args.port if args.port is not None else server.port,
        supergraph=str(supergraph) if supergraph is not None else None,
        subgraphs=tuple(args.subgraph),
        subgraph_urls=(*(f"{n}={u}" for n, u in server.subgraph_urls.items()), *args.subgraph_url),
        registry=args.registry,
        dev_auth=args.dev_auth,
        deduplicate=True if args.deduplicate_requests else None,
        log_level=args.log_level,
        tune_gc=server.tune_gc,
        metrics=settings.telemetry.metrics,
    )
    refused = exposure_refused(options.host, options.dev_auth, args.dangerously_expose_dev_auth)
    if refused is not None:
        raise StartError(refused, 2)
    return options, args.workers if args.workers is not None else server.workers


def run(args: argparse.Namespace) -> int:
    try:
        options, workers = start_options(args)
        if workers > 1:
            return _run_workers(options, workers)
        return _run_one(options)
    except StartError as error:
        print(f"jamajama gateway: {error.message}", file=sys.stderr)
        return error.exit_code


def build(options: StartOptions) -> Assembly:
    """The gateway of ``options`` through the composition root; raises ``StartError``."""
    try:
        urls = parse_subgraph_urls(list(options.subgraph_urls))
        settings = load_settings(Path(options.config) if options.config else None)
        if options.dev_auth:
            settings = dev_settings(settings, Path("var/dev"))
            print(_dev_auth_notice(settings), file=sys.stderr, flush=True)
        sdl = _supergraph_sdl(options)
        if not options.dev_auth and (sdl is None or links_authorization(sdl)):
            # the production profile (docs/configuration.md), on a supergraph that is audited
            require_production_keys(settings.audit, settings.auth.enabled)
            if settings.auth.enabled:
                require_identifier_key(settings.auth.identifiers)
        if sdl is None:
            poll = settings.registry_poll
            if options.registry:
                poll = poll.model_copy(update={"url": options.registry})
            if not poll.url:
                raise StartError("give --supergraph FILE or --registry URL", 2)
            settings = settings.model_copy(update={"registry_poll": poll})
        assembly = assemble(
            settings,
            supergraph_sdl=sdl,
            subgraph_urls=urls,
            deduplicate=options.deduplicate,
            logs=True,
        )
    except ValueError as error:
        raise StartError(str(error), 2) from error
    except GatewayError as error:
        raise StartError(f"{error.message} ({error.code})") from error
    unknown = sorted(set(urls) - set(assembly.gateway.supergraph.subgraphs))
    if unknown:
        raise StartError(f"unknown subgraph(s): {', '.join(unknown)}", 2)
    return assembly


def _dev_auth_notice(settings: Settings) -> str:
    """What ``--dev-auth`` changed, said at start (it replaces the token settings)."""
    audit = settings.audit
    where = (
        f"PostgreSQL table {audit.table}"
        if audit.backend == "postgres"
        else f"SQLite {audit.sqlite_path}"
    )
    return (
        "jamajama gateway: --dev-auth: development tokens (jamajama token mint) and the demo "
        f"applications in var/dev replace [auth]; audit log: {where}"
    )


def _supergraph_sdl(options: StartOptions) -> str | None:
    """The SDL of ``--supergraph`` or of the live ``--subgraph``s; None: follow the registry."""
    try:
        if options.subgraphs:
            return _compose_live(list(options.subgraphs))
        if options.supergraph is not None:
            return Path(options.supergraph).read_text()
    except _CompositionRefused as refused:
        raise StartError(f"the subgraphs do not compose:\n{refused}") from refused
    except httpx.HTTPError as error:
        raise StartError(f"cannot fetch a subgraph's SDL: {error}") from error
    except OSError as error:
        raise StartError(f"cannot read {error.filename}: {error.strerror}", 2) from error
    return None


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


#: uvicorn options of the gateway's edge: uvicorn does not rewrite the client address from
#: X-Forwarded-For (it would trust FORWARDED_ALLOW_IPS, 127.0.0.1 by default); the guard believes
#: forwarded addresses from ``[rate_limit] trusted_proxies`` only (gateway/ratelimit/client.py)
EDGE_OPTIONS: dict[str, object] = {"proxy_headers": False}


def _uvicorn_config(app: Starlette | str, options: StartOptions, **extra: object) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        loop="uvloop" if _installed("uvloop") else "asyncio",
        http="httptools" if _installed("httptools") else "h11",
        log_level=options.log_level,
        access_log=False,
        **{**EDGE_OPTIONS, **extra},  # type: ignore[arg-type]
    )


def _run_one(options: StartOptions) -> int:
    assembly = build(options)
    sock = _listen(options)
    if options.tune_gc:
        tune_garbage_collector()
    _announce(options, sock)
    server = _Server(_uvicorn_config(assembly.app, options))
    server.before_shutdown = getattr(assembly.app.state, "subscriptions", None)
    server.run(sockets=[sock])
    return 0


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM it drained cleanly ends with exit status 0.

    uvicorn re-raises the signal after its graceful shutdown, so the process dies of it (-15);
    supervisors and orchestrators then report a requested stop as a crash. SIGINT is re-raised
    as before (an interactive interrupt).
    """

    #: open subscriptions, ended (with their documented last message) before uvicorn waits for
    #: the connections to close: an event stream would otherwise keep it waiting
    before_shutdown: SubscriptionManager | None = None

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        subscriptions = self.before_shutdown or _worker_subscriptions
        if subscriptions is not None:
            await subscriptions.shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals = [
                    sig for sig in self._captured_signals if sig != signal.SIGTERM
                ]


def _listen(
    options: StartOptions, port: int | None = None, *, reuse_port: bool = False
) -> socket.socket:
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    port = options.port if port is None else port
    try:
        sock.bind((options.host, port))
    except OSError as error:
        sock.close()
        raise StartError(f"cannot listen on {options.host}:{port}: {error}") from error
    # Listening before the line is printed: connections made as soon as it appears are queued.
    sock.listen(2048)
    return sock


def listen_workers(options: StartOptions, workers: int) -> list[socket.socket]:
    """One listening socket per worker, all on one port (``SO_REUSEPORT``; the first one picks
    the port when it is 0). Only processes of the same user can join the port's group."""
    first = _listen(options, reuse_port=True)
    sockets = [first]
    try:
        for _ in range(workers - 1):
            sockets.append(_listen(options, first.getsockname()[1], reuse_port=True))
    except StartError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _announce(options: StartOptions, sock: socket.socket) -> None:
    port = sock.getsockname()[1]
    host = f"[{options.host}]" if sock.family == socket.AF_INET6 else options.host
    print(f"Jama Jama gateway listening on http://{host}:{port}/graphql", flush=True)


# --- several workers ----------------------------------------------------------------------------

#: the subscriptions of this worker process (set by ``worker_app``): its ``_Server`` ends them
#: first when the supervisor stops it, as ``_run_one`` does for a single process
_worker_subscriptions: SubscriptionManager | None = None


def worker_app() -> Starlette:
    """The app of one worker process (uvicorn's factory, called in the worker). A worker that
    cannot build its gateway exits with uvicorn's STARTUP_FAILURE code, which stops the
    supervisor instead of restarting the worker forever."""
    options = StartOptions(**json.loads(os.environ[WORKER_OPTIONS_ENV]))
    try:
        assembly = build(options)
    except StartError as error:
        print(f"jamajama gateway worker {os.getpid()}: {error.message}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    except Exception:  # any other failure would fail the same way in every replacement
        traceback.print_exc()
        sys.exit(STARTUP_FAILURE)
    if options.tune_gc:
        tune_garbage_collector()
    global _worker_subscriptions
    _worker_subscriptions = getattr(assembly.app.state, "subscriptions", None)
    return assembly.app


class _WorkerProcess(Process):
    """uvicorn's worker process, running ``_Server`` (subscriptions end before it stops)."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = _Server(config=self.config)
        return self._server


class _Supervisor(Multiprocess):
    """uvicorn's supervisor (restarts a worker that dies or stops answering its health pings),
    also dropping a dead worker's live metrics from the multi-process directory.

    Each worker slot has a listening socket of its own, all bound to the port with
    ``SO_REUSEPORT``: the kernel spreads new connections over them. With one shared socket, the
    worker that wakes first accepts a whole burst (measured: 49 of wrk's 50 connections on one
    worker, the other idle), and long-lived connections keep that imbalance. The parent keeps
    every socket open, so connections that arrive for a worker being replaced wait in its
    socket's backlog for the replacement, which gets the same socket."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets[:1])
        self.slots = list(sockets)

    def _process(self, idx: int) -> Process:
        return _WorkerProcess(self.config, [self.slots[idx]])

    def init_processes(self) -> None:
        for idx in range(self.processes_num):
            process = self._process(idx)
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:  # SIGHUP: uvicorn's, one slot at a time
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(idx)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                return
            old.terminate()
            old.join()
            self.processes[idx] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung, or dead already
            process.join()
            if process.pid is not None:
                mark_process_dead(process.pid)
            if process.exitcode == STARTUP_FAILURE:  # every replacement would fail the same way
                logger.error("worker %s failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info("worker %s died; replacing it", process.pid)
            replacement = self._process(idx)
            replacement.start()
            self.processes[idx] = replacement

    def handle_ttin(self) -> None:
        logger.warning("SIGTTIN ignored: the number of workers is fixed (--workers)")

    def handle_ttou(self) -> None:
        logger.warning("SIGTTOU ignored: the number of workers is fixed (--workers)")

    @property
    def failed(self) -> bool:
        # a worker stopped by the supervisor's own SIGTERM (uvicorn re-raises it) did not fail
        clean = (None, 0, -signal.SIGTERM) if self.should_exit.is_set() else (None, 0)
        return any(process.exitcode not in clean for process in self.processes)


def _run_workers(options: StartOptions, workers: int) -> int:
    directory = multiprocess_dir()
    if directory is None and options.metrics:
        raise StartError(
            "several workers need PROMETHEUS_MULTIPROC_DIR (an empty, writable directory) for "
            "correct metrics",
            2,
        )
    if options.supergraph is not None and not options.subgraphs:
        _supergraph_sdl(options)  # an unreadable file stops here, before any worker starts
    if directory is not None:
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    sockets = listen_workers(options, workers)
    _announce(options, sockets[0])
    os.environ[WORKER_OPTIONS_ENV] = json.dumps(asdict(options))
    config = _uvicorn_config("gateway.serve:worker_app", options, factory=True, workers=workers)
    supervisor = _Supervisor(config, sockets)
    supervisor.run()
    return 1 if supervisor.failed else 0
