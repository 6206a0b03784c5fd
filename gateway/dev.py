"""``jamajama dev``: the whole system on one machine, on embedded defaults.

Generates (or finds cached) the OPD stores once, then starts every service as its own process
(``jamajama subgraph serve NAME`` on ports 4001..4005) and prints one line per service saying
where it listens. Ctrl-C stops them all.

Adding a service (e.g. the gateway on port 4000) means appending a :class:`Service` in
:func:`services`; nothing else here changes.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

import httpx

#: the OPD subgraphs in start order, with their default ports (mirrors ``subgraphs.SUBGRAPHS``).
SUBGRAPH_PORTS: tuple[tuple[str, int], ...] = (
    ("wilayah", 4001),
    ("kependudukan", 4002),
    ("kesehatan", 4003),
    ("pendidikan", 4004),
    ("sosial", 4005),
)
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Service:
    """One process ``jamajama dev`` starts: how to run it and how to know it is ready."""

    name: str
    port: int
    argv: tuple[str, ...]
    endpoint: str = "/graphql"
    health: str = "/health"


def _jamajama(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "gateway.cli", *args)


def _data_args(args: argparse.Namespace) -> tuple[str, ...]:
    return ("--seed", str(args.seed), "--scale", str(args.scale))


def services(args: argparse.Namespace) -> list[Service]:
    """Everything ``jamajama dev`` runs, in start order.

    Hook for the gateway: append ``Service("gateway", 4000, _jamajama("gateway", ...))`` here
    (after the subgraphs, so it can compose them once they answer).
    """
    return [
        Service(
            name,
            port,
            _jamajama(
                "subgraph",
                "serve",
                name,
                "--host",
                args.host,
                "--port",
                str(port),
                *_data_args(args),
            ),
        )
        for name, port in SUBGRAPH_PORTS
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
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
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
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
    # Generate the shared stores once, before the subgraphs start reading them.
    prepared = subprocess.run(_jamajama("subgraph", "generate", *_data_args(args)), check=False)
    if prepared.returncode != 0:
        return prepared.returncode

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for service in services(args):
            proc = subprocess.Popen(service.argv, stdout=subprocess.DEVNULL)
            procs.append(proc)
            if not _wait_ready(args.host, service, proc):
                print(f"{service.name} failed to start (exit {proc.poll()})", file=sys.stderr)
                return 1
            print(f"{service.name:<14} http://{args.host}:{service.port}{service.endpoint}",
                  flush=True)  # fmt: skip
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
