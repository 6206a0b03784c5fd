"""Subscription corpus cases recorded from Hive Gateway (tests/subscriptions/cases/record.py):
our gateway sends a caller allowed every selected field the same event response."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from tests.subscriptions.conftest import GatewayFactory, World, ws_client

pytestmark = pytest.mark.anyio

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
async def test_our_event_matches_hive_gateways(
    case_file: Path, world: World, gateway: GatewayFactory
) -> None:
    case = json.loads(case_file.read_text())
    running = gateway()
    no_kk = world.family()[0]  # the event the case was recorded with
    async with contextlib.aclosing(ws_client(running, "sibansos", "penyaluran_bansos")) as clients:
        client = await anext(clients)
        await client.subscribe("1", case["query"])
        await world.publish(no_kk)
        message = await client.receive()
    assert message["type"] == "next", message
    assert message["payload"] == case["response"]
