"""The gateway's HTTP interface: GraphQL over HTTP on ``/graphql``, GraphiQL, health, metrics.

GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): ``POST`` with an
``application/json`` body ``{query, variables, operationName, extensions}`` (or a JSON array of
them: a batch, answered by an array), or ``GET`` with the same as URL parameters (queries only: a
mutation over GET is 405). With ``Accept: application/graphql-response+json`` a request that fails
before execution (parse, validation, limits, operation selection, variables) is a 4xx; with legacy
``application/json`` it is a 200. A malformed HTTP request (bad JSON, no query) is a 400 with code
``BAD_REQUEST``; an unsupported content type 415; a body over the limit 413.

One endpoint object (``GraphQLEndpoint``), no middleware stack: CSRF check, authentication
(``guard``), body, persisted operations, the engine, error masking — each a method, so a plain
request pays only for what it uses; ``RequestMetrics`` holds every metrics call. CORS is a
middleware only when origins are configured. ``POST /graphql`` — nearly every request — goes
from the outer layers (500 on a crash, overload, CORS) straight to the endpoint, past Starlette's
router and exception middleware (``_GraphQLPost``); every other path is routed as usual.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth.guard import HttpGuard
from gateway.engine import Gateway, GatewayResult, GraphQLRequest
from gateway.errors import GatewayError
from gateway.executor.resilience import propagated
from gateway.favicon import favicon_route
from gateway.http import dev_tokens, graphiql
from gateway.http.config import HttpSection
from gateway.http.csrf import (
    CSRF_ERROR,
    csrf_message,
    has_preflight_header,
    media_type_of,
    needs_preflight_header,
)
from gateway.http.errors import mask_errors
from gateway.http.health import Readiness, health, ready_endpoint
from gateway.http.multipart import (
    multipart_response,
    multipart_stream,
    takes_multipart,
    wants_multipart,
)
from gateway.http.overload import OverloadGuard
from gateway.http.persisted import PersistedError, PersistedOperations
from gateway.http.sse import EVENT_STREAM, event_stream, wants_event_stream
from gateway.http.websocket import GraphQLWebSocket
from gateway.observability.context import new_request_id, request_id
from gateway.observability.metrics import GatewayMetrics, operation_name_of
from gateway.observability.tracing import Tracing
from gateway.planner.printer import print_plan
from gateway.subscriptions.manager import SubscriptionManager, subscription_client

if TYPE_CHECKING:
    from gateway.reload import ReloadingGateway

logger = logging.getLogger("jamajama.http")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = "BAD_REQUEST"
REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
BATCH_LIMIT = "BATCH_LIMIT_EXCEEDED"
BATCHING_DISABLED = "BATCHING_NOT_ENABLED"

#: request id taken from the client only when it looks like one
_MAX_REQUEST_ID = 128
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


class _BadRequest(Exception):
    """The HTTP request is not a usable GraphQL request; ``message`` says why."""

    def __init__(self, message: str, status: int = 400, code: str = BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _json_response(
    content: Any, media_type: str, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status_code, media_type=media_type, headers=headers
    )


def _negotiate(accept: str | None) -> str:
    """The response media type: the first of ours the client accepts; legacy JSON by default."""
    if accept:
        for part in accept.split(","):
            media = part.split(";", 1)[0].strip().lower()
            if media == GRAPHQL_RESPONSE_JSON:
                return GRAPHQL_RESPONSE_JSON
            if media in (JSON, "application/*", "*/*"):
                return JSON
    return JSON


#: ``_answer_types`` by Accept header: clients send a handful of distinct values
_ANSWER_TYPES: dict[str | None, tuple[str, bool | None]] = {}
_MAX_ANSWER_TYPES = 256


def _answer_types(accept: str | None) -> tuple[str, bool | None]:
    """The response media type, and multipart/mixed (gateway/http/multipart.py): True when the
    client prefers it, None when it accepts it (an operation with @defer gets it), False never;
    refusals before the operation stay JSON. Remembered per Accept value (parsed once)."""
    known = _ANSWER_TYPES.get(accept)
    if known is not None:
        return known
    if wants_event_stream(accept):
        answer: tuple[str, bool | None] = (EVENT_STREAM, None)
    else:
        multipart = wants_multipart(accept) or (None if takes_multipart(accept) else False)
        answer = (_negotiate(accept), multipart)
    if len(_ANSWER_TYPES) >= _MAX_ANSWER_TYPES:
        _ANSWER_TYPES.clear()
    _ANSWER_TYPES[accept] = answer
    return answer


def _decode_object(raw: str | None, name: str) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise _BadRequest(f"{name} must be a JSON object") from error
    return _check_object(value, name)


def _check_object(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _BadRequest(f"{name} must be a JSON object")
    return value


def _check_string(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadRequest(f"{name} must be a string")
    return value


def _params(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _BadRequest("the request body must be a JSON object")
    return {
        "query": _check_string(body.get("query"), "query"),
        "variables": _check_object(body.get("variables"), "variables"),
        "operation_name": _check_string(body.get("operationName"), "operationName"),
        "extensions": _check_object(body.get("extensions"), "extensions"),
        "document_id": body.get("documentId"),
    }


def _params_from_get(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "query": params.get("query") or None,
        "variables": _decode_object(params.get("variables"), "variables"),
        "operation_name": params.get("operationName") or None,
        "extensions": _decode_object(params.get("extensions"), "extensions"),
        "document_id": params.get("documentId") or None,
    }


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) one over ``limit`` bytes without reading past it."""
    length = request.headers.get("content-length")
    if length is not None:
        try:
            declared = int(length)
        except ValueError as error:
            raise _BadRequest("content-length is not a number") from error
        if declared > limit:
            raise _too_large(limit)
    # ASGI messages read directly, as Request.stream() would (without its async generator)
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            continue
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> _BadRequest:
    return _BadRequest(
        f"the request body is larger than {limit} bytes (the limit)", 413, REQUEST_TOO_LARGE
    )


