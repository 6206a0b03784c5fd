#!/usr/bin/env python3
"""The OPD subgraph kit alone: `_entities` x100 and the `case` operation's per-subgraph fetches.

Issue 15 goal 4. Each workload is one document a subgraph receives from the gateway when it plans
`bench/opd.py`'s `case` operation (50 residents of Bandar Lampung with their families), plus
`_entities` for 100 `Penduduk` representations with every personal field kependudukan serves:

- `entities100`: kependudukan, `_entities` x100 `Penduduk` (all scalar fields, `keluarga { noKk }`);
- `case.kependudukan`: the root fetch (`daftarPenduduk(first: 50)` with families and members);
- `case.pendidikan`, `case.kesehatan`: `_entities` for every member of those families (`Penduduk`);
- `case.sosial`: `_entities` for the families (`Keluarga`).

With `--before DIR` (a git worktree of the starting commit) the same workloads run against the
subgraphs served from DIR's code, back to back with this tree's, `--rounds` times, alternating;
the table shows medians and the ratio. Both answers must be JSON-equal (a workload whose answers
differ is reported as such and has no ratio). Subgraphs run on CPU 0, wrk on CPU 1 (as `run.py`);
requests/s are for `--connections` keep-alive connections (default 1: one request at a time, the
shape of the 25 req/s `case` figure in docs/benchmarks.md).

    .venv/bin/python bench/kit.py --before /work/wt-before --rounds 3 --duration 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

SUBGRAPHS = ("kependudukan", "pendidikan", "kesehatan", "sosial")
SUBGRAPH_CPU = run.GATEWAY_CPU

ENTITIES_100 = """query E($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Penduduk {
      nik nama jenisKelamin tempatLahir tanggalLahir agama statusPerkawinan pekerjaan alamat
      hubunganKeluarga wilayah { kode nama } keluarga { __typename noKk }
    }
  }
}"""

#: The four fetches `jamajama plan` prints for bench/opd.py's CASE_QUERY.
CASE_ROOT = """query KasusWilayah__kependudukan__0($wilayahKode: String!, $first: Int!) {
  daftarPenduduk(wilayahKode: $wilayahKode, first: $first) {
    totalCount
    nodes { nik nama keluarga { __typename noKk anggota { __typename nik nama } } }
  }
}"""
CASE_PENDIDIKAN = """query KasusWilayah__pendidikan__1($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Penduduk { pendidikan { kelas sekolah { nama } } }
  }
}"""
CASE_KESEHATAN = """query KasusWilayah__kesehatan__2($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Penduduk { kepesertaanJkn { segmen aktif } }
  }
}"""
CASE_SOSIAL = """query KasusWilayah__sosial__3($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Keluarga { penerimaBansos { program { nama } aktif } desilKesejahteraan }
  }
}"""


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    subgraph: str
    body: bytes


def body(query: str, variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def workloads(kependudukan: Callable[[bytes], Any], region: str, page: int) -> list[Workload]:
    """The documents, with representations taken from kependudukan's own answers."""
    root = kependudukan(body(CASE_ROOT, {"wilayahKode": region, "first": page}))
    if "errors" in root:
        raise RuntimeError(f"kependudukan answered {str(root)[:300]}")
    nodes = root["data"]["daftarPenduduk"]["nodes"]
    families = {n["keluarga"]["noKk"]: n["keluarga"] for n in nodes if n["keluarga"]}
    members = list(dict.fromkeys(m["nik"] for f in families.values() for m in f["anggota"]))
    q = "query ($w: String!) { daftarPenduduk(wilayahKode: $w, first: 100) { nodes { nik } } }"
    hundred = [
        n["nik"] for n in kependudukan(body(q, {"w": region}))["data"]["daftarPenduduk"]["nodes"]
    ]
    people = [{"__typename": "Penduduk", "nik": nik} for nik in members]
    return [
        Workload(
            "entities100",
            "kependudukan",
            body(
                ENTITIES_100,
                {"representations": [{"__typename": "Penduduk", "nik": n} for n in hundred]},
            ),
        ),
        Workload(
            "case.kependudukan",
            "kependudukan",
            body(CASE_ROOT, {"wilayahKode": region, "first": page}),
        ),
        Workload(
            "case.pendidikan", "pendidikan", body(CASE_PENDIDIKAN, {"representations": people})
        ),
        Workload("case.kesehatan", "kesehatan", body(CASE_KESEHATAN, {"representations": people})),
        Workload(
            "case.sosial",
            "sosial",
            body(
                CASE_SOSIAL,
                {"representations": [{"__typename": "Keluarga", "noKk": k} for k in families]},
            ),
        ),
    ]


