#!/usr/bin/env python3
"""The Lampung OPD scenario: the five OPD subgraphs behind the gateways (issue 7).

Three operations over `schema/supergraph.graphql` (wilayah, kependudukan, kesehatan, pendidikan,
sosial; synthetic data at `--data-scale`, seed 18, as `jamajama dev` serves it):

- `dashboard`: for each regency, population, JKN coverage (`@requires` population), schools and
  families receiving assistance — five subgraphs, one entity hop per OPD;
- `resident`: the README's case query, one resident (the region's first) with the family,
  each member's school and JKN membership, and the family's assistance;
- `case`: the same for a page of residents of a regency (`daftarPenduduk`) — entity-heavy
  (hundreds of `Penduduk` and `Keluarga` representations per request across four subgraphs).

Ours runs with authorization on (`--dev-auth`): a development token of the demo application
`sibansos` (every scope, `kependudukan:nik` included, so NIKs are not masked) and the approved
purpose `penyaluran_bansos`; every personal-data access is audited (SQLite under the run's
directory), as in production. The benchmark configuration `bench/gateways/jamajama-opd.toml`
switches the per-application rate limit off (wrk would hit it in seconds). Apollo Gateway
refuses a supergraph whose security features are `for: SECURITY`; it gets a copy without that
argument and enforces nothing. Its answer is the reference: ours is timed only when JSON-equal.

Pinning as `run.py`: the gateway on CPU 0; wrk and the five subgraph processes on CPU 1.

    .venv/bin/python bench/opd.py                              # both operations, ours + apollo
    .venv/bin/python bench/opd.py --operations case --only ours --duration 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402

OPDS = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")
JAMAJAMA = str(REPO / ".venv" / "bin" / "jamajama")
APPLICATION = "sibansos"
PURPOSE = "penyaluran_bansos"
PURPOSE_HEADER = "X-Jamajama-Purpose"

DASHBOARD_QUERY = """query Dasbor {
  kabupatenKota {
    kode
    nama
    jumlahPenduduk
    cakupanJkn
    jumlahSekolah
    jumlahKeluargaPenerima
  }
}"""

#: The README's case query: one resident, their family, each member's school and JKN status.
RESIDENT_QUERY = """query Kasus($nik: String!) {
  penduduk(nik: $nik) {
    nama
    keluarga {
      noKk
      anggota {
        nik
        nama
        pendidikan { kelas sekolah { nama } }
        kepesertaanJkn { segmen aktif }
      }
      penerimaBansos { program { nama } aktif }
      desilKesejahteraan
    }
  }
}"""

#: The entity-heavy case: the same per resident, for a page of residents of a region.
CASE_QUERY = """query KasusWilayah($wilayahKode: String!, $first: Int!) {
  daftarPenduduk(wilayahKode: $wilayahKode, first: $first) {
    totalCount
    nodes {
      nik
      nama
      keluarga {
        noKk
        anggota {
          nik
          nama
          pendidikan { kelas sekolah { nama } }
          kepesertaanJkn { segmen aktif }
        }
        penerimaBansos { program { nama } aktif }
        desilKesejahteraan
      }
    }
  }
}"""

OURS = run.Gateway(
    "ours",
    "Jama Jama (authorization on, dev tokens)",
    [
        JAMAJAMA,
        "gateway",
        "--supergraph",
        "{supergraph}",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--dev-auth",
        "--config",
        str(BENCH / "gateways" / "jamajama-opd.toml"),
    ],
    "/graphql",
    needs_node=False,
)
APOLLO = run.Gateway(
    "apollo",
    "Apollo Gateway 2.14.4 (no authorization)",
    [str(run.NODE), str(run.GATEWAYS_DIR / "apollo.mjs"), "{apollo_supergraph}", "{port}"],
    "/",
)
GATEWAYS = [OURS, APOLLO]


def request_body(operation: str, region: str, page: int, nik: str = "") -> bytes:
    if operation == "dashboard":
        return json.dumps({"query": DASHBOARD_QUERY, "operationName": "Dasbor"}).encode()
    if operation == "resident":
        body = {"query": RESIDENT_QUERY, "operationName": "Kasus", "variables": {"nik": nik}}
        return json.dumps(body).encode()
    variables = {"wilayahKode": region, "first": page}
    body = {"query": CASE_QUERY, "operationName": "KasusWilayah", "variables": variables}
    return json.dumps(body).encode()


def supergraph_for(urls: dict[str, str], for_apollo: bool) -> str:
    """`schema/supergraph.graphql` routed to `urls`; for Apollo without `for: SECURITY`."""
    text = (REPO / "schema" / "supergraph.graphql").read_text()
    for name, url in urls.items():
        text = re.sub(
            rf'(@join__graph\(name: "{name}", url: )"[^"]*"', rf'\1"{url}"', text, count=1
        )
    if for_apollo:
        text = text.replace(", for: SECURITY)", ")")
    return text


def start_subgraphs(
    args: argparse.Namespace, logdir: Path
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """The five OPD subgraphs, one process each under one shell, pinned to the load CPU.

    With ``--subgraphs-tree DIR`` their code is DIR's (a worktree of another commit: "before"),
    run by this tree's interpreter with DIR first on the import path; the data stays this tree's.
    """
    ports = {name: run.free_port() for name in OPDS}
    env = dict(os.environ)
    serve = JAMAJAMA
    if args.subgraphs_tree:
        env["PYTHONPATH"] = str(args.subgraphs_tree.resolve())
        code = "import sys; from gateway.cli import main; sys.exit(main())"
        serve = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    data_dir = REPO / "var" / "data"
    commands = [
        f"{serve} subgraph serve {name} --host 127.0.0.1 --port {port} "
        f"--scale {args.data_scale} --seed 18 --data-dir {data_dir} > {logdir / name}.log 2>&1 &"
        for name, port in ports.items()
    ]
    proc = subprocess.Popen(
        ["taskset", "-c", run.LOAD_CPU, "bash", "-c", " ".join(commands) + " wait"],
        cwd=args.subgraphs_tree or REPO,
        env=env,
        start_new_session=True,
    )
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    deadline = time.monotonic() + 180  # the first start at a new scale generates the data
    for name, url in urls.items():
        while True:
            try:
                status, _ = run.post(url, b'{"query":"{__typename}"}', timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                run.stop(proc)
                raise RuntimeError(f"subgraph {name} did not start (see {logdir / name}.log)")
            time.sleep(0.3)
    return proc, urls


def first_resident(kependudukan: str, region: str) -> str:
    """The NIK of the first resident of `region`, asked of the subgraph directly."""
    query = "query ($w: String!) { daftarPenduduk(wilayahKode: $w, first: 1) { nodes { nik } } }"
    body = {"query": query, "variables": {"w": region}}
    _, answer = run.post(kependudukan, json.dumps(body).encode())
    return str(json.loads(answer)["data"]["daftarPenduduk"]["nodes"][0]["nik"])


def mint_token() -> str:
    out = subprocess.run(
        [JAMAJAMA, "token", "mint", APPLICATION, "--ttl", "86400"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def reference_apollo(ctx: dict[str, Any]) -> Iterator[str]:
    """Apollo Gateway on ``ctx["apollo_supergraph"]``, ready; yields its URL and stops it after."""
    port = run.free_port()
    command = [
        part.format(apollo_supergraph=ctx["apollo_supergraph"], port=port)
        for part in APOLLO.command
    ]
    url = f"http://127.0.0.1:{port}/"
    with (ctx["logdir"] / "apollo.reference.log").open("wb") as log:
        proc = subprocess.Popen(
            ["taskset", "-c", run.GATEWAY_CPU, *command],
            cwd=BENCH,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
    try:
        why = run.wait_ready(proc, url, ctx["small"], timeout=60)
        if why:
            raise RuntimeError(f"apollo not available: {why}")
        yield url
    finally:
        run.stop(proc)


def reference_answer(ctx: dict[str, Any], timeout: float) -> bytes:
    """Apollo's answer to the request (started and stopped here)."""
    with reference_apollo(ctx) as url:
        status, answer = run.post(url, ctx["query"], timeout=timeout)
    if status != 200 or b'"errors"' in answer:
        raise RuntimeError(f"apollo answered HTTP {status}: {answer[:300]!r}")
    return answer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--operations", default="dashboard,resident,case", help="dashboard,resident,case"
    )
    parser.add_argument("--only", default="ours,apollo", help="ours,apollo")
    parser.add_argument("--region", default="18.71", help="daftarPenduduk region (Bandar Lampung)")
    parser.add_argument("--page", type=int, default=50, help="residents per case request (50)")
    parser.add_argument(
        "--data-scale", default="0.001", help="OPD data scale (0.001 ≈ 9,100 residents)"
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up (default 3)")
    parser.add_argument("--connections", type=int, default=20, help="default 20")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--sharing",
        choices=("on", "off"),
        default="on",
        help="ours: in-flight sharing of identical subgraph fetches (`[subgraphs] deduplicate`)",
    )
    parser.add_argument(
        "--gateway-tree",
        type=Path,
        help="run ours with the gateway's code from this source tree (e.g. a worktree of the "
        "base commit; this tree's interpreter, DIR first on the import path)",
    )
    parser.add_argument(
        "--subgraphs-tree",
        type=Path,
        help="serve the OPD subgraphs from this source tree (e.g. a worktree of the base commit)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    operations = args.operations.split(",")
    selected = [g for g in GATEWAYS if g.name in args.only.split(",")]
    run.ensure_node_modules()
    logdir = Path(tempfile.mkdtemp(prefix="jamajama-opd-"))
    print(f"machine: {run.machine()}")
    print(
        f"gateway on CPU {run.GATEWAY_CPU}; wrk and the five subgraphs on CPU {run.LOAD_CPU}; "
        f"logs in {logdir}",
        flush=True,
    )
    subgraphs, urls = start_subgraphs(args, logdir)
    rows: list[tuple[str, int, run.Result]] = []
    try:
        supergraph = logdir / "supergraph.graphql"
        supergraph.write_text(supergraph_for(urls, for_apollo=False))
        apollo_supergraph = logdir / "supergraph.apollo.graphql"
        apollo_supergraph.write_text(supergraph_for(urls, for_apollo=True))
        config = BENCH / "gateways" / "jamajama-opd.toml"
        if args.sharing == "off":
            config = logdir / "jamajama-opd.toml"
            config.write_text(
                (BENCH / "gateways" / "jamajama-opd.toml").read_text()
                + "\n[subgraphs]\ndeduplicate = false\n"
            )
        headers = {"Authorization": f"Bearer {mint_token()}", PURPOSE_HEADER: PURPOSE}
        for operation in operations:
            opdir = logdir / operation
            opdir.mkdir()
            nik = first_resident(urls["kependudukan"], args.region)
            query = request_body(operation, args.region, args.page, nik)
            (opdir / "query.json").write_bytes(query)
            ctx: dict[str, Any] = {
                "logdir": opdir,
                "query_file": opdir / "query.json",
                "query": query,
                "small": b'{"query":"{__typename}"}',
                "supergraph": str(supergraph),
                "apollo_supergraph": str(apollo_supergraph),
                "subgraphs_pid": subgraphs.pid,
                "headers": headers,
            }
            expected = reference_answer(ctx, timeout=60)
            (opdir / "expected.json").write_bytes(expected)
            ctx.update(expected_raw=expected, expected=run.ordered(expected), expected_file="")
            print(f"== {operation}: {len(expected):,} bytes (Apollo's answer)", flush=True)
            for gw in selected:
                # Each gateway run in its own directory: --dev-auth keeps its state in ./var/dev.
                workdir = opdir / gw.name
                workdir.mkdir()
                gw_here = run.Gateway(
                    gw.name,
                    gw.label,
                    [
                        p.replace("{apollo_supergraph}", str(apollo_supergraph)).replace(
                            str(BENCH / "gateways" / "jamajama-opd.toml"), str(config)
                        )
                        for p in gw.command
                    ],
                    gw.path,
                    workdir if gw.name == "ours" else BENCH,
                    gw.needs_node,
                    env=(
                        (("PYTHONPATH", str(args.gateway_tree.resolve())),)
                        if args.gateway_tree and gw.name == "ours"
                        else ()
                    ),
                )
                try:
                    result = run.bench_gateway(gw_here, args, ctx)
                except Exception as error:  # report and go on
                    result = run.Result(
                        gw.name, gw.label, "failed", f"{type(error).__name__}: {error}"
                    )
                print(
                    f"  {gw.name}: {result.status}"
                    + (
                        f": {result.rps:,.1f} req/s, CPU {result.cpu_pct:.0f} %"
                        if result.rps
                        else ""
                    )
                    + (f" — {result.detail}" if result.detail else ""),
                    flush=True,
                )
                rows.append((operation, len(expected), result))
    finally:
        run.stop(subgraphs)
    print()
    print(f"python {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
    print(
        "| operation | gateway | status | answer kB | req/s | p50 ms | p99 ms | CPU % "
        "| CPU-ms/req | peak RSS MiB | subgraphs CPU % |"
    )
    print("|" + "---|" * 11)
    for operation, size, r in rows:
        status = r.status if not r.detail else f"{r.status} ({r.detail[:100]})"
        per_request = 10 * r.cpu_pct / r.rps if r.rps and r.cpu_pct is not None else None
        print(
            "| "
            + " | ".join(
                [
                    operation,
                    r.name,
                    status.replace("|", "/"),
                    f"{size / 1000:,.1f}",
                    run.fmt(r.rps, ",.1f"),
                    run.fmt(r.p50_ms, ",.1f"),
                    run.fmt(r.p99_ms, ",.1f"),
                    run.fmt(r.cpu_pct, ".0f"),
                    run.fmt(per_request, ",.1f"),
                    run.fmt(r.peak_rss_mb, ",.0f"),
                    run.fmt(r.subgraphs_cpu_pct, ".0f"),
                ]
            )
            + " |"
        )
    if args.json:
        payload = {
            "machine": run.machine(),
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "rows": [
                {
                    "operation": op,
                    "answer_bytes": size,
                    **{k: getattr(r, k) for k in run.Result.__dataclass_fields__},
                }
                for op, size, r in rows
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    shutil.which("wrk") or sys.exit("wrk not found (apt-get install -y wrk)")
    sys.exit(main())
