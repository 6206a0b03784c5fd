"""A fake subgraph transport: answers from a function, records every request (no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import SubgraphError

Handler = Callable[[str, dict[str, Any]], Any]


@dataclass
class FakeTransport:
    """``handler(subgraph, body)`` returns the decoded response or raises ``SubgraphError``."""

    handler: Handler
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.requests.append((subgraph, url, body))
        await asyncio.sleep(0)
        return self.handler(subgraph, body)

    def bodies(self, subgraph: str) -> list[dict[str, Any]]:
        return [body for name, _, body in self.requests if name == subgraph]


def responses(**by_subgraph: Any) -> Handler:
    """Answers each subgraph with a fixed response, a list of them in turn, or an error."""
    queues = {
        name: list(value) if isinstance(value, list) else [value]
        for name, value in by_subgraph.items()
    }

    def handle(subgraph: str, body: dict[str, Any]) -> Any:
        queue = queues[subgraph]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, SubgraphError):
            raise answer
        if callable(answer):
            return answer(body)
        return answer

    return handle