class Subgraphs:
    """The four subgraphs of the `case` operation served from one source tree, on CPU 0."""

    def __init__(self, tree: Path, args: argparse.Namespace, logdir: Path) -> None:
        self.tree = tree
        self.urls: dict[str, str] = {}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pids: dict[str, int] = {}
        env = {k: v for k, v in os.environ.items() if k != "JAMAJAMA_SUBGRAPH_SIGNING_KEYS"}
        env["PYTHONPATH"] = str(tree)  # this tree's `subgraphs` package, not the installed one
        for name in SUBGRAPHS:
            port = run.free_port()
            code = "import sys; from gateway.cli import main; sys.exit(main())"
            command = [
                *("taskset", "-c", SUBGRAPH_CPU, sys.executable, "-c", code),
                *("subgraph", "serve", name, "--host", "127.0.0.1", "--port", str(port)),
                *("--scale", args.data_scale, "--seed", "18", "--data-dir", str(args.data_dir)),
            ]
            log = (logdir / f"{tree.name}.{name}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    command,
                    cwd=tree,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            self.urls[name] = f"http://127.0.0.1:{port}/graphql"
            self.pids[name] = self.procs[-1].pid
        for proc, (name, url) in zip(self.procs, self.urls.items(), strict=True):
            why = run.wait_ready(proc, url, b'{"query":"{__typename}"}', timeout=180)
            if why:
                self.stop()
                raise RuntimeError(f"{name} from {tree} did not start: {why}")

    def stop(self) -> None:
        for proc in self.procs:
            run.stop(proc)


def measure(
    served: Subgraphs, workload: Workload, args: argparse.Namespace, workdir: Path
) -> tuple[float, float]:
    """(requests/s, the subgraph's CPU-ms per request): the second is steadier when busy."""
    url, pid = served.urls[workload.subgraph], served.pids[workload.subgraph]
    body_file = workdir / f"{workload.name}.json"
    body_file.write_bytes(workload.body)
    run.run_wrk(url, body_file, 1, args.connections)  # warm-up
    cpu_before = run.tree_usage(pid)[0]
    out = run.run_wrk(url, body_file, args.duration, args.connections)
    cpu = run.tree_usage(pid)[0] - cpu_before
    errors = sum(out["errors"].values())
    if errors:
        raise RuntimeError(f"{workload.name}: {errors} wrk errors ({out['errors']})")
    requests = float(out["requests"])
    return requests * 1e6 / float(out["duration_us"]), 1000 * cpu / max(requests, 1)


def answer(url: str, workload: Workload) -> Any:
    status, raw = run.post(url, workload.body, timeout=60)
    parsed = json.loads(raw)
    if status != 200 or "errors" in parsed:
        raise RuntimeError(f"{workload.name} answered HTTP {status}: {raw[:300]!r}")
    return parsed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a source tree to compare with (worktree)")
    parser.add_argument("--rounds", type=int, default=3, help="before/after pairs (default 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measure (5)")
    parser.add_argument("--connections", type=int, default=1, help="wrk connections (1)")
    parser.add_argument("--region", default="18.71", help="daftarPenduduk region")
    parser.add_argument("--page", type=int, default=50, help="residents in the case (50)")
    parser.add_argument("--data-scale", default="0.001", help="OPD data scale (0.001)")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO / "var" / "data", help="generated stores cache"
    )
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="no HTTP: run WORKLOAD in this process through Strawberry and through the kit's "
        "direct executor, print CPU ms per request and a pyinstrument profile of each",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20 or not 1 <= args.duration <= 120:
        parser.error("--rounds must be 1..20 and --duration 1..120")
    return args


