"""One subscription's life, whatever carries it to the client (SSE or WebSocket, gateway/http/).

``SubscriptionManager.open(request, client, transport)`` checks the limits, plans the operation
on the current engine generation (``Gateway.start_subscription``: parse, validate, authorize,
plan), opens the subgraph subscription (``upstream.py``) and returns a ``Subscription``: the
transport reads responses from it (``next``) until None. Each subgraph event becomes one
response through ``Gateway.subscription_event`` (entity fetches from other subgraphs, shaping,
masking, and the audit record written before the response is handed over). An operation that
is not a subscription is answered once (``Gateway.process``) and ends.

A subscription ends with one last error response carrying a stable code:

- ``SUBSCRIPTION_SCHEMA_RELOAD`` when the supergraph changes (hot reload): the client subscribes
  again and gets a plan for the new supergraph;
- ``SUBSCRIPTION_SERVER_SHUTDOWN`` when the gateway shuts down;
- ``SUBSCRIPTION_CLIENT_TOO_SLOW`` when the client leaves ``MAX_BACKLOG`` responses unread.

Refused before it starts (``refused``): ``SUBSCRIPTION_LIMIT_EXCEEDED`` (per client, or in total),
``SUBSCRIPTIONS_DISABLED``, and every error a query can get before execution.

At shutdown (``shutdown``), once every subscription has sent its last message, the WebSocket
connections registered with ``connection_opened`` are closed with ``1001`` (going away) and
``GOING_AWAY_REASON``: a graphql-ws client reconnects (to another worker or instance).

With metrics, the manager counts what docs/operations.md lists: open subscriptions per transport,
events handed to clients, events whose personal-data audit record was written, refusals by code,
and subgraph connections that failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from gateway.engine import Gateway, GatewayResult, GraphQLRequest, SubscriptionStart
from gateway.errors import ErrorDict, GatewayError, SubgraphError
from gateway.observability.metrics import GatewayMetrics
from gateway.subscriptions.config import SubscriptionsSection
from gateway.subscriptions.upstream import SubgraphSubscriptions

if TYPE_CHECKING:
    from gateway.reload import ReloadingGateway

logger = logging.getLogger("jamajama.subscriptions")

LIMIT_EXCEEDED: Final = "SUBSCRIPTION_LIMIT_EXCEEDED"
DISABLED: Final = "SUBSCRIPTIONS_DISABLED"
SCHEMA_RELOAD: Final = "SUBSCRIPTION_SCHEMA_RELOAD"
SERVER_SHUTDOWN: Final = "SUBSCRIPTION_SERVER_SHUTDOWN"
CLIENT_TOO_SLOW: Final = "SUBSCRIPTION_CLIENT_TOO_SLOW"

#: Apollo Router's wording for the same event, so clients written for it recognise it
SCHEMA_RELOAD_MESSAGE: Final = "subscription has been closed due to a schema reload"
SHUTDOWN_MESSAGE: Final = "subscription has been closed because the gateway is shutting down"
TOO_SLOW_MESSAGE: Final = "subscription has been closed: the client did not read its events"

#: responses a client may leave unread before its subscription is ended
MAX_BACKLOG: Final = 100

#: the client transports (the metrics' ``transport`` label)
SSE: Final = "sse"
WEBSOCKET: Final = "websocket"

#: WebSocket close code and reason once the gateway has ended a connection's subscriptions
GOING_AWAY: Final = 1001
GOING_AWAY_REASON: Final = "the gateway is shutting down"


class _Heartbeat:
    """Returned by ``Subscription.next`` when nothing happened for a heartbeat interval."""


HEARTBEAT: Final = _Heartbeat()


def _error(message: str, code: str) -> ErrorDict:
    return {"message": message, "extensions": {"code": code}}


class Subscription:
    """Responses for one client operation, in order, then None. ``refused``: the only response
    is the refusal (a transport may answer it differently, e.g. WebSocket ``error``)."""

    def __init__(
        self,
        responses: tuple[dict[str, Any], ...] = (),
        *,
        refused: bool = False,
        generation: Gateway | None = None,
    ) -> None:
        self.refused = refused
        self.generation = generation
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        for response in responses:
            self._queue.put_nowait(response)
        self._task: asyncio.Task[None] | None = None
        self._final: dict[str, Any] | None = None
        self._release: Callable[[], None] | None = None
        if generation is None:
            self._queue.put_nowait(None)

    async def next(self, heartbeat: float | None = None) -> dict[str, Any] | _Heartbeat | None:
        """The next response, None at the end, ``HEARTBEAT`` after ``heartbeat`` idle seconds."""
        try:
            return await asyncio.wait_for(self._queue.get(), heartbeat)
        except TimeoutError:
            return HEARTBEAT

    def _run(self, pump: Awaitable[None], release: Callable[[], None]) -> None:
        self._release = release
        self._task = asyncio.ensure_future(self._pumping(pump))

    async def _pumping(self, pump: Awaitable[None]) -> None:
        try:
            await pump
        except asyncio.CancelledError:
            pass
        except GatewayError as error:
            self._queue.put_nowait({"errors": [error.to_graphql_error()], "data": None})
        except Exception:
            logger.exception("subscription failed")
            internal = _error("Internal server error", "INTERNAL_SERVER_ERROR")
            self._queue.put_nowait({"errors": [internal], "data": None})
        finally:
            if self._final is not None:
                self._queue.put_nowait(self._final)
            self._queue.put_nowait(None)

    def put(self, response: dict[str, Any]) -> bool:
        """One more response for the client (the pump's), unless it stopped reading (False)."""
        if self._queue.qsize() >= MAX_BACKLOG:
            self.end(_error(TOO_SLOW_MESSAGE, CLIENT_TOO_SLOW))
            return False
        self._queue.put_nowait(response)
        return True

    def end(self, final: ErrorDict) -> None:
        """End now: ``final`` is the last response the client gets."""
        if self._task is None or self._task.done() or self._final is not None:
            return
        self._final = {"errors": [final]}
        self._task.cancel()

    async def aclose(self) -> None:
        """The transport is done (client gone or stream ended): stop and free the slot."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._release is not None:
            self._release()
            self._release = None


@dataclass(frozen=True, slots=True)
class _Limits:
    per_client: int
    total: int


class SubscriptionManager:
    """Every open subscription of this process; limits, reload and shutdown act on them."""

    def __init__(
        self,
        gateway: Gateway | ReloadingGateway,
        section: SubscriptionsSection | None = None,
        upstream: SubgraphSubscriptions | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.section = section or SubscriptionsSection()
        self.metrics = metrics
        self.gateway = gateway
        self.upstream = upstream or SubgraphSubscriptions(
            connect_timeout=self.section.upstream_connect_timeout_seconds,
            heartbeat=self.section.heartbeat_seconds,
        )
        self._limits = _Limits(self.section.max_per_client, self.section.max_total)
        self._open: set[Subscription] = set()
        self._per_client: Counter[str] = Counter()
        self._closing = False
        self._connections: set[Callable[[int, str], Awaitable[None]]] = set()
        add_listener = getattr(gateway, "on_swap", None)
        if add_listener is not None:
            add_listener(self.supergraph_changed)

    @property
    def heartbeat(self) -> float:
        return self.section.heartbeat_seconds

    def open_count(self, client: str | None = None) -> int:
        return len(self._open) if client is None else self._per_client[client]

    def _current(self) -> Gateway:
        gateway = self.gateway
        return gateway if isinstance(gateway, Gateway) else gateway.current

    async def open(
        self, request: GraphQLRequest, client: str, transport: str = WEBSOCKET
    ) -> Subscription:
        """Start ``request`` for ``client`` (the limits' unit) arriving over ``transport``
        (``SSE`` or ``WEBSOCKET``); see the module docstring."""
        try:
            return await self._open_subscription(request, client, transport)
        except Exception:  # a bug must not leave the transport without an answer
            logger.exception("subscription could not start")
            internal = _error("Internal server error", "INTERNAL_SERVER_ERROR")
            return self._refused({"errors": [internal]})

    async def _open_subscription(
        self, request: GraphQLRequest, client: str, transport: str
    ) -> Subscription:
        if not self.section.enabled or self._closing:
            message = "subscriptions are not served here" if not self._closing else SHUTDOWN_MESSAGE
            code = DISABLED if not self._closing else SERVER_SHUTDOWN
            return self._refused({"errors": [_error(message, code)]})
        generation = self._current()
        started = await generation.start_subscription(request)
        if started is None:  # a query or mutation: one response
            result = await self.gateway.process(request)
            return Subscription((result.response,), refused=not result.executed)
        if isinstance(started, GatewayResult):
            return self._refused(started.response)
        refusal = self._over_limit(client)
        if refusal is not None:
            return self._refused({"errors": [refusal]})
        subscription = Subscription(generation=generation)
        self._open.add(subscription)
        self._per_client[client] += 1
        if self.metrics is not None:
            self.metrics.subscription_opened(transport)

        def release() -> None:
            self._open.discard(subscription)
            self._per_client[client] -= 1
            if self._per_client[client] <= 0:
                del self._per_client[client]
            if self.metrics is not None:
                self.metrics.subscription_closed(transport)

        subscription._run(self._pump(generation, started, subscription, transport), release)
        return subscription

    def _refused(self, response: dict[str, Any]) -> Subscription:
        """A subscription refused before it started; counted by its first error's code."""
        if self.metrics is not None:
            errors = response.get("errors") or [{}]
            code = errors[0].get("extensions", {}).get("code") or "INTERNAL_SERVER_ERROR"
            self.metrics.subscription_refused(str(code))
        return Subscription((response,), refused=True)

    def _over_limit(self, client: str) -> ErrorDict | None:
        if self._per_client[client] >= self._limits.per_client:
            return _error(
                f"this client already has {self._per_client[client]} open subscriptions "
                f"(the limit is {self._limits.per_client})",
                LIMIT_EXCEEDED,
            )
        if len(self._open) >= self._limits.total:
            return _error(
                f"the gateway serves {self._limits.total} subscriptions at most; retry later",
                LIMIT_EXCEEDED,
            )
        return None

    async def _pump(
        self,
        generation: Gateway,
        start: SubscriptionStart,
        subscription: Subscription,
        transport: str,
    ) -> None:
        root = start.root
        body: dict[str, Any] = {
            "query": root.operation,
            "variables": {
                n: start.variables[n] for n in root.variable_usages if n in start.variables
            },
        }
        if root.operation_name:
            body["operationName"] = root.operation_name
        url = generation.subgraph_urls[root.service]
        metrics = self.metrics
        audited = metrics.subscription_event_audited if metrics is not None else None
        events = self.upstream.events(root.service, url, body)
        async with contextlib.aclosing(events):  # the subgraph's subscription ends with ours
            while True:
                try:
                    payload = await anext(events)
                except StopAsyncIteration:
                    return
                except SubgraphError:
                    if metrics is not None:
                        metrics.subscription_upstream_failed(root.service)
                    raise
                response = await generation.subscription_event(start, payload, audited)
                if subscription.put(response) and metrics is not None:
                    metrics.subscription_event(transport)

    def supergraph_changed(self) -> None:
        """Hot reload: subscriptions planned on an older supergraph end (documented message)."""
        current = self._current()
        for subscription in list(self._open):
            if subscription.generation is not current:
                subscription.end(_error(SCHEMA_RELOAD_MESSAGE, SCHEMA_RELOAD))

    def drain(self) -> None:
        """Shutdown begins: refuse new subscriptions, end the open ones (documented message)."""
        self._closing = True
        for subscription in list(self._open):
            subscription.end(_error(SHUTDOWN_MESSAGE, SERVER_SHUTDOWN))

    def connection_opened(self, close: Callable[[int, str], Awaitable[None]]) -> None:
        """A WebSocket connection: ``close(code, reason)`` ends it at shutdown."""
        self._connections.add(close)

    def connection_closed(self, close: Callable[[int, str], Awaitable[None]]) -> None:
        self._connections.discard(close)

    async def shutdown(self, timeout: float = 2.0) -> None:
        """``drain``, wait (at most ``timeout`` seconds) until every transport has sent its
        subscription's last message, then close the WebSocket connections (``GOING_AWAY``):
        called when the server starts shutting down, before it waits for its connections to
        close (gateway/serve.py; each worker's server with ``--workers N``)."""
        self.drain()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._open and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        closing = [close(GOING_AWAY, GOING_AWAY_REASON) for close in list(self._connections)]
        self._connections.clear()
        await asyncio.gather(*closing, return_exceptions=True)

    async def aclose(self) -> None:
        self.drain()
        for subscription in list(self._open):
            await subscription.aclose()
        await self.upstream.aclose()


def subscription_client(principal: Any, peer: str | None) -> str:
    """The unit of ``max_per_client``: the authenticated application, else the peer address."""
    if principal is not None and principal.authenticated and principal.application:
        return f"application:{principal.application}"
    return f"peer:{peer or 'unknown'}"
