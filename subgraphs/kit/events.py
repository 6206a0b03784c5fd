"""In-process publish/subscribe for an OPD subgraph's subscriptions.

A mutation that records something (a disbursement, a disaster report) publishes an event on a
topic; each open subscription on that topic has its own bounded queue and receives every event
published after it subscribed. One broker per subgraph app (``Context.events``); nothing is shared
between processes, so a subgraph that publishes subscriptions runs as one process (``jamajama
subgraph serve`` does). A subscriber that falls ``QUEUE_SIZE`` events behind loses the oldest ones
rather than holding memory for a client that does not read.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Final

QUEUE_SIZE: Final = 256


class EventBroker:
    """Topics -> subscriber queues; ``publish`` never blocks."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)

    def subscribers(self, topic: str) -> int:
        return len(self._queues.get(topic, ()))

    def publish(self, topic: str, event: Any) -> int:
        """Hand ``event`` to every current subscriber of ``topic``; returns how many."""
        queues = self._queues.get(topic, set())
        for queue in queues:
            if queue.full():
                queue.get_nowait()  # a slow reader loses its oldest event, not our memory
            queue.put_nowait(event)
        return len(queues)

    async def subscribe(self, topic: str) -> AsyncIterator[Any]:
        """The events published on ``topic`` from now on, until the consumer stops iterating."""
        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_SIZE)
        self._queues[topic].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[topic].discard(queue)
            if not self._queues[topic]:
                del self._queues[topic]
