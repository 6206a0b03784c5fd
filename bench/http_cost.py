#!/usr/bin/env python3
"""The gateway's CPU per TestQuery through its real ASGI app, in process (issue 15 goal 1).

``bench/engine_cost.py`` measures the engine alone; this measures what the HTTP layer adds on
top: the app of ``jamajama gateway`` (``gateway.assembly.assemble`` on the bench config, metrics
and logs as served) called as ASGI with a prebuilt ``POST /graphql`` — no sockets, no uvicorn —
so the difference to engine_cost is Starlette routing, middleware, body parse, the endpoint,
metrics, response encoding and headers. Each tree (``--tree NAME=DIR``) runs in a worker process
of its own (pinned to CPU 0 with ``taskset``), the bench subgraphs in one more (CPU 1). Every
worker checks its answer (status, content type, body) against the reference first; then the
parent asks each worker in turn for a round of requests and collects its CPU time
(``getrusage``) per request: alternating rounds, so every tree sees the same machine.

    .venv/bin/python bench/http_cost.py --tree before=../wt-base --tree after=. --rounds 15
    .venv/bin/python bench/http_cost.py --profile 3000 --sharing off   # CPU-time samples

``--tree NAME=DIR:engine`` runs that tree's worker on the same assembled gateway but calls the
engine (``Gateway.process``) directly, without the app: the app's own cost is the difference.
``--tree NAME=DIR:stub`` keeps the app and replaces the engine with a stub answering the
reference response at once: the app's own CPU per request (response encoding included) without
the engine's noise (``--concurrency 1`` for the least).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the bench subgraphs)

SHARED = Path("/work/shared/bench")
CONFIG = {"on": "jamajama.toml", "off": "jamajama-noshare.toml"}


def _scope(body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:4000"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/graphql-response+json, application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 4000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": headers,
    }


async def _call(app: Any, body: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through the ASGI app, as uvicorn would make it."""
    sent = False
    status = 0
    headers: dict[bytes, bytes] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update(message.get("headers") or ())
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(body), receive, send)
    return status, headers, b"".join(chunks)


async def _worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(args.worker_tree).resolve()))
    import logging

    from gateway.assembly import assemble
    from gateway.config import load_settings

    query = json.loads((SHARED / "query.json").read_text())
    expected = json.loads((SHARED / "expected.json").read_text())
    settings = load_settings(BENCH / "gateways" / CONFIG[args.sharing])
    assembly = assemble(settings, supergraph_sdl=Path(args.supergraph).read_text(), logs=True)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # jamajama gateway's default
    app = assembly.app
    body = json.dumps(query).encode()

    async def one() -> None:
        status, _, answer = await _call(app, body)
        if status != 200 or b"errors" in answer[:12]:
            raise SystemExit(f"{args.worker_tree}: status {status}: {answer[:200]!r}")

    if args.layer == "stub":  # the engine answers at once: what is left is the app
        from gateway.engine import GatewayResult

        async def at_once(request: Any) -> Any:
            return GatewayResult(response=expected)

        assembly.gateway.process = at_once  # type: ignore[method-assign]

    if args.layer == "engine":
        from gateway.engine import GraphQLRequest

        async def one() -> None:  # the engine alone, on the same gateway
            request = GraphQLRequest(query["query"], None, query.get("operationName"))
            if (await assembly.gateway.process(request)).response.get("errors"):
                raise SystemExit(f"{args.worker_tree}: errors")

    async with app.router.lifespan_context(app):
        status, headers, answer = await _call(app, body)
        if status != 200 or json.loads(answer) != expected:
            raise SystemExit(f"{args.worker_tree}: wrong answer ({status})")
        if not headers.get(b"content-type", b"").startswith(b"application/graphql-response+json"):
            raise SystemExit(f"{args.worker_tree}: content type {headers.get(b'content-type')!r}")
        for _ in range(20):  # warm caches and connections
            await one()

        async def batch(requests: int) -> None:
            for _ in range(requests // args.concurrency):
                await asyncio.gather(*(one() for _ in range(args.concurrency)))

        if args.profile:
            from engine_cost import _print_profile, _sampled

            _print_profile(await _sampled(batch(args.profile)))
            return
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "round":
            before = resource.getrusage(resource.RUSAGE_SELF)
            await batch(args.per_round)
            after = resource.getrusage(resource.RUSAGE_SELF)
            user = (after.ru_utime - before.ru_utime) / args.per_round * 1000
            system = (after.ru_stime - before.ru_stime) / args.per_round * 1000
            print(json.dumps({"cpu_ms": user + system, "user_ms": user}), flush=True)


def _parent(args: argparse.Namespace, supergraph: Path) -> None:
    workers: dict[str, subprocess.Popen[str]] = {}
    for spec in args.tree:
        name, _, tree = spec.partition("=")
        tree, _, layer = tree.partition(":")
        command = [sys.executable, __file__, "--worker-tree", tree, "--supergraph"]
        command += [str(supergraph), "--sharing", args.sharing]
        command += ["--layer", layer or "app"]
        command += ["--concurrency", str(args.concurrency), "--per-round", str(args.per_round)]
        if args.profile:
            command += ["--profile", str(args.profile)]
        if shutil.which("taskset"):
            command = ["taskset", "-c", "0", *command]
        workers[name] = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        if args.profile:
            out, _ = workers[name].communicate()
            print(out)
            return
    for name, worker in workers.items():
        assert worker.stdout is not None
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit(f"{name}: did not start")
    cpu: dict[str, list[float]] = {name: [] for name in workers}
    for _ in range(args.rounds):
        for name, worker in workers.items():
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write("round\n")
            worker.stdin.flush()
            cpu[name].append(json.loads(worker.stdout.readline())["cpu_ms"])
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.write("stop\n")
        worker.stdin.close()
        worker.wait()
    print(
        f"through the ASGI app: sharing {args.sharing}, concurrency {args.concurrency}, "
        f"{args.rounds} rounds of {args.per_round} requests"
    )
    base = next(iter(cpu))
    for name, values in cpu.items():
        # each round's ratio to the first tree's round just before it: drift cancels out
        paired = statistics.median(v / b for v, b in zip(values, cpu[base], strict=True))
        print(
            f"{name:>8}: CPU ms/request median {statistics.median(values):.3f} "
            f"(min {min(values):.3f}, max {max(values):.3f}), vs {base} (paired) {paired:.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR (repeatable)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--sharing", choices=("on", "off"), default="off")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--worker-tree", help=argparse.SUPPRESS)
    parser.add_argument("--layer", default="app", help=argparse.SUPPRESS)
    parser.add_argument("--supergraph", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_tree:
        import uvloop  # the loop the gateway serves on (uvicorn[standard])

        sys.path.insert(0, str(BENCH))
        uvloop.run(_worker(args))
        return 0
    if not args.tree:
        args.tree = [f"this={BENCH.parent}"]
    with run.bench_subgraphs() as supergraph:
        _parent(args, supergraph)
    return 0


if __name__ == "__main__":
    sys.exit(main())
