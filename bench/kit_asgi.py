#!/usr/bin/env python3
"""CPU per request of the `case` fetches through each subgraph's ASGI app, in process (no sockets).

Issue 15 goal 4. `bench/kit.py`'s workloads (the four documents the gateway sends the OPD
subgraphs for `bench/opd.py`'s `case` operation), each answered by the subgraph's whole ASGI app
(`build_app`: Starlette, the fast path or Strawberry, orjson) called directly, `--requests` times:
process CPU time per request, and a digest of each answer's bytes (equal digests = byte-identical
answers). No HTTP server, no wrk: on a busy machine the CPU time of the subgraph's own code is
what stays comparable. `--tree DIR` serves the subgraph code of another source tree (a `git
worktree` of another commit; this tree's interpreter and data); run it for each tree in turn,
alternating, and compare the lines:

    for round in 1 2 3; do
      for tree in /tmp/before .; do .venv/bin/python bench/kit_asgi.py --tree $tree; done
    done
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="source tree of the subgraphs")
    parser.add_argument("--requests", type=int, default=200, help="requests per workload (200)")
    parser.add_argument("--region", default="18.71", help="daftarPenduduk region")
    parser.add_argument("--page", type=int, default=50, help="residents in the case (50)")
    parser.add_argument("--data-scale", type=float, default=0.001, help="OPD data scale (0.001)")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO / "var" / "data", help="generated stores cache"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be 1..100000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tree = args.tree.resolve()
    sys.path[:0] = [str(tree), str(BENCH)]  # that tree's `subgraphs`, this tree's bench/kit.py
    import kit

    from subgraphs import load_subgraph
    from subgraphs.kit.app import build_app
    from subgraphs.kit.generator import ensure_world
    from subgraphs.kit.store import Store

    directory = ensure_world(18, args.data_scale, args.data_dir).directory
    loop = asyncio.new_event_loop()
    apps: dict[str, Any] = {}

    def app_for(name: str) -> Any:
        if name not in apps:
            store = Store(directory / f"{name}.sqlite3")
            apps[name] = build_app(load_subgraph(name), store, signing_keys=[])
        return apps[name]

    def post(name: str, body: bytes) -> bytes:
        return loop.run_until_complete(_post(app_for(name), body))

    chosen = kit.workloads(lambda b: json.loads(post("kependudukan", b)), args.region, args.page)
    total = 0.0
    for workload in chosen:
        if not workload.name.startswith("case."):
            continue
        for _ in range(10):
            answer = post(workload.subgraph, workload.body)
        started = time.process_time()
        for _ in range(args.requests):
            post(workload.subgraph, workload.body)
        cpu_ms = (time.process_time() - started) * 1000 / args.requests
        total += cpu_ms
        digest = hashlib.sha256(answer).hexdigest()[:12]
        print(f"{workload.name}: {cpu_ms:.3f} CPU-ms/req, {len(answer)} bytes, sha256 {digest}")
    print(f"{tree}: the four case fetches {total:.3f} CPU-ms")
    return 0


async def _post(app: Any, body: bytes) -> bytes:
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"sg"), (b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if status != 200 or b'"errors"' in answer:
        raise RuntimeError(f"HTTP {status}: {answer[:300]!r}")
    return answer


if __name__ == "__main__":
    sys.exit(main())