def profile(args: argparse.Namespace) -> int:
    """Where a subgraph's time goes, without HTTP: Strawberry's executor, then the kit's."""
    import asyncio

    from pyinstrument import Profiler

    sys.path.insert(0, str(REPO))  # `subgraphs` is the kit's, not bench/subgraphs
    from subgraphs import load_subgraph
    from subgraphs.kit.app import Context
    from subgraphs.kit.fastpath import FastPath
    from subgraphs.kit.generator import ensure_world
    from subgraphs.kit.store import Store

    loop = asyncio.new_event_loop()

    directory = ensure_world(18, float(args.data_scale), args.data_dir).directory

    def executor(name: str, fast: bool) -> Callable[[bytes], Any]:
        schema = load_subgraph(name).schema
        store = Store(directory / f"{name}.sqlite3")
        direct = FastPath(schema)

        async def once(raw: bytes) -> Any:
            payload = json.loads(raw)
            if fast:
                return await direct.answer(payload, Context(store))
            result = await schema.execute(
                payload["query"], variable_values=payload["variables"], context_value=Context(store)
            )
            return {"data": result.data, **({"errors": result.errors} if result.errors else {})}

        return lambda raw: loop.run_until_complete(once(raw))

    chosen = {w.name: w for w in workloads(executor("kependudukan", False), args.region, args.page)}
    workload = chosen.get(args.profile)
    if workload is None:
        sys.exit(f"--profile: one of {', '.join(chosen)}")
    for label, fast in (("Strawberry", False), ("direct executor", True)):
        run_once = executor(workload.subgraph, fast)
        for _ in range(5):
            assert run_once(workload.body) is not None
        n = 50
        started = time.process_time()
        for _ in range(n):
            run_once(workload.body)
        cpu_ms = (time.process_time() - started) * 1000 / n
        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(n):
                run_once(workload.body)
        print(f"== {workload.name} through {label}: {cpu_ms:.2f} CPU-ms per request (x{n})")
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        return profile(args)
    logdir = Path(tempfile.mkdtemp(prefix="jamajama-kit-"))
    trees = [("after", REPO)] + ([("before", args.before.resolve())] if args.before else [])
    print(f"machine: {run.machine()}; load average {os.getloadavg()}; logs in {logdir}")
    served = {label: Subgraphs(tree, args, logdir) for label, tree in trees}
    rps: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    equal: dict[str, bool] = {}
    loads: list[float] = []
    try:
        url = served["after"].urls["kependudukan"]
        chosen = workloads(lambda b: json.loads(run.post(url, b)[1]), args.region, args.page)
        if args.only:
            chosen = [w for w in chosen if w.name in args.only.split(",")]
        for w in chosen:
            answers = [answer(s.urls[w.subgraph], w) for s in served.values()]
            equal[w.name] = all(a == answers[0] for a in answers)
        for round_no in range(args.rounds):
            order = trees if round_no % 2 == 0 else trees[::-1]
            for w in chosen:
                for label, _ in order:
                    loads.append(os.getloadavg()[0])
                    value, cpu_ms = measure(served[label], w, args, logdir)
                    rps.setdefault((w.name, label), []).append(value)
                    cpu.setdefault((w.name, label), []).append(cpu_ms)
                    print(
                        f"  round {round_no + 1} {w.name} {label}: {value:,.1f} req/s, "
                        f"{cpu_ms:.1f} CPU-ms/req",
                        flush=True,
                    )
    finally:
        for s in served.values():
            s.stop()
    print()
    print(f"python bench/kit.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(
        f"load average during the runs: median {statistics.median(loads):.1f}, "
        f"min {min(loads):.1f}, max {max(loads):.1f}"
    )
    print(
        "| workload | request kB | before req/s | after req/s | after/before "
        "| before CPU-ms/req | after CPU-ms/req | CPU before/after | req/s runs (before / after) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for w in chosen:
        after, after_cpu = rps[(w.name, "after")], cpu[(w.name, "after")]
        before, before_cpu = rps.get((w.name, "before")), cpu.get((w.name, "before"))
        b = statistics.median(before) if before else None
        a = statistics.median(after)
        bc = statistics.median(before_cpu) if before_cpu else None
        ac = statistics.median(after_cpu)
        same = equal[w.name]
        ratio = f"{a / b:.2f}x" if b and same else ("answers differ" if b else "")
        cpu_ratio = f"{bc / ac:.2f}x" if bc and ac and same else ""
        runs = (
            ", ".join(f"{x:.0f}" for x in (before or []))
            + " / "
            + ", ".join(f"{x:.0f}" for x in after)
        )
        print(
            f"| {w.name} | {len(w.body) / 1000:.1f} | {run.fmt(b, ',.1f')} | {a:,.1f} | {ratio} "
            f"| {run.fmt(bc, '.1f')} | {ac:.1f} | {cpu_ratio} | {runs} |"
        )
    return 0


if __name__ == "__main__":
    shutil.which("wrk") or sys.exit("wrk not found (apt-get install -y wrk)")
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.0f} s)")
    sys.exit(code)
