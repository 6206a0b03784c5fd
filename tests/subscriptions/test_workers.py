"""`jamajama gateway --workers 2` stopped with SIGTERM: the subscriptions of every worker end with
the documented last message (SSE: `next` with `SUBSCRIPTION_SERVER_SHUTDOWN`, then `complete`;
WebSocket: the same `next`, `complete`, then close 1001), none is cut. Which worker serves which
subscription is read from each worker's own metrics file (`jamajama_subscriptions_open`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.subscriptions.conftest import (
    PROTOCOL,
    ROOT,
    SUPERGRAPH,
    WAIT_S,
    World,
    auth_headers,
    sse_events,
)

pytestmark = pytest.mark.anyio

AGGREGATE = "subscription Ringkas { penyaluranBansos { id program { kode } } }"
SHUTDOWN = {
    "errors": [
        {
            "message": "subscription has been closed because the gateway is shutting down",
            "extensions": {"code": "SUBSCRIPTION_SERVER_SHUTDOWN"},
        }
    ]
}
APPLICATION = "dasbor-gubernur"


@contextlib.contextmanager
def workers_gateway(world: World, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`jamajama gateway --workers 2 --dev-auth` on the OPD subgraphs (state in ``tmp_path``)."""
    config = tmp_path / "jamajama.toml"
    config.write_text("[subscriptions]\nmax_per_client = 50\n")
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    urls = [arg for name, url in world.urls.items() for arg in ("--subgraph-url", f"{name}={url}")]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--supergraph",
            str(SUPERGRAPH),
            "--port",
            "0",
            "--workers",
            "2",
            "--dev-auth",
            "--config",
            str(config),
            *urls,
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics), "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("Jama Jama gateway listening on "):
            process.kill()
            raise AssertionError(f"gateway did not start: {line!r} {process.communicate()[1]}")
        yield line.rsplit(" ", 1)[1].strip().removesuffix("/graphql"), process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def open_by_worker(directory: Path) -> dict[tuple[str, str], float]:
    """(worker file, transport) -> subscriptions open there, from each worker's own gauge file."""
    opened: dict[tuple[str, str], float] = {}
    for path in directory.glob("gauge_livesum_*.db"):
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in metric.samples:
                if sample.name == "jamajama_subscriptions_open":
                    opened[(path.stem, sample.labels["transport"])] = sample.value
    return opened


async def sse_client(url: str, got: list[tuple[str, str]], ready: asyncio.Event) -> None:
    headers = {**auth_headers(APPLICATION), "accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=url, timeout=WAIT_S * 3) as http,
        http.stream("POST", "/graphql", json={"query": AGGREGATE}, headers=headers) as response,
    ):
        assert response.status_code == 200
        ready.set()
        async for event in sse_events(response):
            got.append(event)


async def ws_client(url: str, got: list[Any], ready: asyncio.Event) -> None:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=[PROTOCOL]) as connection:
        init = {"type": "connection_init", "payload": auth_headers(APPLICATION)}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": AGGREGATE}}
        await connection.send(json.dumps(subscribe))
        ready.set()
        try:
            while True:
                message = json.loads(await connection.recv())
                if message["type"] == "ping":
                    await connection.send(json.dumps({"type": "pong"}))
                    continue
                got.append(message)
        except ConnectionClosed as closed:
            got.append(
                (
                    "closed",
                    closed.rcvd.code if closed.rcvd else None,
                    closed.rcvd and closed.rcvd.reason,
                )
            )


async def test_sigterm_ends_the_subscriptions_of_every_worker_cleanly(
    world: World, tmp_path: Path
) -> None:
    baseline = world.subscribers()
    with workers_gateway(world, tmp_path) as (url, process):
        clients: list[tuple[str, list[Any], asyncio.Task[None]]] = []
        deadline = time.monotonic() + 60
        while True:
            # each client is a new connection: the kernel spreads them over the workers' sockets
            for transport, run in (("sse", sse_client), ("websocket", ws_client)):
                got: list[Any] = []
                ready = asyncio.Event()
                task = asyncio.create_task(run(url, got, ready))
                await asyncio.wait_for(ready.wait(), WAIT_S)
                clients.append((transport, got, task))
            while world.subscribers() < baseline + len(clients):
                assert time.monotonic() < deadline, "the gateway did not subscribe upstream"
                await asyncio.sleep(0.05)
            opened = open_by_worker(tmp_path / "prometheus")
            cells = {key for key, value in opened.items() if value > 0}
            if len({worker for worker, _ in cells}) == 2 and len(cells) == 4:
                break  # each worker serves subscriptions over both transports
            assert len(clients) < 40, f"connections did not reach both workers: {opened}"
        assert sum(opened.values()) == len(clients)
        await world.publish(world.family()[0], expected_subscribers=baseline + len(clients))
        for transport, got, _ in clients:
            deadline = time.monotonic() + WAIT_S
            while not got:
                assert time.monotonic() < deadline, f"no event reached a {transport} client"
                await asyncio.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*(task for _, _, task in clients)), WAIT_S * 3)
        assert await asyncio.to_thread(process.wait, 30) == 0
    for transport, got, _ in clients:
        if transport == "sse":
            assert [name for name, _ in got] == ["next", "next", "complete"], got
            assert json.loads(got[1][1]) == SHUTDOWN
        else:
            assert [
                message[0] if isinstance(message, tuple) else message["type"] for message in got
            ] == [
                "next",
                "next",
                "complete",
                "closed",
            ], got
            assert got[1]["payload"] == SHUTDOWN
            assert got[3] == ("closed", 1001, "the gateway is shutting down")
    deadline = time.monotonic() + WAIT_S
    while world.subscribers() > baseline:  # the upstream subscriptions ended too
        assert time.monotonic() < deadline, "subscriptions to the subgraph were left open"
        await asyncio.sleep(0.05)
