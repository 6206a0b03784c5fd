"""The gateway's HTTP interface: GraphQL over HTTP on ``/graphql``, GraphiQL, health, metrics.

GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): ``POST`` with an
``application/json`` body ``{query, variables, operationName, extensions}`` (or a JSON array of
them: a batch, answered by an array), or ``GET`` with the same as URL parameters (queries only: a
mutation over GET is 405). With ``Accept: application/graphql-response+json`` a request that fails
before execution (parse, validation, limits, operation selection, variables) is a 4xx; with legacy
``application/json`` it is a 200. A malformed HTTP request (bad JSON, no query) is a 400 with code
``BAD_REQUEST``; an unsupported content type 415; a body over the limit 413.

One handler, no middleware stack: CSRF check, authentication (``guard``), body, persisted
operations, the engine, error masking, metrics — each a branch or a call, so a plain request pays
only for what it uses. CORS is a middleware only when origins are configured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth.guard import HttpGuard
from gateway.engine import Gateway
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
from gateway.http.health import Readiness, subgraph_urls
from gateway.http.persisted import PersistedError, PersistedOperations
from gateway.observability.context import new_request_id, request_id
from gateway.observability.metrics import GatewayMetrics, operation_name_of
from gateway.observability.tracing import Tracing
from gateway.planner.printer import print_plan

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
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


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
) -> Starlette:
    """A Starlette app serving ``gateway``; the gateway is closed when the app shuts down.

    With a ``guard`` every request is authenticated (bearer token, purpose header) and rate
    limited before anything else; the principal goes to the gateway's access control.
    ``persisted`` enables persisted operations, ``metrics`` the ``/metrics`` endpoint,
    ``tracing`` a span per request; ``propagate_headers`` are copied to subgraph calls;
    GraphiQL links fields to ``catalogue_url`` (the registry's catalogue page).
    """
    section = http or HttpSection()
    csrf_headers = tuple(h.lower() for h in section.csrf.required_headers)
    csrf_on = section.csrf.enabled
    max_body = section.max_body_bytes
    max_batch = section.max_batch
    redact = section.subgraph_errors == "redact"
    id_header = section.request_id_header.lower()
    id_header_raw = id_header.encode("latin-1")
    show_graphiql = section.graphiql and graphiql.available()
    graphiql_page = graphiql.PageOptions(
        catalogue_url=catalogue_url, dev_tokens=dev_tokens.enabled(guard)
    )
    readiness = Readiness(section.readiness_interval, section.readiness_timeout)
    propagate = tuple(h.lower() for h in propagate_headers)

    async def run_operation(
        params: dict[str, Any],
        is_get: bool,
        principal: Any,
        rid: str,
        media_type: str,
        request_headers: Mapping[str, str],
    ) -> tuple[dict[str, Any], int, dict[str, str] | None]:
        """One operation -> (response, status for a single request, extra headers)."""
        started = time.perf_counter()
        query = params["query"]
        operation = params["operation_name"]
        if persisted is not None:
            application = getattr(principal, "application", None)
            if persisted.involved(params["extensions"], params["document_id"], application):
                try:
                    query = await persisted.resolve(
                        query, params["extensions"], params["document_id"], application
                    )
                except PersistedError as error:
                    if metrics is not None:
                        metrics.observe_request(
                            metrics.operation_label(operation),
                            "rejected",
                            time.perf_counter() - started,
                        )
                    status = error.status if media_type == GRAPHQL_RESPONSE_JSON else 200
                    if error.status in (403, 503) or error.code == BAD_REQUEST:
                        status = error.status
                    return {"errors": [error.to_graphql_error()]}, status, None
        if query is None:
            return _error_body("the request has no query", BAD_REQUEST), 400, None
        if tracing is not None:
            with tracing.request(request_headers, operation or operation_name_of(query)):
                result = await gateway.process(
                    query,
                    params["variables"],
                    operation,
                    allowed_operations={"query"} if is_get else None,
                    principal=principal,
                    request_id=rid,
                )
        else:
            result = await gateway.process(
                query,
                params["variables"],
                operation,
                allowed_operations={"query"} if is_get else None,
                principal=principal,
                request_id=rid,
            )
        response = result.response
        errors = response.get("errors")
        if errors:
            response = {**response, "errors": mask_errors(errors, rid, redact)}
        status, headers = 200, None
        if result.operation_not_allowed:
            status, headers = 405, {"allow": "POST"}
        elif not result.executed and media_type == GRAPHQL_RESPONSE_JSON:
            status = 400
        if metrics is not None:
            if not result.executed:
                outcome = "invalid"
            elif errors:
                outcome = "errors"
            else:
                outcome = "ok"
            metrics.observe_request(
                metrics.operation_label(operation, query), outcome, time.perf_counter() - started
            )
        return response, status, headers

    async def serve_graphql(request: Request, media_type: str, rid: str) -> Response:
        headers = request.headers
        method = request.method
        is_get = method == "GET"
        content_media = "" if is_get else media_type_of(headers.get("content-type"))
        if (
            csrf_on
            and needs_preflight_header(method, content_media)
            and not has_preflight_header(headers, csrf_headers)
        ):
            if metrics is not None:
                metrics.observe_request("anonymous", "rejected", 0.0)
            return _json_response(
                _error_body(csrf_message(csrf_headers), CSRF_ERROR), media_type, 400
            )
        principal = None
        if guard is not None:
            admission = await guard.admit(headers, request.client.host if request.client else None)
            if not admission.admitted:
                if metrics is not None:
                    metrics.observe_request("anonymous", "rejected", 0.0)
                return _json_response(
                    admission.body, media_type, admission.status, admission.headers
                )
            principal = admission.principal
            if admission.request_id != rid:
                rid = admission.request_id
                request_id.set(rid)
        try:
            if is_get:
                batch: list[dict[str, Any]] | None = None
                params = _params_from_get(request)
            else:
                if content_media != JSON:
                    raise _BadRequest(
                        "POST requests must have content-type application/json",
                        415,
                        UNSUPPORTED_MEDIA_TYPE,
                    )
                raw = await _read_body(request, max_body)
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError as error:
                    raise _BadRequest("the request body is not valid JSON") from error
                if isinstance(body, list):
                    if max_batch == 0:
                        raise _BadRequest(
                            "batched requests are not enabled", 400, BATCHING_DISABLED
                        )
                    if not body:
                        raise _BadRequest("the batch is empty")
                    if len(body) > max_batch:
                        raise _BadRequest(
                            f"the batch has {len(body)} operations; the limit is {max_batch}",
                            400,
                            BATCH_LIMIT,
                        )
                    batch = [_params(item) for item in body]
                else:
                    batch = None
                    params = _params(body)
        except _BadRequest as error:
            if metrics is not None:
                metrics.observe_request("anonymous", "rejected", 0.0)
            return _json_response(_error_body(error.message, error.code), media_type, error.status)
        if batch is None:
            response, status, extra = await run_operation(
                params, is_get, principal, rid, media_type, headers
            )
            return _json_response(response, media_type, status, extra)
        results = await asyncio.gather(
            *(run_operation(p, False, principal, rid, media_type, headers) for p in batch)
        )
        return _json_response([r for r, _, _ in results], media_type)

    async def graphql(request: Request) -> Response:
        accept = request.headers.get("accept")
        if show_graphiql and request.method == "GET" and graphiql.wants_html(accept):
            return graphiql.page(graphiql_page)
        media_type = _negotiate(accept)
        rid = _client_request_id(request.headers.get(id_header))
        token = request_id.set(rid)
        if propagate:
            headers = request.headers
            propagated.set({h: headers[h] for h in propagate if h in headers} or None)
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            response = await serve_graphql(request, media_type, rid)
        finally:
            if metrics is not None:
                metrics.in_flight.dec()
            request_id.reset(token)
        response.raw_headers.append((id_header_raw, rid.encode("latin-1")))
        return response

    async def plan(request: Request) -> Response:
        """The query plan of an operation, for GraphiQL's plan view."""
        media = media_type_of(request.headers.get("content-type"))
        if media != JSON:
            return _json_response(
                _error_body("content-type must be application/json", UNSUPPORTED_MEDIA_TYPE),
                JSON,
                415,
            )
        if guard is not None:
            admission = await guard.admit(
                request.headers, request.client.host if request.client else None
            )
            if not admission.admitted:
                return _json_response(admission.body, JSON, admission.status, admission.headers)
            if admission.principal is None or not admission.principal.authenticated:
                message = "the query plan is shown to authenticated callers only"
                return _json_response(_error_body(message, "UNAUTHENTICATED"), JSON, 401)
        try:
            params = _params(orjson.loads(await _read_body(request, max_body)))
            if params["query"] is None:
                raise _BadRequest("the request has no query")
        except orjson.JSONDecodeError:
            return _json_response(_error_body("invalid JSON", BAD_REQUEST), JSON, 400)
        except _BadRequest as error:
            return _json_response(_error_body(error.message, error.code), JSON, error.status)
        current = cast(Gateway, getattr(gateway, "current", gateway))
        try:
            query_plan = current.query_plan(params["query"], params["operation_name"])
        except GatewayError as error:
            return _json_response({"errors": [error.to_graphql_error()]}, JSON, 400)
        text = print_plan(query_plan) if query_plan is not None else None
        return _json_response({"plan": text}, JSON)

    async def health(request: Request) -> Response:
        return _json_response({"status": "ok"}, JSON)

    async def ready(request: Request) -> Response:
        try:
            loaded = gateway.supergraph is not None
        except Exception:  # a reloading gateway without a generation yet
            loaded = False
        if not loaded:
            return _json_response({"status": "unavailable", "supergraph": False}, JSON, 503)
        ok, subgraphs = await readiness.check(subgraph_urls(gateway))
        body = {"status": "ok" if ok else "unavailable", "supergraph": True, "subgraphs": subgraphs}
        return _json_response(body, JSON, 200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        assert metrics is not None
        return Response(metrics.exposition(), media_type=metrics.content_type)

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
            for hook in on_shutdown or ():
                await hook()
            if gateway.access is not None:
                await gateway.access.drain()
            await gateway.aclose()
            if guard is not None:
                await guard.aclose()
            if persisted is not None:
                await persisted.aclose()
            await readiness.aclose()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        favicon_route(),
    ]
    if metrics is not None:
        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    if show_graphiql:
        routes.append(Route("/graphql/plan", plan, methods=["POST"]))
        routes.append(Route("/graphiql/{name}", graphiql.asset, methods=["GET"]))
        routes.extend(dev_tokens.routes(guard))
    middleware = []
    cors = section.cors
    if cors.allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=cors.allow_origins,
                allow_credentials=cors.allow_credentials,
                allow_methods=["GET", "POST"],
                allow_headers=cors.allow_headers,
                expose_headers=[id_header],
                max_age=cors.max_age,
            )
        )
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
