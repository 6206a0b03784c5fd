#!/usr/bin/env python3
"""Worker scaling (issue 15 goal 6): TestQuery, 1 worker on 1 core against 2 workers on 2 cores.

The machine has two cores, so the load side (wrk and the four bench subgraphs) cannot get a core
of its own once the gateway has both: this script measures how much it takes instead of hiding
it. For each configuration, alternating, ``--repeat`` times, in one run:

- ``1w/cpu0``: ``jamajama gateway`` (1 worker) pinned to CPU 0, the load on CPU 1 — the main
  table's setup;
- ``2w/cpu0-1``: ``--workers 2`` on CPUs 0-1, the load still on CPU 1 (it shares that core with
  the second worker).

Reported: requests/s and the ratio to 1 worker, CPU % of the gateway's processes, of wrk and of
the subgraphs (100 % = one core), the whole machine's busy % (other work on the machine shows up
there), and how wrk's connections were spread over the workers (``ss`` at mid-run). Every answer
is checked before and after the load (bench/run.py's ``bench_gateway``).

    .venv/bin/python bench/workers.py --duration 20 --repeat 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH)]

import run  # noqa: E402  (bench/run.py: processes, wrk, the per-gateway measurement)

#: (label, gateway entry of run.py, CPUs of the gateway)
CONFIGS = (("1w/cpu0", "ours", "0"), ("2w/cpu0-1", "ours-w2", "0,1"))


def _busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (/proc/stat)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _connections(port: int) -> dict[int, int]:
    """Established connections on ``port`` per accepting process id."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    spread: Counter[int] = Counter()
    for line in out.splitlines():
        if "pid=" in line:
            spread[int(line.split("pid=", 1)[1].split(",", 1)[0])] += 1
    return dict(spread)


class LoadProbe:
    """Wraps ``run.run_wrk``: wrk's own CPU (it is a waited-for child), the machine's busy share
    and the connection spread, for the last (measured) wrk run."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self._run_wrk = run.run_wrk

    def __call__(self, url: str, body_file: Path, seconds: int, *rest: Any, **kw: Any) -> Any:
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        spread: dict[int, int] = {}
        timer = threading.Timer(seconds / 2, lambda: spread.update(_connections(port)))
        timer.start()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0, total0 = _busy()
        began = time.monotonic()
        try:
            return self._run_wrk(url, body_file, seconds, *rest, **kw)
        finally:
            wall = time.monotonic() - began
            busy1, total1 = _busy()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            timer.cancel()
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            self.last = {
                "wrk_cpu_pct": 100 * cpu / wall,
                "machine_busy_pct": 200 * (busy1 - busy0) / max(1.0, total1 - total0),
                "spread": sorted(spread.values(), reverse=True),
            }


def _gateways(no_sharing: bool, logdir: Path) -> dict[str, run.Gateway]:
    """run.py's gateway entries, with in-flight sharing off if asked."""
    gateways = {g.name: g for g in run.GATEWAYS}
    if no_sharing:
        config = logdir / "jamajama-no-sharing.toml"
        original = run.BENCH / "gateways" / "jamajama.toml"
        config.write_text(original.read_text() + "\n[subgraphs]\ndeduplicate = false\n")
        for name in ("ours", "ours-w2"):
            command = [str(config) if c == str(original) else c for c in gateways[name].command]
            gateways[name] = dataclasses.replace(gateways[name], command=command)
    return gateways


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--no-sharing",
        action="store_true",
        help="[subgraphs] deduplicate = false (two processes cannot share in-flight fetches)",
    )
    args = parser.parse_args()
    probe = LoadProbe()
    run.run_wrk = probe  # type: ignore[assignment]
    logdir = Path(tempfile.mkdtemp(prefix="jamajama-workers-"))
    ctx = run.workload_context(logdir)
    gateways = _gateways(args.no_sharing, logdir)
    print(f"machine: {run.machine()}; load (wrk, subgraphs) on CPU {run.LOAD_CPU}", flush=True)
    server = (sys.executable, str(BENCH / "subgraphs" / "server.py"), "--port-base", "0")
    subgraphs = subprocess.Popen(
        [
            "taskset",
            "-c",
            run.LOAD_CPU,
            *server,
            "--supergraph-out",
            str(logdir / "supergraph.graphql"),
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    rows: list[str] = []
    base: dict[int, float] = {}
    try:
        assert subgraphs.stdout is not None
        ready = json.loads(subgraphs.stdout.readline())
        ctx["supergraph"] = ready["supergraph"]
        ctx["subgraphs_pid"] = subgraphs.pid
        ctx["stats_url"] = ready["ready"]["accounts"].rsplit("/", 1)[0] + "/stats"
        for attempt in range(1, args.repeat + 1):
            for label, name, cpus in CONFIGS:
                args.gateway_cpus = cpus
                result = run.bench_gateway(gateways[name], args, ctx)
                if result.rps is None:
                    print(f"  {label}: {result.status} {result.detail}", flush=True)
                    continue
                base.setdefault(attempt, result.rps)
                load = probe.last
                gateway_cpu = result.cpu_pct or 0.0
                load_cpu = load["wrk_cpu_pct"] + (result.subgraphs_cpu_pct or 0.0)
                row = (
                    f"| {attempt} | {label} | {result.rps:,.0f} | {result.rps / base[attempt]:.2f}x"
                    f" | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {gateway_cpu:.0f}"
                    f" | {10 * gateway_cpu / result.rps:.2f}"
                    f" | {result.subgraph_fetches or 0:.2f}"
                    f" | {load['wrk_cpu_pct']:.0f} | {result.subgraphs_cpu_pct or 0:.0f}"
                    f" | {load_cpu:.0f} | {load['machine_busy_pct']:.0f}"
                    f" | {'/'.join(map(str, load['spread']))} | {result.errors or 0} |"
                )
                rows.append(row)
                print(row, flush=True)
    finally:
        run.stop(subgraphs)
        if subgraphs.stdout is not None:
            subgraphs.stdout.close()
    print()
    print(
        "| run | gateway | req/s | vs 1 worker | p50 ms | p99 ms | gateway CPU % "
        "| gateway CPU-ms/req | subgraph fetches/req | wrk CPU % "
        "| subgraphs CPU % | load side CPU % | machine busy % (of 200) "
        "| connections per worker | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
