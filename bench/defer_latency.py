#!/usr/bin/env python3
"""Time to the primary part of a deferring operation when the deferred subgraph is slow (issue 18).

The five OPD subgraphs (test scale) and the secured gateway (dev auth, SQLite audit) run on
loopback servers in this process; ``sosial`` sits behind a proxy that waits ``--delay`` seconds
before forwarding. The operation reads ``keluarga { noKk }`` from kependudukan and defers
``desilKesejahteraan`` (sosial). A client reads the multipart answer as it streams and notes
when the first part is complete and when the whole answer is; the gateway server thread's CPU
per request is read from its thread clock (``--delay 0`` for a CPU comparison)::

    .venv/bin/python bench/defer_latency.py                      # this tree
    .venv/bin/python bench/defer_latency.py --tree /tmp/before   # the gateway of another tree
    .venv/bin/python bench/defer_latency.py --delay 0 --requests 200

``--tree DIR`` puts DIR first on the import path (a ``git worktree`` of the base commit), so its
``gateway`` is measured with this script.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUERY = (
    "query Keluarga($kk: String!) { keluarga(noKk: $kk) { noKk "
    '... @defer(label: "desil") { desilKesejahteraan } } }'
)
ACCEPT = "multipart/mixed;deferSpec=20220824, application/json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=1.0, help="sosial's delay, seconds")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="measure the gateway of this source tree")
    args = parser.parse_args()
    root = (args.tree or Path(__file__).resolve().parents[1]).resolve()
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
    import gateway

    print(f"gateway from {Path(gateway.__file__).parent}")
    asyncio.run(_measure(root, args.delay, args.requests))
    return 0


async def _measure(root: Path, delay: float, requests: int) -> None:
    servers, server, no_kk = _start(root, delay)
    try:
        results, cpu = await _requests(server, no_kk, requests)
    finally:
        for running in reversed(servers):
            running.stop()
    firsts = sorted(r[0] for r in results)
    wholes = sorted(r[1] for r in results)
    middle = len(results) // 2
    print(
        f"sosial delayed {delay:g} s, {requests} requests: primary part after "
        f"{firsts[middle] * 1000:.0f} ms (median; min {firsts[0] * 1000:.0f}, max "
        f"{firsts[-1] * 1000:.0f}), whole answer {wholes[middle] * 1000:.0f} ms; gateway "
        f"server thread CPU {cpu * 1000:.2f} ms per request"
    )


def _start(root: Path, delay: float) -> tuple[list[Any], Any, str]:
    """The subgraphs, the slow proxy before sosial, the secured gateway; a family's No. KK."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from gateway.assembly import Services
    from gateway.config import Settings, dev_settings
    from subgraphs import SUBGRAPHS, load_subgraph
    from subgraphs.kit.app import build_app
    from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
    from subgraphs.kit.store import Store
    from tests.servers import ServerThread
    from tests.subgraphs.conftest import TEST_SCALE

    work = Path(tempfile.mkdtemp(prefix="defer-latency-"))
    directory = ensure_world(DEFAULT_SEED, TEST_SCALE, work / "opd").directory
    servers: list[Any] = []
    urls: dict[str, str] = {}
    for name in SUBGRAPHS:
        server = ServerThread(
            build_app(load_subgraph(name), Store(directory / f"{name}.sqlite3")), lifespan="off"
        ).start()
        servers.append(server)
        urls[name] = f"{server.url}/graphql"
    target = urls["sosial"]

    async def slow(request: Request) -> Response:
        body = await request.body()
        await asyncio.sleep(delay)
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                target, content=body, headers={"content-type": "application/json"}
            )
        return Response(answer.content, answer.status_code, media_type="application/json")

    proxy = ServerThread(Starlette(routes=[Route("/graphql", slow, methods=["POST"])]))
    servers.append(proxy.start())
    urls["sosial"] = f"{proxy.url}/graphql"
    state = work / "gateway"
    state.mkdir()
    services = Services.from_settings(dev_settings(Settings(), state))
    supergraph = (root / "schema" / "supergraph.graphql").read_text()
    server = ServerThread(
        services.app(services.open_gateway(supergraph, urls), services.guard())
    ).start()
    servers.append(server)
    with sqlite3.connect(directory / "sosial.sqlite3") as db:
        (no_kk,) = db.execute("SELECT no_kk FROM keluarga ORDER BY no_kk LIMIT 1").fetchone()
    return servers, server, no_kk


async def _requests(
    server: Any, no_kk: str, requests: int
) -> tuple[list[tuple[float, float]], float]:
    """(time to the first part, time to the whole answer) per request; gateway CPU/request."""
    import httpx

    from gateway.auth.cli import mint_token

    headers = {
        "Authorization": f"Bearer {mint_token('sibansos')}",
        "X-Jamajama-Purpose": "penyaluran_bansos",
        "accept": ACCEPT,
    }
    body = {"query": QUERY, "variables": {"kk": no_kk}}

    async def once() -> tuple[float, float]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            started = time.perf_counter()
            first = None
            received = b""
            async with client.stream("POST", "/graphql", json=body, headers=headers) as response:
                async for chunk in response.aiter_raw():
                    received += chunk
                    if first is None and received.count(b"\r\n---") >= 2:
                        first = time.perf_counter() - started
            assert first is not None and received.endswith(b"-----\r\n"), received
            return first, time.perf_counter() - started

    await once()  # warm: plans, shapers, connections
    clock = time.pthread_getcpuclockid(server.thread.ident)
    cpu = time.clock_gettime(clock)
    results = [await once() for _ in range(requests)]
    return results, (time.clock_gettime(clock) - cpu) / requests


if __name__ == "__main__":
    sys.exit(main())
