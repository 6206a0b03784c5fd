#!/usr/bin/env python3
"""How much of our gateway's CPU per request is Python's cyclic garbage collector, by scale.

Starts the bench subgraphs at `--scale N`, runs the scaling scenario's query through an
in-process `Gateway` (no HTTP: execution and response assembly only), `--rounds` rounds of
`concurrency` requests at once, with the collector enabled and then disabled, and prints
CPU-ms per request for each. Process CPU time, so run it on a quiet core (taskset -c 0).

    taskset -c 0 .venv/bin/python bench/gc_probe.py --scale 100
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH / "subgraphs")]

from dataset import scale_query  # noqa: E402

from gateway.engine import Gateway  # noqa: E402
from gateway.gc_tuning import tune_garbage_collector  # noqa: E402


async def probe(sdl: str, scale: int, concurrencies: list[int], rounds: int) -> None:
    body = scale_query(scale)
    gateway = Gateway.from_supergraph_sdl(sdl)

    async def once() -> None:
        await gateway.execute(body["query"], body["variables"], body["operationName"])

    try:
        await once()  # plan cached, subgraph answers memoised
        print(
            "| concurrency | CPU-ms/request, gc defaults | gc tuned (gateway/gc_tuning.py) "
            "| gc off |"
        )
        print("|---|---|---|---|")
        defaults = gc.get_threshold()
        for concurrency in concurrencies:
            figures = []
            for setting in ("defaults", "tuned", "off"):
                gc.enable()
                gc.unfreeze()
                gc.set_threshold(*defaults)
                if setting == "tuned":
                    tune_garbage_collector()
                elif setting == "off":
                    gc.disable()
                gc.collect()
                started = time.process_time()
                for _ in range(rounds):
                    await asyncio.gather(*(once() for _ in range(concurrency)))
                cpu = time.process_time() - started
                figures.append(1000 * cpu / (rounds * concurrency))
            row = " | ".join(f"{figure:,.1f}" for figure in figures)
            print(f"| {concurrency} | {row} |", flush=True)
    finally:
        gc.enable()
        gc.unfreeze()
        await gateway.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--concurrency", default="1,2,4,8", help="default 1,2,4,8")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="jamajama-gc-")) / "supergraph.graphql"
    command = [sys.executable, str(BENCH / "subgraphs" / "server.py"), "--port-base", "0"]
    server = subprocess.Popen(
        [*command, "--scale", str(args.scale), "--supergraph-out", str(out)],
        stdout=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        json.loads(server.stdout.readline())
        concurrencies = [int(c) for c in args.concurrency.split(",")]
        print(f"python {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
        asyncio.run(probe(out.read_text(), args.scale, concurrencies, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=5)
        if server.stdout is not None:
            server.stdout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
