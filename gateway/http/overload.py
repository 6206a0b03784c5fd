"""Overload protection: a cap on GraphQL requests in flight, a request deadline, load shedding.

A gateway that accepts every request under a surge queues them all: memory grows with each one
held, every caller's latency grows with the queue, and the process ends up answering nobody.
Past ``max_in_flight`` GraphQL requests this gateway answers at once ``503`` with
``Retry-After`` (code ``OVERLOADED``), so a load balancer or client retries elsewhere or later;
a request still unanswered after ``deadline_seconds`` is abandoned with ``503``
(``DEADLINE_EXCEEDED``) instead of holding its resources forever. Only the GraphQL paths count:
``/health``, ``/ready`` and ``/metrics`` still answer while the gateway sheds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.config import OverloadSection

OVERLOADED = "OVERLOADED"
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


def _streams(scope: Scope) -> bool:
    """An event stream (GraphQL over SSE) lives as long as its subscription: it is refused while
    the gateway sheds, but then neither holds an in-flight slot nor has a deadline (the
    ``[subscriptions]`` limits bound it)."""
    for name, value in scope.get("headers") or ():
        if name == b"accept" and b"text/event-stream" in value:
            return True
    return False


class OverloadGuard:
    """The ASGI middleware applying an ``OverloadSection``; ``on_shed(reason)`` counts sheds."""

    def __init__(
        self,
        app: ASGIApp,
        section: OverloadSection,
        on_shed: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self._limit = section.max_in_flight
        self._deadline = section.deadline_seconds or None
        self._retry_after = str(section.retry_after_seconds)
        self._paths = frozenset(section.paths)
        self._on_shed = on_shed
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        if self._limit and self.in_flight >= self._limit:
            await self._shed(send, OVERLOADED, "The gateway is overloaded; retry later.")
            return
        if _streams(scope):  # shed like any request when overloaded, then not held
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            async with asyncio.timeout(self._deadline):
                await self.app(scope, receive, tracked)
        except TimeoutError:
            if started:  # the answer is partly sent: nothing left to say, the stream just ends
                raise
            await self._shed(
                send, DEADLINE_EXCEEDED, "The request did not finish within the gateway's deadline."
            )
        finally:
            self.in_flight -= 1

    async def _shed(self, send: Send, code: str, message: str) -> None:
        if self._on_shed is not None:
            self._on_shed(code)
        body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", self._retry_after.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