def _client_request_id(value: str | None) -> str:
    if value and len(value) <= _MAX_REQUEST_ID and _ID_CHARS.issuperset(value):
        return value
    return new_request_id()


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class RequestMetrics:
    """The metrics of the GraphQL endpoint, in one place; every call is a no-op without
    ``[telemetry] metrics``."""

    def __init__(self, metrics: GatewayMetrics | None) -> None:
        self._metrics = metrics

    def refused(self) -> None:
        """Turned away before an operation was known (CSRF, credentials, a malformed request)."""
        if self._metrics is not None:
            self._metrics.observe_request("anonymous", "rejected", 0.0)

    def persisted_refused(self, operation: str | None, started: float) -> None:
        if self._metrics is not None:
            label = self._metrics.operation_label(operation)
            self._metrics.observe_request(label, "rejected", time.perf_counter() - started)

    def finished(
        self, operation: str | None, query: str, result: GatewayResult, started: float
    ) -> None:
        if self._metrics is None:
            return
        if not result.executed:
            outcome = "invalid"
        elif result.response.get("errors"):
            outcome = "errors"
        else:
            outcome = "ok"
        label = self._metrics.operation_label(operation, query)
        self._metrics.observe_request(label, outcome, time.perf_counter() - started)

    def enter(self) -> None:
        """A request starts being served (``leave`` when it ends): the in-flight gauge."""
        if self._metrics is not None:
            self._metrics.in_flight.inc()

    def leave(self) -> None:
        if self._metrics is not None:
            self._metrics.in_flight.dec()


#: (response body, HTTP status of a single request, extra headers)
Outcome = tuple[dict[str, Any], int, dict[str, str] | None]


