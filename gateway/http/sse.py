"""GraphQL over Server-Sent Events: graphql-sse's "distinct connections mode".

A request to ``/graphql`` whose ``Accept`` asks for ``text/event-stream`` (POST with the usual JSON
body, or GET with the usual parameters) is answered with a stream: one ``next`` event per response
(``data:`` the response JSON), then one ``complete`` event; a comment line (``:``) every
``[subscriptions] heartbeat_seconds`` of silence keeps proxies from closing the connection. A query
or mutation gets one ``next``; a refusal (validation, authorization, limits) is a ``next`` with
only ``errors``. The stream ends when the client disconnects (its subscription is closed then).
See docs/subscriptions.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import orjson
from starlette.responses import StreamingResponse

from gateway.engine import GraphQLRequest
from gateway.subscriptions.manager import HEARTBEAT, SSE, Subscription, SubscriptionManager

EVENT_STREAM: Final = "text/event-stream"
HEARTBEAT_LINE: Final = b":\n\n"
COMPLETE_EVENT: Final = b"event: complete\ndata:\n\n"


def wants_event_stream(accept: str | None) -> bool:
    """The client asked for an event stream (graphql-sse sends exactly ``text/event-stream``)."""
    if not accept:
        return False
    return any(part.split(";", 1)[0].strip().lower() == EVENT_STREAM for part in accept.split(","))


def next_event(response: dict[str, Any]) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(response) + b"\n\n"


def event_stream(
    manager: SubscriptionManager,
    request: GraphQLRequest,
    client: str,
    mask: Callable[[dict[str, Any]], dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> StreamingResponse:
    """The SSE response for ``request``; ``mask`` applies the endpoint's error masking."""

    async def stream() -> AsyncIterator[bytes]:
        subscription: Subscription = await manager.open(request, client, SSE)
        try:
            while True:
                item = await subscription.next(manager.heartbeat)
                if item is None:
                    break
                if item is HEARTBEAT:
                    yield HEARTBEAT_LINE
                    continue
                assert isinstance(item, dict)
                yield next_event(mask(item))
            yield COMPLETE_EVENT
        finally:
            await subscription.aclose()

    return StreamingResponse(
        stream(),
        media_type=EVENT_STREAM,
        headers={
            "cache-control": "no-cache",
            "x-accel-buffering": "no",  # nginx: do not buffer the stream
            **(headers or {}),
        },
    )
