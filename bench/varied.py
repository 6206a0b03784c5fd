#!/usr/bin/env python3
"""A varied OPD workload (issue 15, goal 3): every request different, ours secured, peers open.

Three operations over the five OPD subgraphs (as bench/opd.py starts them, each wrapped by
bench/opd_subgraph.py to count its requests), mixed in one shuffled list of ``--bodies`` request
bodies that wrk sends in turn (bench/varied.lua), so that no body repeats within a run shorter
than the list:

- ``Kasus``: the README's case query for a random resident (``penduduk(nik)``, family, each
  member's school and JKN, the family's assistance);
- ``KasusWilayah``: a page of a random regency's residents with their families, the page size
  random in 5..50;
- ``DasborWilayah``: the dashboard figures of a random kabupaten/kota (population, JKN coverage
  via ``@requires``, schools, assisted families).

Ours runs secured, as in production: ``--dev-auth`` (a ``sibansos`` token, purpose header),
field authorization, masking, and an audit record for every operation, written durably before
personal data leaves — in SQLite (``ours-sqlite``) or PostgreSQL (``ours-postgres``, a fresh
table per run in ``--postgres-url``). The peers (Apollo Gateway, Hive Gateway with and without
the Rust planner, configured as bench/run.py runs them) get the supergraph without
``for: SECURITY`` and enforce nothing. Before timing, every gateway's answer to **every** body
must be JSON-equal (key order included) to Apollo Gateway's; after the load, a sample again.

Reported per gateway: req/s, latency, CPU, memory, subgraph requests per operation (the five
counters' sum / requests), and ratios to ``ours-sqlite``. ``--profile-stages`` runs ours under
bench/stages.py (per-stage CPU and wall time for the timed run) and, with ``--py-spy``, samples
it with py-spy (a summary of the hottest functions and modules).

    .venv/bin/python bench/varied.py                          # all gateways, 20 s each
    .venv/bin/python bench/varied.py --only ours-sqlite,hive-rust --duration 10 --profile-stages
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import opd  # noqa: E402
import run  # noqa: E402
import stages  # noqa: E402

DASHBOARD_QUERY = """query DasborWilayah($kode: String!) {
  wilayah(kode: $kode) {
    kode
    nama
    jumlahPenduduk
    cakupanJkn
    jumlahSekolah
    jumlahKeluargaPenerima
  }
}"""

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: py-spy on PATH, or beside this interpreter (``pip install py-spy`` in the venv)
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


def _ours(name: str, label: str) -> run.Gateway:
    return run.Gateway(name, label, list(opd.OURS.command), "/graphql", needs_node=False)


def _peer(gateway: run.Gateway) -> run.Gateway:
    """A bench/run.py peer (given the supergraph without ``for: SECURITY``: ``one_gateway``)."""
    label = gateway.label + " (no enforcement)"
    return run.Gateway(gateway.name, label, list(gateway.command), gateway.path)


_PEERS = {g.name: g for g in run.GATEWAYS}
GATEWAYS = [
    _ours("ours-sqlite", "Jama Jama, authorization + audit (SQLite)"),
    _ours("ours-postgres", "Jama Jama, authorization + audit (PostgreSQL)"),
    _peer(_PEERS["apollo"]),
    _peer(_PEERS["hive"]),
    _peer(_PEERS["hive-rust"]),
]


def bodies(urls: dict[str, str], count: int, seed: int) -> list[bytes]:
    """``count`` distinct request bodies, shuffled (residents and regions asked of the OPDs)."""
    rng = random.Random(seed)
    _, raw = run.post(urls["wilayah"], b'{"query":"{ kabupatenKota { kode } }"}')
    regions = [r["kode"] for r in json.loads(raw)["data"]["kabupatenKota"]]
    residents: list[str] = []
    query = "query ($w: String!) { daftarPenduduk(wilayahKode: $w, first: 100) { nodes { nik } } }"
    for region in regions:
        body = json.dumps({"query": query, "variables": {"w": region}}).encode()
        _, raw = run.post(urls["kependudukan"], body)
        residents += [n["nik"] for n in json.loads(raw)["data"]["daftarPenduduk"]["nodes"]]
    rng.shuffle(residents)
    out: set[bytes] = set()
    pages = [(r, n) for r in regions for n in range(5, 51)]
    rng.shuffle(pages)
    kinds = ["resident"] * 4 + ["case"] * 4 + ["dashboard"] * 2
    while len(out) < count:
        kind = rng.choice(kinds)
        if kind == "resident" and residents:
            body = {
                "query": opd.RESIDENT_QUERY,
                "operationName": "Kasus",
                "variables": {"nik": residents.pop()},
            }
        elif kind == "case" and pages:
            region, first = pages.pop()
            body = {
                "query": opd.CASE_QUERY,
                "operationName": "KasusWilayah",
                "variables": {"wilayahKode": region, "first": first},
            }
        elif kind == "dashboard":
            body = {
                "query": DASHBOARD_QUERY,
                "operationName": "DasborWilayah",
                "variables": {"kode": rng.choice(regions)},
            }
        else:
            continue
        # dashboards repeat (15 regions): only the first of each is kept
        out.add(json.dumps(body).encode())
        if kind == "dashboard" and sum(b"DasborWilayah" in b for b in out) >= len(regions):
            kinds = [k for k in kinds if k != "dashboard"]
    listed = sorted(out)
    rng.shuffle(listed)
    return listed


def answers(url: str, payloads: list[bytes], headers: dict[str, str] | None) -> list[bytes]:
    """Each body's answer from ``url`` (eight at a time)."""

    def one(body: bytes) -> bytes:
        status, raw = run.post(url, body, timeout=60, headers=headers)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {raw[:200]!r}")
        return raw

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, payloads))


