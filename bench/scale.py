#!/usr/bin/env python3
"""Scaling scenario: the reference query over N times the entities (issue 7).

For each scale N the bench subgraphs serve `dataset.scale_data(N)` (N blocks of the reference's
6 users, 5 products and 11 reviews) and every gateway gets the reference TestQuery with
`topProducts(first: 5N)`, whose answer is N times the reference's (87.6 kB at N = 1). Apollo
Gateway's answer at each scale is the reference: a gateway is timed only when its answer is
JSON-equal to Apollo's (key order included), before and after the load. Reported per gateway and
scale: answer size, requests/s, p50, CPU % of the gateway's process tree, CPU-ms per request and
per kB of answer, peak RSS, subgraph fetches per request. If cost grows with the answer and not
with the number of entities, CPU-ms per kB stays flat across scales.

Same pinning and measurement as `run.py` (gateway on CPU 0; wrk and the subgraphs on CPU 1).
Fewer connections at larger scales (default: max(2, 50 // N)); longer wrk and answer timeouts.

    .venv/bin/python bench/scale.py                                  # 1, 10, 100, 1000 x
    .venv/bin/python bench/scale.py --scales 10,100 --only ours,apollo --duration 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH / "subgraphs")]

import run  # noqa: E402  (bench/run.py: processes, wrk, the per-gateway measurement)
from dataset import scale_query  # noqa: E402

REFERENCE_GATEWAY = "apollo"
DEFAULT_GATEWAYS = "ours,apollo,hive-rust"
DEFAULT_SCALES = "1,10,100,1000"


@dataclass(frozen=True, slots=True)
class ScaleRow:
    """One gateway at one scale."""

    scale: int
    answer_bytes: int
    connections: int
    result: run.Result

    @property
    def cpu_ms_per_request(self) -> float | None:
        r = self.result
        if r.rps is None or r.cpu_pct is None or not r.rps:
            return None
        return 10 * r.cpu_pct / r.rps  # (cpu_pct / 100) core-seconds per second / rps, in ms

    @property
    def cpu_ms_per_kb(self) -> float | None:
        per_request = self.cpu_ms_per_request
        return None if per_request is None else per_request / (self.answer_bytes / 1000)


def start_subgraphs(scale: int, logdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """The four bench subgraphs at `scale` on free ports, pinned with the load generator."""
    proc = subprocess.Popen(
        [
            "taskset",
            "-c",
            run.LOAD_CPU,
            sys.executable,
            str(BENCH / "subgraphs" / "server.py"),
            "--port-base",
            "0",
            "--scale",
            str(scale),
            "--supergraph-out",
            str(logdir / "supergraph.graphql"),
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        run.stop(proc)
        raise RuntimeError(f"bench subgraphs at scale {scale} did not start")
    return proc, json.loads(line)


def reference_answer(gw: run.Gateway, ctx: dict[str, Any], timeout: float) -> bytes:
    """Start `gw`, POST the scale query once, stop it; its answer (raises if not 200)."""
    port = run.free_port()
    command = [
        part.format(supergraph=ctx["supergraph"], port=port, expected="") for part in gw.command
    ]
    url = f"http://127.0.0.1:{port}{gw.path}"
    with (ctx["logdir"] / f"{gw.name}.reference.log").open("wb") as log:
        proc = subprocess.Popen(
            ["taskset", "-c", run.GATEWAY_CPU, *command],
            cwd=gw.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
    try:
        why = run.wait_ready(proc, url, ctx["small"], timeout=60)
        if why:
            raise RuntimeError(f"{gw.name} not available: {why}")
        started = time.monotonic()
        status, answer = run.post(url, ctx["query"], timeout=timeout)
        print(
            f"  reference {gw.name}: HTTP {status}, {len(answer):,} bytes in "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        if status != 200 or b'"errors"' in answer[:200]:
            raise RuntimeError(f"{gw.name} answered HTTP {status}: {answer[:200]!r}")
        return answer
    finally:
        run.stop(proc)


def default_connections(scale: int) -> int:
    return max(2, 50 // scale)


def bench_scale(
    scale: int, gateways: list[run.Gateway], args: argparse.Namespace
) -> list[ScaleRow]:
    logdir = args.logdir / f"scale-{scale}"
    logdir.mkdir(parents=True)
    query = json.dumps(scale_query(scale)).encode()
    query_file = logdir / "query.json"
    query_file.write_bytes(query)
    subgraphs, ready = start_subgraphs(scale, logdir)
    rows: list[ScaleRow] = []
    try:
        ctx: dict[str, Any] = {
            "logdir": logdir,
            "query_file": query_file,
            "query": query,
            "small": args.small,
            "supergraph": ready["supergraph"],
            "subgraphs_pid": subgraphs.pid,
            "stats_url": ready["ready"]["accounts"].rsplit("/", 1)[0] + "/stats",
        }
        answer_timeout = 30 + 0.3 * scale
        reference = next(g for g in run.GATEWAYS if g.name == REFERENCE_GATEWAY)
        expected = reference_answer(reference, ctx, answer_timeout)
        expected_file = logdir / "expected.json"
        expected_file.write_bytes(expected)
        ctx.update(
            expected_file=str(expected_file), expected_raw=expected, expected=run.ordered(expected)
        )
        connections = args.connections or default_connections(scale)
        per_scale = argparse.Namespace(
            connections=connections,
            duration=args.duration if scale < 1000 else max(args.duration, args.duration_1000),
            warmup=args.warmup,
            answer_timeout=answer_timeout,
            wrk_timeout=int(min(300, 10 + 0.1 * scale)),
        )
        for gw in gateways:
            print(f"- {gw.name} at {scale}x ({connections} connections)", flush=True)
            try:
                result = run.bench_gateway(gw, per_scale, ctx)
            except Exception as error:  # report and go on with the other gateways
                result = run.Result(gw.name, gw.label, "failed", f"{type(error).__name__}: {error}")
            print(
                f"  {result.status}"
                + (f": {result.rps:,.1f} req/s, CPU {result.cpu_pct:.0f} %" if result.rps else "")
                + (f" — {result.detail}" if result.detail else ""),
                flush=True,
            )
            rows.append(ScaleRow(scale, len(expected), connections, result))
    finally:
        run.stop(subgraphs)
        if subgraphs.stdout is not None:
            subgraphs.stdout.close()
    return rows


def table(rows: list[ScaleRow]) -> str:
    """Markdown: one line per gateway and scale."""
    lines = [
        "| scale | gateway | status | answer kB | conns | req/s | p50 ms | CPU % | CPU-ms/req "
        "| CPU-ms/kB | peak RSS MiB | subgraph fetches/req |",
        "|" + "---|" * 12,
    ]
    for row in rows:
        r = row.result
        status = r.status if not r.detail else f"{r.status} ({r.detail[:100]})"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{row.scale}x",
                    r.name,
                    status.replace("|", "/"),
                    f"{row.answer_bytes / 1000:,.1f}",
                    str(row.connections),
                    run.fmt(r.rps, ",.1f"),
                    run.fmt(r.p50_ms, ",.1f"),
                    run.fmt(r.cpu_pct, ".0f"),
                    run.fmt(row.cpu_ms_per_request, ",.1f"),
                    run.fmt(row.cpu_ms_per_kb, ".3f"),
                    run.fmt(r.peak_rss_mb, ",.0f"),
                    run.fmt(r.subgraph_fetches, ".2f"),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [g.name for g in run.GATEWAYS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default=DEFAULT_SCALES, help=f"default {DEFAULT_SCALES}")
    parser.add_argument("--only", default=DEFAULT_GATEWAYS, help=f"default {DEFAULT_GATEWAYS}")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load (default 10)")
    parser.add_argument(
        "--duration-1000", type=int, default=30, help="seconds of load at 1000x (default 30)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up (default 3)")
    parser.add_argument("--connections", type=int, help="default max(2, 50 // scale)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    args.scale_list = [int(s) for s in args.scales.split(",")]
    args.selected = args.only.split(",")
    unknown = set(args.selected) - set(names)
    if unknown:
        parser.error(f"unknown gateway(s) {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = [g for g in run.GATEWAYS if g.name in args.selected]
    run.ensure_node_modules()  # Apollo gives the reference answer
    args.small = (run.find_shared() / "small.json").read_bytes()
    args.logdir = Path(tempfile.mkdtemp(prefix="jamajama-scale-"))
    print(f"machine: {run.machine()}")
    print(
        f"gateway on CPU {run.GATEWAY_CPU}; wrk and subgraphs on CPU {run.LOAD_CPU}; "
        f"logs in {args.logdir}",
        flush=True,
    )
    rows: list[ScaleRow] = []
    for scale in args.scale_list:
        print(f"== scale {scale}x", flush=True)
        try:
            rows.extend(bench_scale(scale, selected, args))
        except Exception as error:  # the reference failed: say so, go on with the next scale
            print(f"  scale {scale}x skipped: {type(error).__name__}: {error}", flush=True)
    print()
    print(f"python {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
    print(table(rows))
    if args.json:
        payload = {
            "machine": run.machine(),
            "rows": [
                {
                    "scale": row.scale,
                    "answer_bytes": row.answer_bytes,
                    "connections": row.connections,
                    "cpu_ms_per_request": row.cpu_ms_per_request,
                    "cpu_ms_per_kb": row.cpu_ms_per_kb,
                    **{k: getattr(row.result, k) for k in run.Result.__dataclass_fields__},
                }
                for row in rows
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
