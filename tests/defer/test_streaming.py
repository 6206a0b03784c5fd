"""Incremental delivery for real: the primary part reaches the client while the subgraph behind
the deferred fragment has not answered, each part's audit record is written before it is sent,
and a failing deferred subgraph degrades the deferred part only.

The secured gateway of the OPD world runs on a real server with ``sosial`` behind a gate
(a proxy that holds every request until the test opens it, or answers 500); the client reads the
multipart stream as it arrives, then parses the whole body with a MIME parser."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.assembly import Services
from gateway.config import Settings, dev_settings
from tests.defer.multipart import parts_of
from tests.servers import ServerThread
from tests.subscriptions.conftest import SUPERGRAPH, WAIT_S, Running, World, auth_headers

pytestmark = pytest.mark.anyio

#: the primary part from kependudukan, the deferred fragment from sosial (behind the gate)
KELUARGA = """
query Keluarga($kk: String!) {
  keluarga(noKk: $kk) {
    noKk
    ... @defer(label: "desil") { desilKesejahteraan }
  }
}
"""
MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"


@dataclass
class Gate:
    """A proxy to one subgraph that holds requests until ``opened`` (or fails them)."""

    target: str
    opened: threading.Event = field(default_factory=threading.Event)
    fail: bool = False
    asked: int = 0
    answered: int = 0
    #: requests for root fields (not ``_entities``)
    root_reads: int = 0
    #: the answer to every root read after the first (the subgraph's data changed meanwhile)
    later: bytes | None = None

    async def handle(self, request: Request) -> Response:
        self.asked += 1
        body = await request.body()
        if self.fail:
            self.answered += 1
            return Response("subgraph down", status_code=500)
        if b"_entities" not in body:
            self.root_reads += 1
        if self.later is not None and self.root_reads > 1 and b"_entities" not in body:
            self.answered += 1
            return Response(self.later, media_type="application/json")
        await asyncio.to_thread(self.opened.wait, WAIT_S)
        async with httpx.AsyncClient(timeout=WAIT_S) as client:
            answer = await client.post(
                self.target, content=body, headers={"content-type": "application/json"}
            )
        self.answered += 1
        return Response(answer.content, answer.status_code, media_type="application/json")


@dataclass
class Gated:
    running: Running
    gate: Gate
    #: kependudukan, behind an open gate (counts its requests)
    dukcapil: Gate


@pytest.fixture
def gated(world: World, tmp_path: Path) -> Iterator[Gated]:
    """A secured gateway whose ``sosial`` is behind a ``Gate`` (and kependudukan behind an
    open one)."""
    gates = {"sosial": Gate(world.urls["sosial"]), "kependudukan": Gate(world.urls["kependudukan"])}
    gates["kependudukan"].opened.set()
    proxies = {
        name: ServerThread(
            Starlette(routes=[Route("/graphql", gate.handle, methods=["POST"])]), lifespan="off"
        ).start()
        for name, gate in gates.items()
    }
    urls = {**world.urls, **{name: f"{p.url}/graphql" for name, p in proxies.items()}}
    settings = dev_settings(Settings(), tmp_path)
    services = Services.from_settings(settings)
    gateway = services.open_gateway(SUPERGRAPH.read_text(), urls)
    server = ServerThread(services.app(gateway, services.guard())).start()
    running = Running(server.url, tmp_path, None, gateway, server)  # type: ignore[arg-type]
    try:
        yield Gated(running, gates["sosial"], gates["kependudukan"])
    finally:
        gates["sosial"].opened.set()
        server.stop()
        for proxy in proxies.values():
            proxy.stop()


def _desil(world: World, no_kk: str) -> int:
    with world.db("sosial") as sosial:
        (desil,) = sosial.execute("SELECT desil FROM keluarga WHERE no_kk = ?", [no_kk]).fetchone()
    assert isinstance(desil, int)
    return desil


def _records(running: Running) -> list[dict[str, Any]]:
    return [e for e in running.audit_events() if e.get("operation_name") == "Keluarga"]


async def _first_part(chunks: Any, received: bytearray) -> dict[str, Any]:
    """Read the stream until its first part is complete; that part, parsed."""
    while received.count(b"\r\n---") < 2:
        received.extend(await anext(chunks))
    head = bytes(received).split(b"\r\n---")[1]
    return parts_of(
        httpx.Response(
            200,
            headers={"content-type": 'multipart/mixed; boundary="-"'},
            content=b"\r\n---" + head + b"\r\n-----\r\n",
        )
    )[0]


async def test_the_primary_part_arrives_before_the_slow_subgraph_answers(
    world: World, gated: Gated
) -> None:
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    body = {"query": KELUARGA, "variables": {"kk": no_kk}}
    async with (
        httpx.AsyncClient(base_url=gated.running.url, timeout=WAIT_S) as client,
        client.stream("POST", "/graphql", json=body, headers=headers) as response,
    ):
        assert response.status_code == 200
        received = bytearray()
        chunks = response.aiter_raw()
        primary = await _first_part(chunks, received)
        # the client holds the primary part; sosial has not answered (its gate is shut)
        assert primary == {"data": {"keluarga": {"noKk": no_kk}}, "hasNext": True}
        assert gated.gate.answered == 0
        # the primary part's record was written before it was sent; the deferred one's not yet
        (first,) = _records(gated.running)
        assert first["fields"] == ["Keluarga.noKk", "Query.keluarga"]
        gated.gate.opened.set()
        async for chunk in chunks:
            received.extend(chunk)
    assert gated.gate.answered >= 1
    whole = httpx.Response(200, headers=response.headers, content=bytes(received))
    assert parts_of(whole) == [
        primary,
        {
            "incremental": [
                {
                    "data": {"desilKesejahteraan": _desil(world, no_kk)},
                    "path": ["keluarga"],
                    "label": "desil",
                }
            ],
            "hasNext": False,
        },
    ]
    # one record per part that released personal data, each with that part's fields
    primary_record, deferred_record = _records(gated.running)
    assert primary_record == first
    assert deferred_record["fields"] == ["Keluarga.desilKesejahteraan", "Query.keluarga"]
    assert deferred_record["personal"] is True
    assert deferred_record["request_id"] == primary_record["request_id"]


async def test_a_failing_deferred_subgraph_degrades_only_the_deferred_part(
    world: World, gated: Gated
) -> None:
    gated.gate.fail = True
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    async with httpx.AsyncClient(base_url=gated.running.url, timeout=WAIT_S) as client:
        response = await client.post(
            "/graphql", json={"query": KELUARGA, "variables": {"kk": no_kk}}, headers=headers
        )
    assert response.status_code == 200
    primary, deferred = parts_of(response)
    assert primary == {"data": {"keluarga": {"noKk": no_kk}}, "hasNext": True}
    (entry,) = deferred["incremental"]
    assert entry["path"] == ["keluarga"] and entry["label"] == "desil"
    assert entry["data"] == {"desilKesejahteraan": None}
    assert [e["extensions"]["code"] for e in entry["errors"]] == ["SUBREQUEST_HTTP_ERROR"]
    assert entry["errors"][0]["path"] == ["keluarga"]  # the entity fetch's, as without @defer
    assert deferred["hasNext"] is False
    assert gated.gate.asked >= 1
    # each part audited on its own: the failed one's record names what it asked for
    primary_record, failed_record = _records(gated.running)
    assert primary_record["fields"] == ["Keluarga.noKk", "Query.keluarga"]
    assert failed_record["fields"] == ["Keluarga.desilKesejahteraan", "Query.keluarga"]
    assert (primary_record["outcome"], failed_record["outcome"]) == ("ok", "partial")


async def test_a_client_that_leaves_stops_the_deferred_part(world: World, gated: Gated) -> None:
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    body = {"query": KELUARGA, "variables": {"kk": no_kk}}
    async with (
        httpx.AsyncClient(base_url=gated.running.url, timeout=WAIT_S) as client,
        client.stream("POST", "/graphql", json=body, headers=headers) as response,
    ):
        await _first_part(response.aiter_raw(), bytearray())
    # the client has gone; the deferred operation was cancelled, so even once sosial answers,
    # nothing is released and no record is written for that part
    gated.gate.opened.set()
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while gated.gate.answered == 0 and gated.gate.asked > 0:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    for _ in range(25):
        assert len(_records(gated.running)) == 1
        await asyncio.sleep(0.02)


async def test_the_deferred_part_applies_to_the_primary_parts_objects(
    world: World, gated: Gated
) -> None:
    """The deferred fragment is an entity fetch on the family the primary part read: kependudukan
    is not asked for ``keluarga`` again, and a family gone by a second read (kependudukan answers
    null to every read after the first) still gets its deferred fields."""
    gated.dukcapil.later = b'{"data":{"keluarga":null}}'
    gated.gate.opened.set()
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    async with httpx.AsyncClient(base_url=gated.running.url, timeout=WAIT_S) as client:
        response = await client.post(
            "/graphql", json={"query": KELUARGA, "variables": {"kk": no_kk}}, headers=headers
        )
    assert response.status_code == 200
    assert parts_of(response) == [
        {"data": {"keluarga": {"noKk": no_kk}}, "hasNext": True},
        {
            "incremental": [
                {
                    "data": {"desilKesejahteraan": _desil(world, no_kk)},
                    "path": ["keluarga"],
                    "label": "desil",
                }
            ],
            "hasNext": False,
        },
    ]
    assert gated.dukcapil.root_reads == 1
    # its other request: the family's members' NIKs, the deferred part's audit subjects (an
    # entity fetch on the same family)
    assert gated.dukcapil.asked == 2
    assert gated.gate.asked == 1
    primary_record, deferred_record = _records(gated.running)
    assert deferred_record["fields"] == ["Keluarga.desilKesejahteraan", "Query.keluarga"]
    assert deferred_record["subjects"] == primary_record["subjects"]