def count_requests(stats_urls: list[str]) -> int:
    total = 0
    for url in stats_urls:
        with urllib.request.urlopen(url, timeout=5) as response:
            total += int(json.loads(response.read())["requests"])
    return total


def start_subgraphs(
    args: argparse.Namespace, logdir: Path
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """The five OPD subgraphs (bench/opd_subgraph.py: counted), pinned to the load CPU."""
    ports = {name: run.free_port() for name in opd.OPDS}
    launcher = f"{sys.executable} {BENCH / 'opd_subgraph.py'}"
    commands = [
        f"{launcher} subgraph serve {name} --host 127.0.0.1 --port {port} "
        f"--scale {args.data_scale} --seed 18 --data-dir {REPO / 'var' / 'data'} "
        f"> {logdir / name}.log 2>&1 &"
        for name, port in ports.items()
    ]
    proc = subprocess.Popen(
        ["taskset", "-c", run.LOAD_CPU, "bash", "-c", " ".join(commands) + " wait"],
        cwd=REPO,
        start_new_session=True,
    )
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    deadline = time.monotonic() + 180
    for name, url in urls.items():
        while True:
            try:
                if run.post(url, b'{"query":"{__typename}"}', timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                run.stop(proc)
                raise RuntimeError(f"subgraph {name} did not start (see {logdir / name}.log)")
            time.sleep(0.3)
    return proc, urls


def ours_config(base: Path, gateway: str, args: argparse.Namespace, workdir: Path) -> Path:
    """The OPD benchmark configuration, plus the audit store of ``gateway``."""
    text = base.read_text()
    if args.sharing == "off":
        text += "\n[subgraphs]\ndeduplicate = false\n"
    if gateway == "ours-postgres":
        table = f"bench_audit_{uuid.uuid4().hex[:8]}"
        text += (
            f'\n[audit]\nbackend = "postgres"\npostgres_url = "{args.postgres_url}"\n'
            f'table = "{table}"\nmigrate_at_start = true\n'
            f'subject_key = "{uuid.uuid4().hex}"\nsigning_key = "{uuid.uuid4().hex}"\n'
        )
    path = workdir / "jamajama-varied.toml"
    path.write_text(text)
    return path


def _bench(
    gw: run.Gateway, args: argparse.Namespace, ctx: dict[str, Any], workdir: Path
) -> run.Result:
    """``run.bench_gateway``, a failure reported as a result; ours-postgres's table dropped."""
    try:
        return run.bench_gateway(gw, args, ctx)
    except Exception as error:  # report and go on
        return run.Result(gw.name, gw.label, "failed", f"{type(error).__name__}: {error}")
    finally:
        if gw.name == "ours-postgres":
            drop_audit_tables(args, workdir)


def drop_audit_tables(args: argparse.Namespace, workdir: Path) -> None:
    """Drop the run's PostgreSQL audit table (and its migration rows): the database is shared."""
    config = workdir / "jamajama-varied.toml"
    found = [line for line in config.read_text().splitlines() if line.startswith("table = ")]
    if not found:
        return
    table = found[0].split('"')[1]
    import psycopg

    with psycopg.connect(args.postgres_url, autocommit=True) as conn:
        for suffix in ("_subjects", "_checkpoints", ""):
            conn.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
        conn.execute("DELETE FROM jamajama_schema_versions WHERE store = %s", (f"audit:{table}",))


def summarise_py_spy(raw: Path, top: int = 15) -> str:
    """Self time by function and inclusive time by module group, from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        leaf = frames[-1]
        groups[_group(leaf, frames)] += n
    if not total:
        return "(no samples)"
    lines = ["| module group (by the sampled frame) | share |", "|---|---|"]
    lines += [f"| {g} | {100 * n / total:.1f} % |" for g, n in groups.most_common()]
    lines += ["", "| function (self) | share |", "|---|---|"]
    lines += [f"| `{f[:110]}` | {100 * n / total:.1f} % |" for f, n in own.most_common(top)]
    return "\n".join(lines)


_GROUPS = (
    ("gateway/executor/", "executor (fetch, merge, representations)"),
    ("gateway/executor\\", "executor (fetch, merge, representations)"),
    ("gateway/auth/", "auth (authorize, mask)"),
    ("gateway/audit/", "audit"),
    ("gateway/http/", "HTTP app"),
    ("gateway/operation/", "operation walk"),
    ("gateway/engine", "engine"),
    ("gateway/planner/", "planner"),
    ("gateway/", "gateway (other)"),
    ("aiohttp", "aiohttp (subgraph client)"),
    ("uvicorn", "uvicorn / httptools"),
    ("httptools", "uvicorn / httptools"),
    ("starlette", "starlette"),
    ("graphql/", "graphql-core"),
    ("psycopg", "psycopg (PostgreSQL)"),
    ("sqlite3", "sqlite3"),
    ("asyncio", "asyncio event loop"),
    ("uvloop", "asyncio event loop"),
)


def _group(leaf: str, frames: list[str]) -> str:
    for needle, name in _GROUPS:
        if needle in leaf:
            return name
    # a C function or a stdlib helper: the nearest caller with a group
    for frame in reversed(frames[:-1]):
        for needle, name in _GROUPS:
            if needle in frame:
                return name + " (inside)"
    return "other"


def before_gateway(tree: Path) -> run.Gateway:
    """``ours-sqlite`` with the gateway's code from ``tree`` (a worktree of the base commit)."""
    ours = _ours("ours-before", f"Jama Jama at {tree.name}, authorization + audit (SQLite)")
    return run.Gateway(
        ours.name, ours.label, ours.command, ours.path, needs_node=False,
        env=(("PYTHONPATH", str(tree.resolve())),),
    )  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [g.name for g in GATEWAYS] + ["ours-before"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(names), help=", ".join(names))
    parser.add_argument("--bodies", type=int, default=600, help="distinct request bodies (600)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up (default 3)")
    parser.add_argument("--connections", type=int, default=20, help="default 20")
    parser.add_argument("--data-scale", default="0.001", help="OPD data scale (0.001)")
    parser.add_argument(
        "--sharing",
        choices=("on", "off"),
        default="off",
        help="ours: in-flight sharing of identical subgraph fetches (default off)",
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--profile-stages",
        action="store_true",
        help="ours under bench/stages.py: per-stage CPU and wall time",
    )
    parser.add_argument("--py-spy", action="store_true", help="also sample ours with py-spy")
    parser.add_argument(
        "--before",
        type=Path,
        help="also run `ours-before`: ours-sqlite with the gateway's code from this source tree",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.before and "ours-before" not in args.only.split(","):
        args.only += ",ours-before"
    unknown = set(args.only.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown gateway(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    known = GATEWAYS + ([before_gateway(args.before)] if args.before else [])
    selected = [g for g in known if g.name in args.only.split(",")]
    # before and after side by side
    selected.sort(key=lambda g: 0.5 if g.name == "ours-before" else known.index(g))
    run.ensure_node_modules()
    logdir = Path(tempfile.mkdtemp(prefix="jamajama-varied-"))
    print(f"machine: {run.machine()}; load average {os.getloadavg()}; logs in {logdir}", flush=True)
    subgraphs, urls = start_subgraphs(args, logdir)
    stats_urls = [u.rsplit("/", 1)[0] + "/stats" for u in urls.values()]
    rows: list[tuple[run.Result, dict[str, Any]]] = []
    try:
        supergraph = logdir / "supergraph.graphql"
        supergraph.write_text(opd.supergraph_for(urls, for_apollo=False))
        apollo_supergraph = logdir / "supergraph.apollo.graphql"
        apollo_supergraph.write_text(opd.supergraph_for(urls, for_apollo=True))
        payloads = bodies(urls, args.bodies, args.seed)
        bodies_file = logdir / "bodies.jsonl"
        bodies_file.write_bytes(b"\n".join(payloads) + b"\n")
        kinds = collections.Counter(json.loads(b)["operationName"] for b in payloads)
        print(f"{len(payloads)} distinct bodies: {dict(kinds)}", flush=True)
        headers = {"Authorization": f"Bearer {opd.mint_token()}", opd.PURPOSE_HEADER: opd.PURPOSE}
        base_ctx: dict[str, Any] = {
            "query": payloads[0],
            "query_file": bodies_file,
            "small": b'{"query":"{__typename}"}',
            "supergraph": str(supergraph),
            "apollo_supergraph": str(apollo_supergraph),
            "subgraphs_pid": subgraphs.pid,
            "wrk_script": BENCH / "varied.lua",
            "expected_file": "",
        }
        reference = reference_answers(base_ctx, payloads, logdir)
        base_ctx.update(expected_raw=reference[0], expected=run.ordered(reference[0]))
        for gw in selected:
            rows.append(
                one_gateway(gw, args, base_ctx, payloads, reference, headers, logdir, stats_urls)
            )
    finally:
        run.stop(subgraphs)
    print()
    print(f"python bench/varied.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(report(rows))
    for result, extra in rows:
        if extra.get("stages"):
            print(f"\n{result.name}: per-stage time per request (timed run)\n")
            print(extra["stages"])
        if extra.get("py_spy"):
            print(f"\n{result.name}: py-spy, share of samples\n")
            print(extra["py_spy"])
    if args.json:
        payload = [
            {**{k: getattr(r, k) for k in run.Result.__dataclass_fields__}, **extra}
            for r, extra in rows
        ]
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


def reference_answers(ctx: dict[str, Any], payloads: list[bytes], logdir: Path) -> list[bytes]:
    """Apollo Gateway's answer to every body (started and stopped here)."""
    with opd.reference_apollo({**ctx, "logdir": logdir}) as url:
        found = answers(url, payloads, None)
    wrong = [a for a in found if b'"errors"' in a]
    if wrong:
        raise RuntimeError(f"apollo answered {len(wrong)} bodies with errors: {wrong[0][:300]!r}")
    return found


def one_gateway(
    gw: run.Gateway,
    args: argparse.Namespace,
    base_ctx: dict[str, Any],
    payloads: list[bytes],
    reference: list[bytes],
    headers: dict[str, str],
    logdir: Path,
    stats_urls: list[str],
) -> tuple[run.Result, dict[str, Any]]:
    workdir = logdir / gw.name
    workdir.mkdir()
    ours = gw.name.startswith("ours")
    ctx = {**base_ctx, "logdir": workdir, "headers": headers if ours else None}
    if not ours:  # the peers enforce nothing: the supergraph without `for: SECURITY`
        ctx["supergraph"] = base_ctx["apollo_supergraph"]
    extra: dict[str, Any] = {}
    stages_file = workdir / "stages.json"
    spy: dict[str, Any] = {}
    counted: dict[str, int] = {}

    def command(gw_: run.Gateway, parts: list[str]) -> list[str]:
        if not ours:
            return parts
        config = ours_config(BENCH / "gateways" / "jamajama-opd.toml", gw.name, args, workdir)
        parts = [str(config) if p.endswith("jamajama-opd.toml") else p for p in parts]
        if args.profile_stages:  # the same command under the stage timers
            parts = [sys.executable, str(BENCH / "stages.py"), str(stages_file), "--", *parts[1:]]
        return parts

    def before(gw_: run.Gateway, proc: subprocess.Popen[bytes], url: str, seconds: int) -> None:
        check_all(url, payloads, reference, ctx["headers"], gw.name)
        if ours and args.profile_stages:
            os.kill(proc.pid, signal.SIGUSR1)  # reset the counters: only the timed run counts
        if ours and args.py_spy and Path(PY_SPY).exists():
            out = workdir / "py-spy.txt"
            spy["file"] = out
            spy["proc"] = subprocess.Popen(
                [
                    PY_SPY,
                    "record",
                    "--pid",
                    str(proc.pid),
                    "--duration",
                    str(seconds),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        counted["before"] = count_requests(stats_urls)

    def after(gw_: run.Gateway, proc: subprocess.Popen[bytes]) -> None:
        counted["after"] = count_requests(stats_urls)
        if ours and args.profile_stages:
            os.kill(proc.pid, signal.SIGUSR1)
            time.sleep(0.5)
        if "proc" in spy:
            spy["proc"].wait(timeout=60)

    ctx["hooks"] = {"command": command, "before": before, "after": after}
    gw_here = run.Gateway(
        gw.name, gw.label, gw.command, gw.path, workdir if ours else BENCH, gw.needs_node, gw.env
    )
    result = _bench(gw_here, args, ctx, workdir)
    if result.status == "ok" and result.wrk.get("requests"):
        requests = int(result.wrk["requests"])
        result.subgraph_fetches = (counted["after"] - counted["before"]) / requests
        if ours and args.profile_stages and stages_file.exists():
            found = json.loads(stages_file.read_text())["stages"]
            extra["stages_raw"] = found
            extra["stages"] = stage_table(found, requests, result)
        if spy.get("file") and Path(spy["file"]).exists():
            extra["py_spy"] = summarise_py_spy(Path(spy["file"]))
    print(
        f"  {gw.name}: {result.status}"
        + (f": {result.rps:,.1f} req/s, CPU {result.cpu_pct:.0f} %" if result.rps else "")
        + (f" — {result.detail}" if result.detail else ""),
        flush=True,
    )
    return result, extra


def check_all(
    url: str,
    payloads: list[bytes],
    reference: list[bytes],
    headers: dict[str, str] | None,
    name: str,
) -> None:
    """Every body's answer JSON-equal (key order included) to Apollo's, or RuntimeError.

    A body answered with errors is asked once more, and the retries are counted and printed with
    the first error: seen on this busy machine were ours-postgres's ``AUDIT_UNAVAILABLE`` (the
    record not durable within the write timeout) and Hive Gateway's ``ECONNRESET`` from a
    subgraph connection it reused (once also ours, a redacted subgraph error).
    """
    got = answers(url, payloads, headers)
    retried = 0
    first_error: dict[str, Any] | None = None
    for body, mine, want in zip(payloads, got, reference, strict=True):
        if run.ordered(mine) != run.ordered(want) and b'"errors"' in mine:
            retried += 1
            first_error = first_error or json.loads(mine)["errors"][0]
            mine = answers(url, [body], headers)[0]
        if run.ordered(mine) != run.ordered(want):
            raise RuntimeError(
                f"{name} answered {body[:120]!r} differently from Apollo: "
                + run.first_difference(mine, want)
            )
    note = ""
    if retried:
        message = str(first_error.get("message") if first_error else "")[:100]
        code = (first_error or {}).get("extensions", {}).get("code")
        note = f" ({retried} after a retry; the first answer's error: {code}: {message})"
    print(f"  {name}: all {len(payloads)} answers equal Apollo's{note}", flush=True)


def stage_table(found: dict[str, dict[str, float]], requests: int, result: run.Result) -> str:
    cpu_per_request = (result.cpu_pct or 0) * 10 / (result.rps or 1)
    # requests finished inside the app in the window (wrk's count misses those in flight)
    requests = int(found.get("request", {}).get("calls") or requests)
    lines = [
        "| stage | calls/req | CPU ms/req | share of process CPU | wall ms/req |",
        "|---|---|---|---|---|",
    ]
    for name, calls, cpu, wall in stages.per_request(found, requests):
        share = f"{100 * cpu / cpu_per_request:.0f} %" if cpu_per_request else "-"
        lines.append(f"| {name} | {calls:.2f} | {cpu:.3f} | {share} | {wall:.2f} |")
    lines.append(f"| (process, all threads) | | {cpu_per_request:.3f} | 100 % | |")
    return "\n".join(lines)


def report(rows: list[tuple[run.Result, dict[str, Any]]]) -> str:
    base = next((r for r, _ in rows if r.name == "ours-sqlite" and r.rps), None)
    lines = [
        "| gateway | status | req/s | p50 ms | p99 ms | CPU % | CPU-ms/req | peak RSS MiB "
        "| subgraph requests/op | subgraphs CPU % | req/s vs ours-sqlite | p99 vs ours-sqlite |",
        "|" + "---|" * 12,
    ]
    for r, _ in rows:
        status = r.status if not r.detail else f"{r.status} ({r.detail[:100]})"
        per = 10 * r.cpu_pct / r.rps if r.rps and r.cpu_pct is not None else None
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r.name}: {r.label}",
                    status.replace("|", "/"),
                    run.fmt(r.rps, ",.1f"),
                    run.fmt(r.p50_ms, ",.1f"),
                    run.fmt(r.p99_ms, ",.1f"),
                    run.fmt(r.cpu_pct, ".0f"),
                    run.fmt(per, ".2f"),
                    run.fmt(r.peak_rss_mb, ",.0f"),
                    run.fmt(r.subgraph_fetches, ".2f"),
                    run.fmt(r.subgraphs_cpu_pct, ".0f"),
                    run.ratio(r.rps, base.rps if base else None),
                    run.ratio(r.p99_ms, base.p99_ms if base else None),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    shutil.which("wrk") or sys.exit("wrk not found (apt-get install -y wrk)")
    sys.exit(main())