class GraphQLEndpoint:
    """``/graphql``: CSRF check, the guard, the request's operations, the engine, error masking.
    One object per app; each step is a method, so a plain request pays only for what it uses."""

    def __init__(
        self,
        gateway: Gateway | ReloadingGateway,
        guard: HttpGuard | None,
        section: HttpSection,
        persisted: PersistedOperations | None,
        metrics: RequestMetrics,
        tracing: Tracing | None,
        propagate_headers: Sequence[str],
        catalogue_url: str | None = None,
        subscriptions: SubscriptionManager | None = None,
    ) -> None:
        self.gateway = gateway
        #: GraphQL subscriptions (SSE here, WebSocket in gateway/http/websocket.py)
        self.subscriptions = subscriptions or SubscriptionManager(gateway)
        self.websocket = GraphQLWebSocket(
            self.subscriptions, guard, section.cors.allow_origins, self.mask, new_request_id
        )
        self.guard = guard
        self.persisted = persisted
        self.metrics = metrics
        self.tracing = tracing
        self.csrf_headers = tuple(h.lower() for h in section.csrf.required_headers)
        self.csrf_on = section.csrf.enabled
        self.max_body = section.max_body_bytes
        self.max_batch = section.max_batch
        self.redact = section.subgraph_errors == "redact"
        self.id_header = section.request_id_header.lower()
        self._id_header_raw = self.id_header.encode("latin-1")
        self.show_graphiql = section.graphiql and graphiql.available()
        self.graphiql_page = graphiql.PageOptions(
            catalogue_url=catalogue_url, dev_tokens=dev_tokens.enabled(guard)
        )
        self.propagate = tuple(h.lower() for h in propagate_headers)

    async def graphql(self, request: Request) -> Response:
        accept = request.headers.get("accept")
        if self.show_graphiql and request.method == "GET" and graphiql.wants_html(accept):
            return graphiql.page(self.graphiql_page)
        media_type, multipart = _answer_types(accept)
        rid = _client_request_id(request.headers.get(self.id_header))
        token = request_id.set(rid)
        if self.propagate:
            headers = request.headers
            propagated.set({h: headers[h] for h in self.propagate if h in headers} or None)
        self.metrics.enter()
        try:
            response = await self.serve(request, media_type, rid, multipart)
        finally:
            self.metrics.leave()
            request_id.reset(token)
        response.raw_headers.append((self._id_header_raw, rid.encode("latin-1")))
        return response

    async def serve(
        self, request: Request, media_type: str, rid: str, multipart: bool | None = False
    ) -> Response:
        """CSRF, credentials, then the request's operation (or batch of them). ``multipart``:
        True answers multipart/mixed, None only when the operation defers, False never."""
        headers = request.headers
        is_get = request.method == "GET"
        content_media = "" if is_get else media_type_of(headers.get("content-type"))
        if self._cross_site(request.method, content_media, headers):
            self.metrics.refused()
            body = _error_body(csrf_message(self.csrf_headers), CSRF_ERROR)
            return _json_response(body, media_type, 400)
        principal = None
        if self.guard is not None:
            admission = await self.guard.admit(headers, _client_host(request))
            if not admission.admitted:
                self.metrics.refused()
                return _json_response(
                    admission.body, media_type, admission.status, admission.headers
                )
            principal = admission.principal
        try:
            operations = await self._operations(request, is_get, content_media)
        except _BadRequest as error:
            self.metrics.refused()
            return _json_response(_error_body(error.message, error.code), media_type, error.status)
        if isinstance(operations, list) and self.guard is not None:  # a batch of N counts N
            peer = _client_host(request)
            charged = await self.guard.charge(principal, headers, peer, len(operations) - 1)
            if not charged.admitted:
                self.metrics.refused()
                return _json_response(charged.body, media_type, charged.status, charged.headers)
        if media_type == EVENT_STREAM:
            return await self._event_stream(operations, is_get, principal, rid, request)
        if not isinstance(operations, list):
            results: list[GatewayResult] = []
            response, status, extra = await self.run_operation(
                operations, is_get, principal, rid, media_type, headers, results, multipart
            )
            result = results[0] if results else None
            if multipart or (result is not None and result.deferred is not None):
                if result is not None and result.later is not None:  # incremental delivery
                    later = self._masked_parts(result.later, rid)
                    return multipart_stream(response, later, status, extra)
                if status == 200 and "data" not in response:
                    status = 400  # failed before execution: Hive's status for multipart
                return multipart_response([response], status, extra)
            return _json_response(response, media_type, status, extra)
        outcomes = await asyncio.gather(
            *(self.run_operation(p, False, principal, rid, media_type, headers) for p in operations)
        )
        return _json_response([r for r, _, _ in outcomes], media_type)

    async def _event_stream(
        self,
        operations: dict[str, Any] | list[dict[str, Any]],
        is_get: bool,
        principal: Any,
        rid: str,
        request: Request,
    ) -> Response:
        """GraphQL over SSE (gateway/http/sse.py): one operation, answered as a stream."""
        if isinstance(operations, list):
            body = _error_body("a batch cannot be answered as an event stream", BAD_REQUEST)
            return _json_response(body, JSON, 400)
        query = operations["query"]
        if self.persisted is not None:
            resolved = await self._persisted_query(operations, principal, JSON, time.perf_counter())
            if isinstance(resolved, tuple):
                return _json_response(resolved[0], JSON, resolved[1])
            query = resolved
        if query is None:
            return _json_response(_error_body("the request has no query", BAD_REQUEST), JSON, 400)
        graphql_request = GraphQLRequest(
            query,
            operations["variables"],
            operations["operation_name"],
            principal=principal,
            request_id=rid,
            allowed_operations={"query", "subscription"} if is_get else None,
        )
        client = subscription_client(principal, _client_host(request))
        return event_stream(
            self.subscriptions, graphql_request, client, lambda r: self.mask(r, rid)
        )

    async def _masked_parts(
        self, parts: AsyncIterator[dict[str, Any]], rid: str
    ) -> AsyncIterator[dict[str, Any]]:
        """The deferred parts with each entry's errors masked as every answer's are."""
        async for part in parts:
            for entry in part.get("incremental", ()):
                if entry.get("errors"):
                    entry["errors"] = mask_errors(entry["errors"], rid, self.redact)
            yield part

    def mask(self, response: dict[str, Any], rid: str) -> dict[str, Any]:
        """``response`` with its errors masked as every answer of this endpoint is."""
        errors = response.get("errors")
        if not errors:
            return response
        return {**response, "errors": mask_errors(errors, rid, self.redact)}

    def _cross_site(self, method: str, content_media: str, headers: Mapping[str, str]) -> bool:
        """A request a browser could send cross-site without a preflight, lacking our header."""
        return (
            self.csrf_on
            and needs_preflight_header(method, content_media)
            and not has_preflight_header(headers, self.csrf_headers)
        )

    async def _operations(
        self, request: Request, is_get: bool, content_media: str
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """The request's parameters: one operation, or a list (a batch); raises _BadRequest."""
        if is_get:
            return _params_from_get(request)
        if content_media != JSON:
            raise _BadRequest(
                "POST requests must have content-type application/json",
                415,
                UNSUPPORTED_MEDIA_TYPE,
            )
        raw = await _read_body(request, self.max_body)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise _BadRequest("the request body is not valid JSON") from error
        if not isinstance(body, list):
            return _params(body)
        if self.max_batch == 0:
            raise _BadRequest("batched requests are not enabled", 400, BATCHING_DISABLED)
        if not body:
            raise _BadRequest("the batch is empty")
        if len(body) > self.max_batch:
            message = f"the batch has {len(body)} operations; the limit is {self.max_batch}"
            raise _BadRequest(message, 400, BATCH_LIMIT)
        return [_params(item) for item in body]

    async def run_operation(
        self,
        params: dict[str, Any],
        is_get: bool,
        principal: Any,
        rid: str,
        media_type: str,
        request_headers: Mapping[str, str],
        results: list[GatewayResult] | None = None,
        multipart: bool | None = False,
    ) -> Outcome:
        """One operation -> (response, status for a single request, extra headers); its
        result is appended to ``results`` when given (a multipart answer may need its parts)."""
        started = time.perf_counter()
        operation = params["operation_name"]
        query = params["query"]
        if self.persisted is not None:
            resolved = await self._persisted_query(params, principal, media_type, started)
            if isinstance(resolved, tuple):
                return resolved
            query = resolved
        if query is None:
            return _error_body("the request has no query", BAD_REQUEST), 400, None
        graphql_request = GraphQLRequest(
            query,
            params["variables"],
            operation,
            principal=principal,
            request_id=rid,
            allowed_operations={"query"} if is_get else None,
            incremental=multipart is not False and results is not None,
            stream_deferred=multipart is not False and results is not None,
        )
        if self.tracing is not None:
            with self.tracing.request(request_headers, operation or operation_name_of(query)):
                result = await self.gateway.process(graphql_request)
        else:
            result = await self.gateway.process(graphql_request)
        self.metrics.finished(operation, query, result, started)
        if results is not None:
            results.append(result)
        return self._outcome(result, rid, media_type)

    async def _persisted_query(
        self, params: dict[str, Any], principal: Any, media_type: str, started: float
    ) -> str | Outcome | None:
        """The query text of a persisted operation (the request's own query when none is
        involved), or the refusal."""
        assert self.persisted is not None
        query: str | None = params["query"]
        application = getattr(principal, "application", None)
        extensions, document_id = params["extensions"], params["document_id"]
        if not self.persisted.involved(extensions, document_id, application):
            return query
        try:
            return await self.persisted.resolve(query, extensions, document_id, application)
        except PersistedError as error:
            self.metrics.persisted_refused(params["operation_name"], started)
            status = error.status if media_type == GRAPHQL_RESPONSE_JSON else 200
            if error.status in (403, 503) or error.code == BAD_REQUEST:
                status = error.status
            return {"errors": [error.to_graphql_error()]}, status, None

    def _outcome(self, result: GatewayResult, rid: str, media_type: str) -> Outcome:
        response = result.response
        errors = response.get("errors")
        if errors:
            response = {**response, "errors": mask_errors(errors, rid, self.redact)}
        if result.operation_not_allowed:
            return response, 405, {"allow": "POST"}
        if result.not_acceptable:
            return response, 406, None
        if not result.executed and media_type == GRAPHQL_RESPONSE_JSON:
            return response, 400, None
        return response, 200, None

    async def plan(self, request: Request) -> Response:
        """The query plan of an operation, for GraphiQL's plan view (authenticated callers): the
        plan of the operation as rewritten for the caller, naming nothing its schema hides."""
        media = media_type_of(request.headers.get("content-type"))
        if media != JSON:
            body = _error_body("content-type must be application/json", UNSUPPORTED_MEDIA_TYPE)
            return _json_response(body, JSON, 415)
        principal = None
        if self.guard is not None:
            admission = await self.guard.admit(request.headers, _client_host(request))
            if not admission.admitted:
                return _json_response(admission.body, JSON, admission.status, admission.headers)
            principal = admission.principal
            if principal is None or not principal.authenticated:
                message = "the query plan is shown to authenticated callers only"
                return _json_response(_error_body(message, "UNAUTHENTICATED"), JSON, 401)
        try:
            params = _params(orjson.loads(await _read_body(request, self.max_body)))
            if params["query"] is None:
                raise _BadRequest("the request has no query")
        except orjson.JSONDecodeError:
            return _json_response(_error_body("invalid JSON", BAD_REQUEST), JSON, 400)
        except _BadRequest as error:
            return _json_response(_error_body(error.message, error.code), JSON, error.status)
        current = cast(Gateway, getattr(self.gateway, "current", self.gateway))
        try:
            # the caller's plan: its rewrite, validated against its filtered schema
            query_plan = current.query_plan(params["query"], params["operation_name"], principal)
        except GatewayError as error:
            return _json_response({"errors": [error.to_graphql_error()]}, JSON, 400)
        text = print_plan(query_plan, current.describe_fetch) if query_plan is not None else None
        return _json_response({"plan": text}, JSON)


def _client_host(request: Request) -> str | None:
    return request.client.host if request.client else None


def create_app(
    gateway: Gateway | ReloadingGateway,
    guard: HttpGuard | None = None,
    *,
    http: HttpSection | None = None,
    persisted: PersistedOperations | None = None,
    metrics: GatewayMetrics | None = None,
    tracing: Tracing | None = None,
    propagate_headers: Sequence[str] = (),
    catalogue_url: str | None = None,
    on_startup: list[Callable[[], Awaitable[None]]] | None = None,
    on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
    subscriptions: SubscriptionManager | None = None,
) -> Starlette:
    """A Starlette app serving ``gateway``; the gateway is closed when the app shuts down.

    With a ``guard`` every request is authenticated (bearer token, purpose header) and rate
    limited before anything else; the principal goes to the gateway's access control.
    ``persisted`` enables persisted operations, ``metrics`` the ``/metrics`` endpoint,
    ``tracing`` a span per request; ``propagate_headers`` are copied to subgraph calls;
    GraphiQL links fields to ``catalogue_url`` (the registry's catalogue page).
    """
    section = http or HttpSection()
    endpoint = GraphQLEndpoint(
        gateway,
        guard,
        section,
        persisted,
        RequestMetrics(metrics),
        tracing,
        propagate_headers,
        catalogue_url,
        subscriptions,
    )
    readiness = Readiness(section.readiness_interval, section.readiness_timeout)
    manager = endpoint.subscriptions
    lifespan = _lifespan(
        gateway, guard, persisted, readiness, on_startup, [manager.aclose, *(on_shutdown or ())]
    )
    routes = [
        Route("/graphql", endpoint.graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", endpoint.websocket.serve),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready_endpoint(gateway, readiness), methods=["GET"]),
        favicon_route(),
    ]
    if metrics is not None:
        routes.append(Route("/metrics", metrics_endpoint(metrics), methods=["GET"]))
    if endpoint.show_graphiql:
        routes.append(Route("/graphql/plan", endpoint.plan, methods=["POST"]))
        routes.append(Route("/graphiql/{name}", graphiql.asset, methods=["GET"]))
        routes.extend(dev_tokens.routes(guard))
    shed = metrics.request_shed if metrics is not None else None
    middleware = [Middleware(OverloadGuard, section=section.overload, on_shed=shed)]
    middleware += _cors(section, endpoint.id_header)
    app = _GatewayApp(endpoint.graphql, routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.subscriptions = manager  # the server ends them first when it shuts down
    return app


class _GatewayApp(Starlette):
    """The gateway's Starlette app, with ``POST /graphql`` answered by ``_GraphQLPost``."""

    def __init__(self, graphql: Callable[[Request], Awaitable[Response]], **options: Any) -> None:
        self._graphql = graphql
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack (500 on a crash, the app's middleware, exceptions, the router) with
        ``POST /graphql`` taken out just inside the app's middleware."""
        app: ASGIApp = _GraphQLPost(
            ExceptionMiddleware(self.router, debug=self.debug), self._graphql
        )
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return ServerErrorMiddleware(app, debug=self.debug)


class _GraphQLPost:
    """``POST /graphql`` straight to the endpoint, as the router would call it (the same
    ``Request``, the same response), without matching every route and wrapping the call in
    Starlette's exception handling: the endpoint raises no HTTP exceptions, and a crash still
    becomes a 500 in ``ServerErrorMiddleware``. Anything else (and a request under a
    ``root_path``) goes on to ``app``."""

    def __init__(self, app: ASGIApp, graphql: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.graphql = graphql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/graphql"
            and scope["method"] == "POST"
            and not scope.get("root_path")
        ):
            response = await self.graphql(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _lifespan(
    gateway: Gateway | ReloadingGateway,
    guard: HttpGuard | None,
    persisted: PersistedOperations | None,
    readiness: Readiness,
    on_startup: list[Callable[[], Awaitable[None]]] | None,
    on_shutdown: list[Callable[[], Awaitable[None]]] | None,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start the guard, persisted operations and registry polling. At shutdown: drain the audit
    writes, close the engine (a reloading one drains its retired generations too), then the
    ``on_shutdown`` hooks (what the engine shares: transport, audit log), then the rest."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if guard is not None:
            await guard.start()
        if persisted is not None:
            await persisted.start()
        for hook in on_startup or ():
            await hook()
        start_polling = getattr(gateway, "start", None)
        if start_polling is not None:
            start_polling()  # a ReloadingGateway: poll the registry, hot-swap supergraphs
        try:
            yield
        finally:
            # on_shutdown[0] ends the open subscriptions (documented message) before the rest
            if on_shutdown:
                await on_shutdown[0]()
            if gateway.access is not None:
                await gateway.access.drain()
            await gateway.aclose()
            for hook in (on_shutdown or [])[1:]:
                await hook()
            if guard is not None:
                await guard.aclose()
            if persisted is not None:
                await persisted.aclose()
            await readiness.aclose()

    return lifespan


def metrics_endpoint(metrics: GatewayMetrics) -> Callable[[Request], Awaitable[Response]]:
    async def exposition(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=metrics.content_type)

    return exposition


def _cors(section: HttpSection, id_header: str) -> list[Middleware]:
    """CORS as a middleware only when origins are configured (closed by default)."""
    cors = section.cors
    if not cors.allow_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=cors.allow_origins,
            allow_credentials=cors.allow_credentials,
            allow_methods=["GET", "POST"],
            allow_headers=cors.allow_headers,
            expose_headers=[id_header],
            max_age=cors.max_age,
        )
    ]
