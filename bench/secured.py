#!/usr/bin/env python3
"""The gateway's CPU per secured OPD operation, in-process (issue 15, goals 3 and 4).

A busy machine makes requests/s noise; the CPU the gateway spends per request is what a change
to the secured path moves. This starts the five OPD subgraphs as ``bench/opd.py`` does (pinned
to the load CPU), builds the gateway in this process exactly as ``jamajama gateway --dev-auth``
does (``gateway.serve.build``: authentication, field authorization, masking, identifier
pseudonyms, audit in SQLite or PostgreSQL; sharing off), and sends ``--requests`` requests per
operation through the ASGI app one at a time (httpx's ASGI transport: no sockets, no uvicorn).
Reported: process CPU (every thread: the audit writer too) per request, and with ``--profile``
cProfile's top functions. Every answer must equal the first one (the run stops otherwise).

The gateway's code is whatever ``gateway`` imports: ``--before DIR`` runs the same measurement
with the gateway of another source tree (a ``git worktree`` of the base commit, first on the
path) in a child process, alternating with this tree ``--rounds`` times, and prints the median
CPU-ms per request of each::

    .venv/bin/python bench/secured.py --operations case,dashboard --requests 300
    .venv/bin/python bench/secured.py --before /tmp/before --rounds 3
    .venv/bin/python bench/secured.py --operations case --stages          # per-stage CPU
    .venv/bin/python bench/secured.py --operations case --profile 40      # cProfile's top 40
    .venv/bin/python bench/secured.py --audit postgres --application sehat-lampung \
        --purpose pelayanan_kesehatan                 # PostgreSQL audit; NIKs pseudonymised
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import opd  # noqa: E402
import run  # noqa: E402
import stages  # noqa: E402

import gateway  # noqa: E402

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

#: ``case`` without what only SIBANSOS may read (schools, assistance): for an application without
#: ``kependudukan:nik`` (``--application sehat-lampung --purpose pelayanan_kesehatan``) every NIK
#: and KK number of the page's families is pseudonymised
CASE_HEALTH_QUERY = """query KasusKesehatan($wilayahKode: String!, $first: Int!) {
  daftarPenduduk(wilayahKode: $wilayahKode, first: $first) {
    totalCount
    nodes {
      nik
      nama
      keluarga { noKk anggota { nik nama kepesertaanJkn { segmen aktif } } }
    }
  }
}"""


def _body(operation: str, args: argparse.Namespace, nik: str) -> bytes:
    if operation != "case-health":
        return opd.request_body(operation, args.region, args.page, nik)
    variables = {"wilayahKode": args.region, "first": args.page}
    query = {"query": CASE_HEALTH_QUERY, "operationName": "KasusKesehatan", "variables": variables}
    return json.dumps(query).encode()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _threads_cpu() -> tuple[float, float]:
    """(main thread, other threads) CPU seconds of this process so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    main = other = 0.0
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # the thread ended
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(task.name) == os.getpid():
            main += seconds
        else:
            other += seconds
    return main, other


def _config(args: argparse.Namespace, workdir: Path) -> tuple[Path, str | None]:
    text = (BENCH / "gateways" / "jamajama-opd.toml").read_text()
    text += "\n[subgraphs]\ndeduplicate = false\n"
    table = None
    if args.audit == "postgres":
        table = f"bench_audit_{uuid.uuid4().hex[:8]}"
        text += (
            f'\n[audit]\nbackend = "postgres"\npostgres_url = "{args.postgres_url}"\n'
            f'table = "{table}"\nmigrate_at_start = true\n'
            'subject_key = "bench-subject-key-0123456789abcdef"\n'
        )
    path = workdir / "jamajama.toml"
    path.write_text(text)
    return path, table


def _drop(args: argparse.Namespace, table: str) -> None:
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True) as conn:
        for suffix in ("", "_checkpoints"):
            conn.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
        conn.execute("DELETE FROM jamajama_schema_versions WHERE store = %s", (f"audit:{table}",))


async def _measure(app: Any, bodies: dict[str, bytes], args: argparse.Namespace) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    if args.purpose:
        headers[opd.PURPOSE_HEADER] = args.purpose
    results: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            cpu = _cpu()
            for _ in range(args.requests):
                await client.get("/health")
            floor = 1000 * (_cpu() - cpu) / args.requests
            print(f"harness floor (GET /health through the same client): {floor:.2f} CPU-ms/req")
            for operation, body in bodies.items():
                results[operation] = await _operation(client, operation, body, headers, args)
    if args.results:
        args.results.write_text(json.dumps({**results, **args.stage_cpu}))


async def _operation(
    client: Any, operation: str, body: bytes, headers: dict[str, str], args: argparse.Namespace
) -> float:
    """CPU-ms per request of ``operation`` (every answer equal to the first one)."""
    first = await client.post("/graphql", content=body, headers=headers)
    answer = first.content
    if first.status_code != 200 or b'"data":null' in answer:
        raise SystemExit(f"{operation}: HTTP {first.status_code} {answer[:300]!r}")
    errors = " (with errors: refused fields)" if b'"errors"' in answer else ""
    for _ in range(args.warmup):
        await client.post("/graphql", content=body, headers=headers)
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    stages.reset()
    cpu, wall, threads = _cpu(), time.perf_counter(), _threads_cpu()
    if profiler:
        profiler.enable()
    for _ in range(args.requests):
        got = await client.post("/graphql", content=body, headers=headers)
        if got.content != answer:
            raise SystemExit(f"{operation}: answer changed: {got.content[:300]!r}")
    if profiler:
        profiler.disable()
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    main_s, other_s = (b - a for a, b in zip(threads, _threads_cpu(), strict=True))
    n = args.requests
    print(
        f"{operation}: {len(answer):,} bytes{errors}, {n} requests, "
        f"CPU {1000 * cpu / n:.2f} ms/req (main thread {1000 * main_s / n:.2f}, "
        f"other threads {1000 * other_s / n:.2f}), wall {1000 * wall / n:.2f} ms/req",
        flush=True,
    )
    if args.stages:
        for name, calls, cpu_ms, wall_ms in stages.per_request(stages.snapshot(), n):
            print(f"  {name:16} {calls:4.1f} calls {cpu_ms:7.3f} CPU-ms {wall_ms:8.2f} wall")
            args.stage_cpu[f"{operation}: {name}"] = cpu_ms
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(args.sort)
        stats.print_stats(args.profile)
        print(out.getvalue())
        print(_by_package(stats, n))
    return 1000 * cpu / n


