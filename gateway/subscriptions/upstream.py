"""The subgraph side of a subscription: one ``graphql-transport-ws`` WebSocket per subscription.

The root fetch of a subscription's plan is sent as the ``subscribe`` payload; every ``next`` the
subgraph sends is yielded as the GraphQL response it carries; ``error`` (the subgraph refused the
operation) is yielded as a response with those errors and ends the stream, as does ``complete``.
A connection that fails, or closes before ``complete``, raises ``SubgraphError``
(``SUBREQUEST_HTTP_ERROR`` naming the subgraph, like a failed HTTP fetch), and so does a subgraph
that stops answering the WebSocket pings sent every ``heartbeat`` seconds (a dead peer or a cut
network would otherwise leave the subscription waiting forever). The subgraph's pings are
answered. With a signer the handshake is signed as a ``GET`` with an empty body
(gateway/executor/signing.py; the kit checks it, subgraphs/kit/signing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Any

import aiohttp
import orjson

from gateway.errors import SubgraphError
from gateway.executor.transport import HTTP_ERROR
from gateway.subscriptions import protocol as p

#: (subgraph, url, body, method) -> headers: the request signer of gateway/executor/signing.py
Signer = Callable[..., dict[str, str]]


def upstream_error(subgraph: str, reason: str) -> SubgraphError:
    return SubgraphError(
        f"Subscription to '{subgraph}' failed: {reason}", code=HTTP_ERROR, service=subgraph
    )


class SubgraphSubscriptions:
    """Opens subscriptions on subgraphs; one aiohttp session for all of them."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        signer: Signer | None = None,
        heartbeat: float | None = 15.0,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._heartbeat = heartbeat
        self._signer = signer
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def events(
        self, subgraph: str, url: str, body: dict[str, Any]
    ) -> AsyncGenerator[Any, None]:
        """The responses the subgraph sends for the subscription ``body`` (query, variables,
        operationName), until it completes; raises ``SubgraphError`` when the link fails."""
        headers = self._signer(subgraph, url, b"", "GET") if self._signer is not None else {}
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._client().ws_connect(
                    url,
                    protocols=(p.SUBPROTOCOL,),
                    headers=headers,
                    autoping=True,
                    heartbeat=self._heartbeat,
                )
                await _send(ws, {"type": p.CONNECTION_INIT, "payload": {}})
                await _acknowledged(ws)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise upstream_error(subgraph, str(error) or type(error).__name__) from error
        completed = False
        try:
            subscribe = {"id": "1", "type": p.SUBSCRIBE, "payload": body}
            await _send(ws, subscribe)
            async for message in ws:
                if message.type == aiohttp.WSMsgType.ERROR:  # e.g. no pong in time
                    raise upstream_error(subgraph, str(ws.exception() or message.data))
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                kind, payload = _decode(message.data)
                if kind == p.PING:
                    await _send(ws, {"type": p.PONG})
                elif kind == p.NEXT:
                    yield payload
                elif kind == p.ERROR:
                    completed = True
                    yield {"errors": payload if isinstance(payload, list) else [], "data": None}
                    return
                elif kind == p.COMPLETE:
                    completed = True
                    return
            raise upstream_error(subgraph, "the subgraph closed the subscription")
        except (aiohttp.ClientError, OSError) as error:
            raise upstream_error(subgraph, str(error) or type(error).__name__) from error
        finally:
            if not completed and not ws.closed:
                with contextlib.suppress(Exception):
                    await _send(ws, {"id": "1", "type": p.COMPLETE})
            with contextlib.suppress(Exception):
                await ws.close()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _send(ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
    """The protocol's messages are JSON text frames."""
    await ws.send_str(orjson.dumps(message).decode())


async def _acknowledged(ws: aiohttp.ClientWebSocketResponse) -> None:
    while True:
        message = await ws.receive()
        if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise aiohttp.ClientError("closed before connection_ack")
        kind, _ = _decode(message.data)
        if kind == p.CONNECTION_ACK:
            return
        if kind == p.PING:
            await _send(ws, {"type": p.PONG})


def _decode(data: str | bytes) -> tuple[str | None, Any]:
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise aiohttp.ClientError("the subgraph sent a message that is not JSON") from error
    if not isinstance(message, dict):
        raise aiohttp.ClientError("the subgraph sent a message that is not an object")
    return message.get("type"), message.get("payload")
