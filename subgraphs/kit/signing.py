"""Refuse subgraph requests that did not come through the gateway (HMAC signatures).

On by default when a key is configured: ``JAMAJAMA_SUBGRAPH_SIGNING_KEYS`` (comma-separated, so a
key can be rotated: the gateway signs with the new one while the old is still accepted). A
``/graphql`` request without a valid signature (gateway/executor/signing.py) gets 401 with a JSON
GraphQL error ``UNAUTHENTICATED``; ``/health`` stays open for probes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.executor.signing import DEFAULT_TOLERANCE, verify

KEYS_ENV = "JAMAJAMA_SUBGRAPH_SIGNING_KEYS"


def configured_keys() -> list[bytes]:
    raw = os.environ.get(KEYS_ENV, "")
    return [key.strip().encode() for key in raw.split(",") if key.strip()]


class SignatureRequired:
    """ASGI middleware: requests to ``paths`` must carry the gateway's signature."""

    def __init__(
        self,
        app: ASGIApp,
        subgraph: str,
        keys: Sequence[bytes],
        paths: Sequence[str] = ("/graphql",),
        tolerance: int = DEFAULT_TOLERANCE,
        max_body: int = 10 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.subgraph = subgraph
        self.keys = list(keys)
        self.paths = frozenset(paths)
        self.tolerance = tolerance
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _refuse(send, 413, "the request body is too large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        problem = verify(self.keys, headers, body, self.subgraph, tolerance=self.tolerance)
        if problem is not None:
            await _refuse(send, 401, f"{problem}; this subgraph answers the gateway only")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