def _by_package(stats: pstats.Stats, requests: int) -> str:
    """cProfile's own time per package (gateway modules one level down), per request."""
    totals: dict[str, float] = {}
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        path = Path(filename)
        if "gateway" in path.parts and "site-packages" not in path.parts:
            parts = path.parts[path.parts.index("gateway") :]
            group = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
        elif "site-packages" in path.parts:
            group = path.parts[path.parts.index("site-packages") + 1]
        elif filename.startswith("~") or filename.startswith("<"):
            group = "builtins"
        else:
            group = "stdlib/" + path.stem
        totals[group] = totals.get(group, 0.0) + row[2]
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:25]
    return "\n".join(f"  {1000 * t / requests:7.3f} ms/req  {g}" for g, t in ranked)


def _mint(application: str) -> str:
    out = subprocess.run(
        [opd.JAMAJAMA, "token", "mint", application, "--ttl", "86400"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _compare(args: argparse.Namespace, argv: list[str]) -> int:
    """This tree and ``--before``'s, alternating, each round in a fresh process."""
    child: list[str] = []
    skip = False
    for arg in argv:  # the same arguments without --before and --rounds (and their values)
        if skip:
            skip = False
        elif arg in ("--before", "--rounds"):
            skip = True
        elif not arg.startswith(("--before=", "--rounds=")):
            child.append(arg)
    found: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    for round_ in range(args.rounds):
        for label in ("before", "after"):
            env = dict(os.environ)
            if label == "before":
                env["PYTHONPATH"] = str(args.before.resolve())
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                print(f"== round {round_ + 1}, {label}", flush=True)
                command = [sys.executable, __file__, *child, "--results", out.name]
                subprocess.run(command, env=env, check=True)
                for operation, cpu_ms in json.loads(Path(out.name).read_text()).items():
                    found[label].setdefault(operation, []).append(cpu_ms)
    print()
    print("| operation (: stage) | before CPU-ms/req (runs) | after CPU-ms/req (runs) | ratio |")
    print("|---|---|---|---|")
    for operation, before in found["before"].items():
        after = found["after"].get(operation)
        if not after:
            continue
        b, a = statistics.median(before), statistics.median(after)
        runs = [", ".join(f"{x:.2f}" for x in xs) for xs in (before, after)]
        print(f"| {operation} | {b:.2f} ({runs[0]}) | {a:.2f} ({runs[1]}) | {b / a:.2f}x |")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--operations", default="case,dashboard", help="dashboard,resident,case,case-health"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per operation")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--audit", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--application", default=opd.APPLICATION, help="demo application")
    parser.add_argument("--purpose", default=opd.PURPOSE, help="purpose header ('' for none)")
    parser.add_argument("--before", type=Path, help="also measure the gateway of this tree")
    parser.add_argument("--rounds", type=int, default=3, help="with --before: rounds (3)")
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--region", default="18.71")
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--data-scale", default="0.001")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument("--stages", action="store_true", help="per-stage CPU (bench/stages.py)")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.before is not None:
        return _compare(args, list(argv if argv is not None else sys.argv[1:]))
    args.subgraphs_tree = None
    args.stage_cpu = {}  # "operation: stage" -> CPU-ms per request (--stages)
    print(f"gateway code: {Path(gateway.__file__).parent.parent}", flush=True)
    os.sched_setaffinity(0, {int(run.GATEWAY_CPU)})
    workdir = Path(tempfile.mkdtemp(prefix="jamajama-secured-"))
    subgraphs, urls = opd.start_subgraphs(args, workdir)
    table = None
    try:
        supergraph = workdir / "supergraph.graphql"
        supergraph.write_text(opd.supergraph_for(urls, for_apollo=False))
        config, table = _config(args, workdir)
        nik = opd.first_resident(urls["kependudukan"], args.region)
        bodies = {op: _body(op, args, nik) for op in args.operations.split(",")}
        os.chdir(workdir)  # --dev-auth keeps its state in ./var/dev
        from gateway.serve import StartOptions, build

        args.token = _mint(args.application)
        options = StartOptions(
            config=str(config),
            host="127.0.0.1",
            port=0,
            supergraph=str(supergraph),
            subgraphs=(),
            subgraph_urls=(),
            registry=None,
            dev_auth=True,
            deduplicate=None,
            log_level="warning",
            tune_gc=True,
            metrics=True,
        )
        if args.stages:
            stages.install()
        assembly = build(options)
        from gateway.gc_tuning import tune_garbage_collector

        tune_garbage_collector()
        try:
            import uvloop  # as the gateway serves (gateway/serve.py)

            uvloop.run(_measure(assembly.app, bodies, args))
        except ImportError:
            asyncio.run(_measure(assembly.app, bodies, args))
    finally:
        run.stop(subgraphs)
        if table:
            _drop(args, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
