#!/usr/bin/env python3
"""The audit store alone under concurrent appends (issue 15 goal 5): personal-data records/s.

Every append is what a personal-data response waits for: one signed record with one subject
hash, returned only once committed. ``--appenders N`` coroutines append at once in each of
``--processes P`` processes (P gateway workers sharing one store), to SQLite (one file, WAL,
``synchronous=FULL``) and PostgreSQL (the local server, a fresh table dropped after). After each
run the chain is verified (links, hashes, signatures, subject index): a run whose chain does not
verify, or with fewer records than appended, is an error, not a figure.

``--baseline DIR`` runs the same measurement on the code in DIR (e.g. a worktree of ``integ``)
in the same run, alternating with ours, so that before/after share the machine's load:

    git worktree add /tmp/jj-integ integ
    .venv/bin/python bench/audit_store.py --baseline /tmp/jj-integ
    .venv/bin/python bench/audit_store.py --backends postgres --appenders 1,64 --processes 1,2

Each measurement runs in fresh interpreters importing ``gateway`` from the tree measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SUBJECT_KEY = b"s" * 32
SIGNING_KEY = b"k" * 32


# --- inside one measured process (imports gateway from --tree) ---------------------------------


def _store(backend: str, target: str) -> Any:
    from gateway.audit.store import PostgresAuditStore, SqliteAuditStore

    if backend == "sqlite":
        return SqliteAuditStore(target)
    return PostgresAuditStore(POSTGRES_URL, target, migrate_at_start=True)


def _log(backend: str, target: str) -> Any:
    from gateway.audit.log import AuditLog

    return AuditLog(_store(backend, target), SUBJECT_KEY, SIGNING_KEY, write_timeout=30.0)


def _event(log: Any, n: int) -> Any:
    from gateway.audit.records import AuditEvent

    return AuditEvent(
        time=f"2026-12-01T10:00:{n % 60:02d}.000+00:00",
        request_id=f"bench-{n}",
        application="sibansos",
        opd="Dinas Sosial",
        user="operator",
        purpose="penyaluran_bansos",
        operation_name="Penduduk",
        operation_type="query",
        document_hash="0" * 64,
        fields=("Penduduk.nama", "Penduduk.tanggalLahir"),
        subjects=(log.subject_hash(f"{1871010101000000 + n}"),),
        personal=True,
    )


async def _append(backend: str, target: str, records: int, appenders: int, start_at: float) -> dict:
    from gateway.errors import GatewayError

    log = _log(backend, target)
    try:
        await log.append(_event(log, 0))  # connected and migrated before the clock starts
        await asyncio.sleep(max(0.0, start_at - time.time()))
        each = records // appenders
        latencies: list[float] = []

        failed = 0

        async def appender(offset: int) -> None:
            nonlocal failed
            for n in range(each):
                began = time.perf_counter()
                try:
                    await log.append(_event(log, offset + n))
                except GatewayError as error:  # AUDIT_UNAVAILABLE: the data would be withheld
                    assert error.code == "AUDIT_UNAVAILABLE", error.code
                    failed += 1
                    continue
                latencies.append(time.perf_counter() - began)

        started = time.time()
        await asyncio.gather(*(appender(i * each) for i in range(appenders)))
        ended = time.time()
        latencies.sort() if latencies else latencies.append(float("nan"))
        group = getattr(log.store, "_group", None)
        return {
            "start": started,
            "end": ended,
            "records": each * appenders - failed,
            "failed": failed,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "batches": group.batches if group is not None else None,
            "batched": group.records if group is not None else None,
        }
    finally:
        await log.aclose()


async def _verify(backend: str, target: str) -> dict:
    log = _log(backend, target)
    try:
        report = await log.verify()
        return {"ok": report.ok, "records": report.records, "problems": len(report.problems)}
    finally:
        await log.aclose()


async def _drop(target: str) -> dict:
    from gateway.audit.store import PostgresAuditStore

    store = PostgresAuditStore(POSTGRES_URL, target)
    await store.drop()
    await store.aclose()
    return {}


def inner(args: argparse.Namespace) -> None:
    sys.path.insert(0, args.tree)
    import gateway

    assert Path(gateway.__file__).is_relative_to(Path(args.tree).resolve()), gateway.__file__
    if args.inner == "append":
        work = _append(args.backend, args.target, args.records, args.appenders, args.start_at)
    elif args.inner == "verify":
        work = _verify(args.backend, args.target)
    else:
        work = _drop(args.target)
    print(json.dumps(asyncio.run(work)), flush=True)


# --- the driver ---------------------------------------------------------------------------------


def _spawn(tree: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--tree", str(tree), *argv],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tree,
    )


def _result(proc: subprocess.Popen[str]) -> dict:
    out, _ = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"measurement process failed ({proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def measure(
    tree: Path, backend: str, records: int, appenders: int, processes: int, tmp: Path
) -> dict:
    """One run: ``processes`` x ``appenders`` concurrent appends of ``records`` in all, then
    the chain verified."""
    target = (
        str(tmp / f"audit-{uuid.uuid4().hex[:8]}.sqlite3")
        if backend == "sqlite"
        else f"jj_bench_{uuid.uuid4().hex[:10]}"
    )
    try:
        start_at = time.time() + 2.0 + processes  # every process connected first
        procs = [
            _spawn(
                tree,
                *("--inner", "append", "--backend", backend, "--target", target),
                *("--records", str(records // processes), "--appenders", str(appenders)),
                *("--start-at", str(start_at)),
            )
            for _ in range(processes)
        ]
        runs = [_result(p) for p in procs]
        verify = ("--inner", "verify", "--backend", backend, "--target", target)
        verified = _result(_spawn(tree, *verify))
    finally:
        if backend == "postgres":
            _result(_spawn(tree, "--inner", "drop", "--backend", backend, "--target", target))
    appended = sum(r["records"] for r in runs)
    failed = sum(r["failed"] for r in runs)
    expected = appended + processes  # + each process's warm-up record
    # a failed append was withheld; with its transaction rolled back it is not in the chain
    if not verified["ok"] or not expected <= verified["records"] <= expected + failed:
        raise RuntimeError(f"the chain does not verify after the run: {verified}, {expected}")
    elapsed = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    batches = [r["batches"] for r in runs if r["batches"] is not None]
    batched = sum(r["batched"] for r in runs if r["batched"] is not None)
    return {
        "rate": appended / elapsed,
        "p50_ms": max(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "per_batch": batched / sum(batches) if batches and sum(batches) else None,
        "verified": verified["records"],
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--appenders", default="1,16,64", help="concurrent appends per process")
    parser.add_argument("--processes", default="1,2", help="processes sharing the store")
    parser.add_argument("--records", type=int, default=4000, help="records per run (all processes)")
    parser.add_argument("--baseline", type=Path, help="a tree (worktree of integ) to compare with")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--inner", choices=("append", "verify", "drop"), help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        args.appenders = int(args.appenders.split(",")[0])
        inner(args)
        return
    trees = [("ours", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(
        "| store | processes x appenders | code | records/s | p50 ms | p99 ms | records/commit "
        "| failed (AUDIT_UNAVAILABLE) |\n|---|---|---|---|---|---|---|---|"
    )
    with tempfile.TemporaryDirectory(prefix="jj-audit-bench-") as tmp:
        for backend in args.backends.split(","):
            for processes in (int(p) for p in args.processes.split(",")):
                for appenders in (int(a) for a in args.appenders.split(",")):
                    for _ in range(args.repeat):
                        for name, tree in trees:
                            r = measure(
                                tree, backend, args.records, appenders, processes, Path(tmp)
                            )
                            per_batch = f"{r['per_batch']:.1f}" if r["per_batch"] else "1"
                            print(
                                f"| {backend} | {processes} x {appenders} | {name} | "
                                f"{r['rate']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                                f"{per_batch} | {r['failed']} |",
                                flush=True,
                            )


if __name__ == "__main__":
    main()
