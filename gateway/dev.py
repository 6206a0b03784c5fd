"""``jamajama dev``: the whole system on one machine, on embedded defaults.

Generates (or finds cached) the OPD stores once, then starts every service as its own process
(``jamajama subgraph serve NAME`` on ports 4001..4005, or from ``--base-port``) in parallel and
prints one line per service saying where it listens once it answers. Ctrl-C stops them all.

Adding a service (e.g. the gateway on port 4000) means appending a :class:`Service` in
:func:`services` (with ``after_previous=True`` if it needs the others up first); nothing else
here changes.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

#: the OPD subgraphs in start order (mirrors ``subgraphs.SUBGRAPHS``); ports base, base+1, ...
SUBGRAPH_NAMES: tuple[str, ...] = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")
READY_TIMEOUT_S = 60.0
#: the composed supergraph of the five OPD subgraphs (with their authorization directives)
SUPERGRAPH = Path(__file__).resolve().parent.parent / "schema" / "supergraph.graphql"


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
    #: start only once every service listed before it is ready (e.g. a gateway composing them)
    after_previous: bool = False


def _jamajama(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "gateway.cli", *args)


def _data_args(args: argparse.Namespace) -> tuple[str, ...]:
    return ("--seed", str(args.seed), "--scale", str(args.scale))


def services(args: argparse.Namespace) -> list[Service]:
    """Everything ``jamajama dev`` runs, in start order.

    The gateway comes last, once the subgraphs answer: it serves the committed supergraph
    (schema/supergraph.graphql) routed to these ports, accepting development tokens for the demo
    applications (``jamajama token mint APP``).
    """
    subgraphs = [
        Service(
            name,
            args.base_port + i,
            _jamajama(
                "subgraph",
                "serve",
                name,
                "--host",
                args.host,
                "--port",
                str(args.base_port + i),
                *_data_args(args),
            ),
            health_expects=(("subgraph", name),),
        )
        for i, name in enumerate(SUBGRAPH_NAMES)
    ]
    routes = [f"{s.name}=http://{args.host}:{s.port}/graphql" for s in subgraphs]
    gateway = Service(
        "gateway",
        args.gateway_port,
        _jamajama(
            "gateway",
            "--supergraph",
            str(SUPERGRAPH),
            "--host",
            args.host,
            "--port",
            str(args.gateway_port),
            "--dev-auth",
            *(arg for route in routes for arg in ("--subgraph-url", route)),
        ),
        health_expects=(("status", "ok"),),
        after_previous=True,
    )
    return [*subgraphs, gateway]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--base-port", type=int, default=4001, help="port of the first subgraph (%(default)s)"
    )
    parser.add_argument(
        "--gateway-port", type=int, default=4000, help="port of the gateway (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=18, help="generator seed (%(default)s)")
    parser.add_argument(
        "--scale", type=float, default=0.001, help="fraction of the real population (%(default)s)"
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


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    planned = services(args)
    busy = [s for s in planned if _port_in_use(args.host, s.port)]
    if busy:
        ports = ", ".join(f"{s.name} {s.port}" for s in busy)
        print(
            f"port(s) already in use: {ports}; stop what uses them or pass --base-port",
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
    procs: list[subprocess.Popen[bytes]] = []
    try:
        pending: list[tuple[Service, subprocess.Popen[bytes]]] = []
        for service in planned:
            if service.after_previous and not _all_ready(args.host, pending):
                return 1
            proc = subprocess.Popen(service.argv, stdout=subprocess.DEVNULL)
            procs.append(proc)
            pending.append((service, proc))
        if not _all_ready(args.host, pending):
            return 1
        print(
            f"all services up in {time.monotonic() - started:.1f} s; Ctrl-C stops them", flush=True
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = next(p for p in procs if p.poll() is not None)
        print(f"a service exited (code {failed.returncode}); stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(procs)
