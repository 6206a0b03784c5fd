"""Refuse subgraph requests that did not come through the gateway (HMAC signatures, version 2).

On by default when a key is configured: ``JAMAJAMA_SUBGRAPH_SIGNING_KEYS`` (comma-separated, so a
key can be rotated: the gateway signs with the new one while the old is still accepted). A
``/graphql`` request (GET or POST) without a valid signature over its method, path, query string
and body (gateway/executor/signing.py) gets 401 with a JSON GraphQL error ``UNAUTHENTICATED``;
``/health`` stays open for probes. A WebSocket handshake on ``/graphql`` (subscriptions) is signed
as a ``GET`` with an empty body, and refused (403) unsigned. A signature is accepted once: its
nonce is remembered for the tolerance window (``ReplayCache``, bounded), so a captured request
cannot be replayed.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Sequence

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.executor.signing import DEFAULT_TOLERANCE, verify

KEYS_ENV = "JAMAJAMA_SUBGRAPH_SIGNING_KEYS"
#: nonces remembered at most (about 200 bytes each): 100,000 covers 1,600 requests/s for 60 s
DEFAULT_REPLAY_CAPACITY = 100_000


def configured_keys() -> list[bytes]:
    raw = os.environ.get(KEYS_ENV, "")
    return [key.strip().encode() for key in raw.split(",") if key.strip()]


class ReplayCache:
    """The nonces of the signatures accepted within the tolerance window, in bounded memory.

    A nonce is remembered until its timestamp leaves the window (after which the signature has
    expired anyway). When ``capacity`` nonces are remembered, the oldest is forgotten and every
    signature not newer than it is refused from then on (the ``floor``): memory stays bounded and
    a forgotten nonce can never be accepted again; only a flood beyond the capacity is refused.
    """

    def __init__(
        self, tolerance: int = DEFAULT_TOLERANCE, capacity: int = DEFAULT_REPLAY_CAPACITY
    ) -> None:
        if capacity < 1:
            raise ValueError("the replay cache needs room for at least one nonce")
        self.tolerance = tolerance
        self.capacity = capacity
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._floor = -1

    def __len__(self) -> int:
        return len(self._seen)

    def admit(self, nonce: str, timestamp: int, now: float) -> str | None:
        """``None`` (and the nonce remembered) if it is new, else why the request is refused."""
        seen = self._seen
        while seen:
            oldest, stamp = next(iter(seen.items()))
            if stamp + self.tolerance >= now:
                break
            del seen[oldest]
        if nonce in seen:
            return "the signature was already used (replay)"
        if len(seen) >= self.capacity:
            _, stamp = seen.popitem(last=False)
            self._floor = max(self._floor, stamp)
        if timestamp <= self._floor:
            return "the replay cache is full; the signature is too old to be checked"
        seen[nonce] = timestamp
        return None


class SignatureRequired:
    """ASGI middleware: requests to ``paths`` must carry the gateway's signature, once."""

    def __init__(
        self,
        app: ASGIApp,
        subgraph: str,
        keys: Sequence[bytes],
        paths: Sequence[str] = ("/graphql",),
        tolerance: int = DEFAULT_TOLERANCE,
        max_body: int = 10 * 1024 * 1024,
        replay_capacity: int = DEFAULT_REPLAY_CAPACITY,
    ) -> None:
        self.app = app
        self.subgraph = subgraph
        self.keys = list(keys)
        self.paths = frozenset(paths)
        self.tolerance = tolerance
        self.max_body = max_body
        self.replays = ReplayCache(tolerance, replay_capacity)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] in self.paths:
            await self._websocket(scope, receive, send)
            return
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
        problem = self._problem(scope, scope["method"], body)
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

    def _problem(self, scope: Scope, method: str, body: bytes) -> str | None:
        """Why the request is refused (None: signed by the gateway, first time seen)."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope.get("raw_path") or scope["path"].encode()
        verified = verify(
            self.keys,
            headers,
            method=method,
            path=raw_path.decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            body=body,
            subgraph=self.subgraph,
            tolerance=self.tolerance,
        )
        if isinstance(verified, str):
            return verified
        return self.replays.admit(verified.nonce, verified.timestamp, time.time())

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake (subscriptions) is signed as a ``GET`` with an empty body; an
        unsigned one is refused before it is accepted (HTTP 403)."""
        if self._problem(scope, "GET", b"") is not None:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)


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
