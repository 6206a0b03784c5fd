#!/usr/bin/env python3
"""The engine's own CPU per TestQuery, two source trees side by side (issue 15 goals 1 and 2).

Each tree (``--tree NAME=DIR``, e.g. an ``integ`` worktree as "before" and this one as "after")
runs in a worker process of its own: an in-process gateway (``Gateway`` with the lean transport,
subgraph sharing on or off) answering TestQuery against the bench subgraphs, which run in one
more process (pinned to CPU 1 with ``taskset`` when available). Every worker checks its answer
against the reference first. Then the parent asks each worker in turn for a round of requests
(``--concurrency`` at a time) and collects the worker's CPU time (``time.process_time``) per
request and subgraph requests per operation: alternating rounds, so every tree sees the same
machine, and CPU time, which a busy machine disturbs far less than wall time.

    .venv/bin/python bench/engine_cost.py --tree before=../wt-base --tree after=. --rounds 15
    .venv/bin/python bench/engine_cost.py --profile 2000 --sharing off  # CPU-time samples

``--profile N`` runs N requests in the first tree's worker, sampling its stack every millisecond
of CPU time, and prints each function's share instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import signal
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the bench subgraphs)

SHARED = Path("/work/shared/bench")


class Counting:
    """Counts the subgraph requests a gateway sends, and the requests a run-time coalescer would
    send: one per subgraph per event-loop turn (the fetches to one subgraph that became ready
    in the same turn, so that joining them delays none; issue 15 goal 2)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0
        self.coalesced = 0
        self._turn: set[str] | None = None

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.count += 1
        if self._turn is None:
            # runs in the next turn: every fetch made before it was made in this turn
            self._turn = set()
            asyncio.get_running_loop().call_soon(self._end_turn)
        if subgraph not in self._turn:
            self._turn.add(subgraph)
            self.coalesced += 1
        return await self.inner.fetch(subgraph, url, body)

    def _end_turn(self) -> None:
        self._turn = None


async def _sampled(work: Any) -> Counter[tuple[str, ...]]:
    """Stacks sampled every millisecond of this process's CPU time (``ITIMER_PROF``): a profile
    that neither waits for a core nor slows small functions down as a tracing profiler does."""
    stacks: Counter[tuple[str, ...]] = Counter()

    def sample(signum: int, frame: FrameType | None) -> None:
        names = []
        while frame is not None:
            code = frame.f_code
            names.append(f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})")
            frame = frame.f_back
        stacks[tuple(reversed(names))] += 1

    signal.signal(signal.SIGPROF, sample)
    signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
    try:
        await work
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    return stacks


def _print_profile(stacks: Counter[tuple[str, ...]]) -> None:
    """Each function's share of the samples: inclusive (it or what it calls) and its own."""
    total = sum(stacks.values())
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, count in stacks.items():
        for name in set(stack):
            inclusive[name] += count
        if stack:
            own[stack[-1]] += count
    print(f"{total} samples (1 per ms of CPU)")
    print("inclusive:")
    for name, count in inclusive.most_common(40):
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("own:")
    for name, count in own.most_common(25):
        print(f"  {100 * count / total:5.1f} %  {name}")


async def _worker(args: argparse.Namespace) -> None:
    """One tree's gateway: answer one line per round on stdout (CPU ms/request, requests/op)."""
    sys.path.insert(0, str(Path(args.worker_tree).resolve()))
    from gateway.engine import Gateway
    from gateway.executor.lean_transport import LeanTransport
    from gateway.supergraph import load_supergraph

    query = json.loads((SHARED / "query.json").read_text())
    expected = json.loads((SHARED / "expected.json").read_text())
    transport = Counting(LeanTransport(deduplicate=args.sharing == "on"))
    supergraph = load_supergraph(Path(args.supergraph).read_text())
    gateway = Gateway(supergraph, transport=transport)

    async def one() -> dict[str, Any]:
        return await gateway.execute(query["query"], None, query.get("operationName"))

    if await one() != expected:
        raise SystemExit(f"{args.worker_tree}: wrong answer")
    for _ in range(20):  # warm caches and connections
        await one()

    async def batch(requests: int) -> None:
        for _ in range(requests // args.concurrency):
            await asyncio.gather(*(one() for _ in range(args.concurrency)))

    if args.profile:
        _print_profile(await _sampled(batch(args.profile)))
        return
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "round":
        transport.count = transport.coalesced = 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        await batch(args.per_round)
        after = resource.getrusage(resource.RUSAGE_SELF)
        user = (after.ru_utime - before.ru_utime) / args.per_round * 1000
        system = (after.ru_stime - before.ru_stime) / args.per_round * 1000
        result = {"cpu_ms": user + system, "user_ms": user, "sys_ms": system}
        result["requests"] = transport.count / args.per_round
        result["coalesced"] = transport.coalesced / args.per_round
        print(json.dumps(result), flush=True)
    await transport.inner.aclose()


def _parent(args: argparse.Namespace, supergraph: Path) -> None:
    workers: dict[str, subprocess.Popen[str]] = {}
    for spec in args.tree:
        name, _, tree = spec.partition("=")
        command = [sys.executable, __file__, "--worker-tree", tree, "--supergraph"]
        command += [str(supergraph), "--sharing", args.sharing]
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
    requests: dict[str, tuple[float, float]] = {}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in workers}
    for _ in range(args.rounds):
        for name, worker in workers.items():
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write("round\n")
            worker.stdin.flush()
            result = json.loads(worker.stdout.readline())
            cpu[name].append(result["cpu_ms"])
            requests[name] = (result["requests"], result["coalesced"])
            rounds[name].append(result)
    for worker in workers.values():
        assert worker.stdin is not None
        worker.stdin.write("stop\n")
        worker.stdin.close()
        worker.wait()
    print(
        f"sharing {args.sharing}, concurrency {args.concurrency}, "
        f"{args.rounds} rounds of {args.per_round} requests"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rounds, indent=1))
    base = next(iter(cpu))
    for name, values in cpu.items():
        # each round's ratio to the first tree's round just before it: the machine's drift
        # between rounds cancels out
        paired = statistics.median(v / b for v, b in zip(values, cpu[base], strict=True))
        user = statistics.median(r["user_ms"] for r in rounds[name])
        system = statistics.median(r["sys_ms"] for r in rounds[name])
        print(
            f"{name:>8}: CPU ms/request median {statistics.median(values):.3f} "
            f"(user {user:.3f}, system {system:.3f}) "
            f"(min {min(values):.3f}, max {max(values):.3f}), "
            f"subgraph requests/op {requests[name][0]:.2f} (same-turn coalesced: "
            f"{requests[name][1]:.2f}), vs {base} (median of paired rounds) "
            f"{paired:.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="NAME=DIR (repeatable)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--sharing", choices=("on", "off"), default="off")
    parser.add_argument("--profile", type=int, default=0)
    parser.add_argument("--json", help="write every round's figures to this file")
    parser.add_argument("--worker-tree", help=argparse.SUPPRESS)
    parser.add_argument("--supergraph", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_tree:
        import uvloop  # the loop the gateway serves on (uvicorn[standard])

        uvloop.run(_worker(args))
        return 0
    if not args.tree:
        args.tree = [f"this={BENCH.parent}"]
    with run.bench_subgraphs() as supergraph:
        _parent(args, supergraph)
    return 0


if __name__ == "__main__":
    sys.exit(main())
