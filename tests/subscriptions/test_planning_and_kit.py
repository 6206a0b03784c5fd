"""A subscription's plan (a subscription root fetch, then the entity fetches run per event) and
the subgraph kit's event broker."""

from __future__ import annotations

import asyncio

import pytest
from graphql import parse

from gateway.planner import build_query_plan
from gateway.planner.plan import FetchNode, FlattenNode, ParallelNode, SequenceNode
from gateway.supergraph import load_supergraph
from subgraphs.kit.events import QUEUE_SIZE, EventBroker
from tests.subscriptions.conftest import SUPERGRAPH


@pytest.fixture(scope="module")
def supergraph():  # type: ignore[no-untyped-def]
    return load_supergraph(SUPERGRAPH.read_text(), authorization_enforced=True)


def test_a_subscription_plans_as_its_subgraph_subscription_then_entity_fetches(
    supergraph,  # type: ignore[no-untyped-def]
) -> None:
    query = (
        "subscription S($p: KodeProgramBansos) { penyaluranBansos(program: $p) "
        "{ id wilayah { nama } keluarga { kepalaKeluarga { nama } } } }"
    )
    plan = build_query_plan(supergraph, parse(query), "S")
    assert isinstance(plan.node, SequenceNode)
    root, rest = plan.node.nodes
    assert isinstance(root, FetchNode)
    assert root.service == "sosial" and root.operation_kind == "subscription"
    assert root.operation.startswith("subscription S__sosial__0($p: KodeProgramBansos)")
    assert root.variable_usages == ("p",)
    assert isinstance(rest, ParallelNode)
    flattened = {
        (n.path, n.node.service, n.node.operation_kind)
        for n in rest.nodes
        if isinstance(n, FlattenNode)
    }
    assert flattened == {
        (("penyaluranBansos", "wilayah"), "kependudukan", "query"),
        (("penyaluranBansos", "keluarga"), "kependudukan", "query"),
    }


def test_a_subscription_its_subgraph_resolves_alone_is_one_fetch(
    supergraph,  # type: ignore[no-untyped-def]
) -> None:
    plan = build_query_plan(supergraph, parse("subscription { penyaluranBansos { id } }"))
    assert isinstance(plan.node, FetchNode)
    assert plan.node.operation_kind == "subscription"


@pytest.mark.anyio
async def test_the_broker_hands_each_event_to_every_subscriber_and_forgets_them() -> None:
    broker = EventBroker()
    first, second = broker.subscribe("t"), broker.subscribe("t")
    waiting = [asyncio.ensure_future(anext(first)), asyncio.ensure_future(anext(second))]
    await asyncio.sleep(0)
    assert broker.subscribers("t") == 2
    assert broker.publish("t", "e1") == 2
    assert [await w for w in waiting] == ["e1", "e1"]
    await first.aclose()
    await second.aclose()
    assert broker.subscribers("t") == 0
    assert broker.publish("t", "nobody") == 0


@pytest.mark.anyio
async def test_a_slow_subscriber_loses_its_oldest_events_not_our_memory() -> None:
    broker = EventBroker()
    events = broker.subscribe("t")
    started = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    broker.publish("t", -1)
    assert await started == -1
    for n in range(QUEUE_SIZE + 5):
        broker.publish("t", n)
    assert await anext(events) == 5  # 0..4 were dropped
    await events.aclose()
