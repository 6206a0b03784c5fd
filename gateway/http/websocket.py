"""GraphQL over WebSocket on ``/graphql``: the ``graphql-transport-ws`` protocol (graphql-ws 5+).

The handshake must offer the ``graphql-transport-ws`` subprotocol, and a browser's ``Origin`` must
be this host or one of ``[http.cors] allow_origins`` (a page elsewhere cannot ride the user's
credentials). The client then has ``[subscriptions] connection_init_timeout_seconds`` to send
``connection_init``; its credentials are the handshake's headers, overridden by the
``connection_init`` payload's ``Authorization`` and ``X-Jamajama-Purpose`` (browsers cannot set
WebSocket headers). The guard admits them as it admits an HTTP request (else close 4403).
Each ``subscribe`` is one operation (``next`` responses, then ``complete``; a refusal before
execution is one ``error`` message), ``complete`` from the client stops one, ``ping`` gets
``pong``, and the gateway pings every ``heartbeat_seconds``. Protocol violations close the socket
with the protocol's codes (4400, 4401, 4408, 4409, 4429). See docs/subscriptions.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.engine import GraphQLRequest
from gateway.subscriptions import protocol as p
from gateway.subscriptions.manager import WEBSOCKET, SubscriptionManager, subscription_client

if TYPE_CHECKING:
    from gateway.auth.guard import HttpGuard

logger = logging.getLogger("jamajama.http.websocket")

#: connection_init payload keys read as headers (case-insensitive)
_PAYLOAD_HEADERS = ("authorization", "x-jamajama-purpose")


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class GraphQLWebSocket:
    """One handler for every ``/graphql`` WebSocket; state lives in ``_Connection``."""

    def __init__(
        self,
        manager: SubscriptionManager,
        guard: HttpGuard | None,
        allow_origins: list[str],
        mask: Callable[[dict[str, Any], str], dict[str, Any]],
        new_request_id: Callable[[], str],
    ) -> None:
        self.manager = manager
        self.guard = guard
        self.allow_origins = frozenset(o.rstrip("/").lower() for o in allow_origins)
        self.mask = mask
        self.new_request_id = new_request_id

    def origin_allowed(self, headers: Mapping[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is None:  # not a browser: no ambient credentials to abuse
            return True
        if "*" in self.allow_origins or origin.rstrip("/").lower() in self.allow_origins:
            return True
        return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()

    async def serve(self, websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        if p.SUBPROTOCOL not in offered or not self.origin_allowed(websocket.headers):
            await websocket.close(code=1002)  # before accept: the handshake is refused (403)
            return
        await websocket.accept(subprotocol=p.SUBPROTOCOL)
        await _Connection(self, websocket).run()


class _Connection:
    def __init__(self, handler: GraphQLWebSocket, websocket: WebSocket) -> None:
        self.handler = handler
        self.ws = websocket
        self.principal: Any = None
        self.acknowledged = False
        self.init_received = False
        self.headers: dict[str, str] = {}
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.peer = websocket.client.host if websocket.client else None

    async def run(self) -> None:
        heartbeat = asyncio.create_task(self._heartbeat())
        self.handler.manager.connection_opened(self._close)
        try:
            async with asyncio.timeout(
                self.handler.manager.section.connection_init_timeout_seconds
            ):
                await self._receive_init()
            while True:
                await self._dispatch(await self._receive())
        except TimeoutError:
            await self._close(p.INIT_TIMEOUT, "Connection initialisation timeout")
        except _Close as close:
            await self._close(close.code, close.reason)
        except WebSocketDisconnect:
            pass
        finally:
            self.handler.manager.connection_closed(self._close)
            heartbeat.cancel()
            for task in list(self.operations.values()):
                task.cancel()
            for task in list(self.operations.values()):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _receive(self) -> dict[str, Any]:
        received = await self.ws.receive()
        if received["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(received.get("code", 1000))
        text = received.get("text")
        if text is None:
            raise _Close(p.BAD_REQUEST, "Invalid message received: messages are JSON text")
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise _Close(p.BAD_REQUEST, "Invalid message received") from error
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Close(p.BAD_REQUEST, "Invalid message received")
        return message

    async def _receive_init(self) -> None:
        while not self.acknowledged:
            message = await self._receive()
            if message["type"] != p.CONNECTION_INIT:
                await self._dispatch(message)
                continue
            await self._init(message.get("payload"))

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            raise _Close(p.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
        self.init_received = True
        headers = {k.lower(): v for k, v in self.ws.headers.items()}
        if isinstance(payload, dict):
            for key, value in payload.items():
                if (
                    isinstance(key, str)
                    and key.lower() in _PAYLOAD_HEADERS
                    and isinstance(value, str)
                ):
                    headers[key.lower()] = value
        self.headers = headers
        guard = self.handler.guard
        if guard is not None:
            admission = await guard.admit(headers, self.peer)
            if not admission.admitted:
                raise _Close(p.FORBIDDEN, _first_message(admission.body) or "Forbidden")
            self.principal = admission.principal
        self.acknowledged = True
        await self._send({"type": p.CONNECTION_ACK})

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == p.PING:
            await self._send({"type": p.PONG})
        elif kind == p.PONG:
            return
        elif kind == p.CONNECTION_INIT:
            await self._init(message.get("payload"))
        elif kind == p.SUBSCRIBE:
            await self._subscribe(message)
        elif kind == p.COMPLETE:
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            raise _Close(p.BAD_REQUEST, f"Invalid message received: unknown type {kind!r}")

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            raise _Close(p.UNAUTHORIZED, "Unauthorized")
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            raise _Close(p.BAD_REQUEST, "Invalid message received: subscribe needs id and payload")
        if operation_id in self.operations:
            raise _Close(p.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists")
        query, variables, name = (
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
        )
        if (
            not isinstance(query, str)
            or not (variables is None or isinstance(variables, dict))
            or not (name is None or isinstance(name, str))
        ):
            raise _Close(p.BAD_REQUEST, "Invalid message received: bad subscribe payload")
        guard = self.handler.guard
        rid = self.handler.new_request_id()
        if guard is not None:
            charged = await guard.charge(self.principal, self.headers, self.peer, 1)
            if not charged.admitted:
                errors = charged.body.get("errors", []) if isinstance(charged.body, dict) else []
                await self._send({"id": operation_id, "type": p.ERROR, "payload": errors})
                return
        request = GraphQLRequest(query, variables, name, principal=self.principal, request_id=rid)
        self.operations[operation_id] = asyncio.create_task(
            self._operation(operation_id, request, rid)
        )

    async def _operation(self, operation_id: str, request: GraphQLRequest, rid: str) -> None:
        manager = self.handler.manager
        client = subscription_client(self.principal, self.peer)
        subscription = await manager.open(request, client, WEBSOCKET)
        try:
            if subscription.refused:
                response = await subscription.next()
                errors = response.get("errors", []) if isinstance(response, dict) else []
                masked = self.handler.mask({"errors": errors}, rid)["errors"]
                await self._send({"id": operation_id, "type": p.ERROR, "payload": masked})
                return
            while True:
                item = await subscription.next()
                if item is None:
                    break
                assert isinstance(item, dict)
                payload = self.handler.mask(item, rid)
                await self._send({"id": operation_id, "type": p.NEXT, "payload": payload})
            await self._send({"id": operation_id, "type": p.COMPLETE})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away
        finally:
            self.operations.pop(operation_id, None)
            await subscription.aclose()

    async def _heartbeat(self) -> None:
        interval = self.handler.manager.heartbeat
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                await asyncio.sleep(interval)
                await self._send({"type": p.PING})

    async def _send(self, message: dict[str, Any]) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            await self.ws.send_text(orjson.dumps(message).decode())

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            await self.ws.close(code=code, reason=reason)


def _first_message(body: Any) -> str | None:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message")
            return str(message)[:120] if message else None
    return None
