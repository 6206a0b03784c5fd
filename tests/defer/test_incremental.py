"""The order deferred parts go out (gateway/executor/incremental.py), with each fragment's
operation finishing when the test says: a nested fragment after its parent even when its own
operation finished first, siblings in the order they finish, a last fragment with nothing to
send closing the stream with ``{"hasNext": false}``, and the client leaving cancelling the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from gateway.executor.incremental import DeferredParts
from gateway.planner.defer import DeferredOperation, deferred_documents, deferred_operation

pytestmark = pytest.mark.anyio

QUERY = """
{
  me { name ... @defer(label: "outer") { reviews { body ... @defer(label: "inner") { stars } } } }
  ... @defer(label: "side") { latest { body } }
}
"""
RESPONSES: dict[int, dict[str, Any]] = {
    0: {"data": {"me": {"reviews": [{"body": "b"}]}}},
    1: {"data": {"me": {"reviews": [{"stars": 5}]}}},
    2: {"data": {"latest": {"body": "l"}}},
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _operation() -> DeferredOperation:
    document = parse(QUERY)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    deferred = deferred_operation(document, operation)
    assert deferred is not None
    return deferred


class Operations:
    """Each fragment's operation finishes when ``finish(index)`` is called."""

    def __init__(self, responses: dict[int, dict[str, Any]]) -> None:
        self.responses = responses
        self.gates = {i: asyncio.Event() for i in responses}
        self.cancelled: set[int] = set()
        self.released: list[int] = []

    async def run(self, index: int) -> Callable[[], Awaitable[dict[str, Any]]]:
        try:
            await self.gates[index].wait()
        except asyncio.CancelledError:
            self.cancelled.add(index)
            raise

        async def release() -> dict[str, Any]:
            self.released.append(index)
            return self.responses[index]

        return release

    def finish(self, index: int) -> None:
        self.gates[index].set()


def _parts(operations: Operations) -> DeferredParts:
    deferred = _operation()
    documents = deferred_documents(deferred, frozenset(operations.responses))
    return DeferredParts(deferred, documents, {}, operations.run)


def _labels(part: dict[str, Any]) -> list[str]:
    return [entry["label"] for entry in part["incremental"]]


async def test_nested_after_its_parent_and_siblings_in_the_order_they_finish() -> None:
    operations = Operations(RESPONSES)
    parts = _parts(operations).parts()
    operations.finish(1)  # the nested fragment's operation first: it must wait for its parent
    operations.finish(2)
    assert _labels(await anext(parts)) == ["side"]
    assert operations.released == [2]  # the nested one, finished, is not released before its turn
    operations.finish(0)
    outer = await anext(parts)
    assert outer == {
        "incremental": [{"data": {"reviews": [{"body": "b"}]}, "path": ["me"], "label": "outer"}],
        "hasNext": True,
    }
    inner = await anext(parts)
    assert inner == {
        "incremental": [{"data": {"stars": 5}, "path": ["me", "reviews", 0], "label": "inner"}],
        "hasNext": False,
    }
    with pytest.raises(StopAsyncIteration):
        await anext(parts)


async def test_a_last_fragment_with_nothing_to_send_closes_with_has_next_false() -> None:
    operations = Operations({**RESPONSES, 1: {"data": {"me": {"reviews": []}}}})
    parts = _parts(operations).parts()
    for index in (0, 2):
        operations.finish(index)
    assert [_labels(await anext(parts)) for _ in range(2)] == [["outer"], ["side"]]
    operations.finish(1)
    assert await anext(parts) == {"hasNext": False}


async def test_closing_the_parts_cancels_the_operations_still_running() -> None:
    operations = Operations(RESPONSES)
    parts = _parts(operations).parts()
    operations.finish(2)
    assert _labels(await anext(parts)) == ["side"]
    operations.finish(1)  # finished, but its parent's part never goes out
    await asyncio.sleep(0)
    await parts.aclose()  # the client left
    await asyncio.sleep(0)
    assert operations.cancelled == {0}
    assert operations.released == [2]  # released (audited) only what was sent
