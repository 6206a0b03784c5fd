"""Subscriptions end to end: the five OPD subgraphs and a secured, hot-reloading gateway on real
servers (uvicorn with WebSockets), reached by real clients: the ``websockets`` library speaking
graphql-transport-ws, and httpx reading the SSE stream (``sse_events``)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from gateway.assembly import Services
from gateway.auth.cli import mint_token
from gateway.config import Settings, dev_settings
from gateway.reload import FetchedSupergraph, ReloadingGateway
from gateway.serve import _Server
from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.events import EventBroker
from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
from subgraphs.kit.store import Store
from subgraphs.sosial import TOPIC_PENYALURAN
from tests.servers import ServerThread
from tests.subgraphs.conftest import TEST_SCALE

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT_S = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class World:
    urls: dict[str, str]
    directory: Path
    broker: EventBroker

    def db(self, name: str) -> sqlite3.Connection:
        return sqlite3.connect(self.directory / f"{name}.sqlite3")

    def family(self) -> tuple[str, str, str, str]:
        """(noKk, desa code, head of family's name, village name) of one registered family."""
        with self.db("sosial") as sosial:
            no_kk, desa = sosial.execute(
                "SELECT no_kk, desa_kode FROM keluarga ORDER BY no_kk LIMIT 1"
            ).fetchone()
        with self.db("kependudukan") as dukcapil:
            (head,) = dukcapil.execute(
                "SELECT p.nama FROM keluarga k JOIN penduduk p ON p.nik = k.nik_kepala "
                "WHERE k.no_kk = ?",
                [no_kk],
            ).fetchone()
        with self.db("wilayah") as wilayah:
            village = wilayah.execute("SELECT nama FROM wilayah WHERE kode = ?", [desa]).fetchone()[
                0
            ]
        return no_kk, desa, head, village

    def subscribers(self) -> int:
        return self.broker.subscribers(TOPIC_PENYALURAN)

    async def publish(self, no_kk: str, *, expected_subscribers: int = 1) -> None:
        """Record a disbursement on the sosial subgraph once the gateway has subscribed
        ``expected_subscribers`` times (the event would otherwise reach nobody)."""
        deadline = time.monotonic() + WAIT_S
        while self.subscribers() < expected_subscribers:
            assert time.monotonic() < deadline, "the gateway never subscribed to sosial"
            await asyncio.sleep(0.02)
        mutation = (
            "mutation($kk: String!) { catatPenyaluranBansos(noKk: $kk, program: PKH, "
            "nominal: 750000) { id } }"
        )
        async with httpx.AsyncClient() as client:
            response = await client.post(
                self.urls["sosial"], json={"query": mutation, "variables": {"kk": no_kk}}
            )
        assert "errors" not in response.json(), response.text


def _broker_of(app: Any) -> EventBroker:
    for route in app.routes:
        events = getattr(getattr(route, "app", None), "events", None)
        if isinstance(events, EventBroker):
            return events
    raise AssertionError("the sosial app serves no WebSocket route")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = ensure_world(DEFAULT_SEED, TEST_SCALE, tmp_path_factory.mktemp("opd")).directory
    servers = []
    urls = {}
    broker = None
    for name in SUBGRAPHS:
        store = Store(directory / f"{name}.sqlite3")
        app = build_app(load_subgraph(name), store)
        if name == "sosial":
            broker = _broker_of(app)
        server = ServerThread(app, lifespan="off", ws="websockets-sansio").start()
        servers.append((server, store))
        urls[name] = f"{server.url}/graphql"
    assert broker is not None
    yield World(urls, directory, broker)
    for server, store in servers:
        server.stop()
        store.close()


class SwitchableSource:
    """A supergraph source that offers a new version once ``publish`` is called (hot reload)."""

    def __init__(self) -> None:
        self._next: FetchedSupergraph | None = None
        self._lock = threading.Lock()

    def publish(self, sdl: str, etag: str) -> None:
        with self._lock:
            self._next = FetchedSupergraph(sdl, etag, etag)

    async def fetch(self, etag: str | None) -> FetchedSupergraph | None:
        with self._lock:
            offered = self._next
        return None if offered is None or offered.etag == etag else offered


@dataclass
class Running:
    url: str
    state_dir: Path
    source: SwitchableSource
    gateway: ReloadingGateway
    server: ServerThread
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def audit_events(self) -> list[dict[str, Any]]:
        path = self.state_dir / "audit.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(path) as db:
            bodies = db.execute("SELECT body FROM jamajama_audit ORDER BY seq").fetchall()
        return [json.loads(body) for (body,) in bodies]


GatewayFactory = Callable[..., Running]


@pytest.fixture
def gateway(world: World, tmp_path: Path) -> Iterator[GatewayFactory]:
    """``gateway(**subscriptions)``: a secured gateway following a switchable source."""
    started: list[Running] = []

    def make(**subscriptions: Any) -> Running:
        state = tmp_path / f"gw{len(started)}"
        state.mkdir()
        settings = dev_settings(Settings(subscriptions=subscriptions), state)
        services = Services.from_settings(settings)
        initial = services.open_gateway(SUPERGRAPH.read_text(), world.urls)
        source = SwitchableSource()
        reloading = ReloadingGateway(initial, services.factory(world.urls), source, interval=0.05)
        app = services.app(reloading, services.guard())
        server = ServerThread(app, ws="websockets-sansio")
        # `jamajama gateway`'s server: it ends the subscriptions first when it shuts down
        production = _Server(server.server.config)
        production.before_shutdown = app.state.subscriptions
        server.server = production
        server.thread = threading.Thread(
            target=production.run, kwargs={"sockets": [server.sock]}, daemon=True
        )
        server.start()
        started.append(Running(server.url, state, source, reloading, server))
        return started[-1]

    yield make
    for running in started:
        running.server.stop()


def auth_headers(application: str | None, purpose: str | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if application:
        headers["Authorization"] = f"Bearer {mint_token(application)}"
    if purpose:
        headers["X-Jamajama-Purpose"] = purpose
    return headers


class WsClient:
    """A graphql-transport-ws client on the ``websockets`` library."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT_S) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})


async def ws_client(
    running: Running, application: str | None, purpose: str | None = None
) -> AsyncIterator[WsClient]:
    async with connect(running.ws_url, subprotocols=[PROTOCOL]) as connection:
        client = WsClient(connection)
        payload = auth_headers(application, purpose)
        await client.send({"type": "connection_init", "payload": payload})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each event of a text/event-stream response; comments are skipped."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data or event != "message":
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
