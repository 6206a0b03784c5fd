#!/usr/bin/env python3
"""Fetch merging on and off in one process (issue 15 goal 2): subgraph requests and the
gateway's CPU time per TestQuery, measured alternately so both see the same machine.

The bench subgraphs run in their own process (pinned to CPU 1 with `taskset` when available);
two in-process gateways, sharing off (`[subgraphs] deduplicate = false`), one with
`merge_fetches` on and one off, answer TestQuery (checked against the reference answer first)
in rounds of 20 requests, `--concurrency` at a time. CPU time is the gateway process's own
(`time.process_time`), which a busy machine disturbs far less than wall time.

    .venv/bin/python bench/fetch_merging.py --rounds 15 --concurrency 1
    .venv/bin/python bench/fetch_merging.py --rounds 15 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the bench subgraphs)

REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from gateway.engine import Gateway  # noqa: E402
from gateway.executor.aiohttp_transport import AiohttpTransport  # noqa: E402
from gateway.supergraph import load_supergraph  # noqa: E402

SHARED = Path("/work/shared/bench")
PER_ROUND = 20


class Counting:
    """Counts the subgraph requests a gateway sends."""

    def __init__(self, inner: AiohttpTransport) -> None:
        self.inner = inner
        self.count = 0

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.count += 1
        return await self.inner.fetch(subgraph, url, body)


async def measure(supergraph_sdl: str, rounds: int, concurrency: int) -> None:
    query = json.loads((SHARED / "query.json").read_text())
    expected = json.loads((SHARED / "expected.json").read_text())
    gateways: dict[bool, tuple[Gateway, Counting]] = {}
    for merge in (True, False):
        transport = Counting(AiohttpTransport(deduplicate=False))
        gateway = Gateway(load_supergraph(supergraph_sdl), transport=transport, merge_fetches=merge)
        gateways[merge] = (gateway, transport)

    async def one(gateway: Gateway) -> dict[str, Any]:
        return await gateway.execute(query["query"], None, query.get("operationName"))

    for merge, (gateway, transport) in gateways.items():
        if await one(gateway) != expected:
            raise SystemExit(f"merge_fetches={merge}: wrong answer")
        print(f"merge_fetches={merge}: answer correct, {transport.count} subgraph requests")
    cpu: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        for merge, (gateway, _) in gateways.items():
            start = time.process_time()
            for _ in range(PER_ROUND // concurrency):
                await asyncio.gather(*(one(gateway) for _ in range(concurrency)))
            cpu[merge].append((time.process_time() - start) / PER_ROUND * 1000)
    on, off = statistics.median(cpu[True]), statistics.median(cpu[False])
    print(f"concurrency {concurrency}, {rounds} rounds of {PER_ROUND} requests each")
    print(f"gateway CPU ms/request (median of rounds): merging on {on:.2f}, off {off:.2f}")
    print(f"ratio on/off: {on / off:.2f}")
    for _, transport in gateways.values():
        await transport.inner.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=1, choices=(1, 2, 4, 5, 10, 20))
    args = parser.parse_args()
    with run.bench_subgraphs() as supergraph:
        asyncio.run(measure(supergraph.read_text(), args.rounds, args.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
