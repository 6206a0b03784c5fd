"""The gateway's HTTP interface: GraphQL over HTTP on ``/graphql`` plus ``/health``.

GraphQL over HTTP (https://graphql.github.io/graphql-over-http/): ``POST`` with an
``application/json`` body ``{query, variables, operationName, extensions}``, or ``GET`` with the
same as URL parameters (queries only: a mutation over GET is 405). With
``Accept: application/graphql-response+json`` a request that fails before execution (parse,
validation, operation selection, variables) is a 400; with legacy ``application/json`` it is a 200.
A malformed HTTP request (bad JSON, wrong content type, no query) is a 400 with code
``BAD_REQUEST``. Thin by design: limits, CSRF, GraphiQL and metrics come as separate layers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.auth.guard import HttpGuard
from gateway.engine import Gateway
from gateway.reload import ReloadingGateway

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
BAD_REQUEST = "BAD_REQUEST"


class _BadRequest(Exception):
    """The HTTP request is not a usable GraphQL request; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _check_string(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise _BadRequest(f"the request has no {name}")
        return None
    if not isinstance(value, str):
        raise _BadRequest(f"{name} must be a string")
    return value


async def _params_from_post(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise _BadRequest("POST requests must have content-type application/json")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise _BadRequest("the request body is not valid JSON") from error
    if not isinstance(body, dict):
        raise _BadRequest("the request body must be a JSON object")
    return {
        "query": _check_string(body.get("query"), "query", required=True),
        "variables": _check_object(body.get("variables"), "variables"),
        "operation_name": _check_string(body.get("operationName"), "operationName"),
        "extensions": _check_object(body.get("extensions"), "extensions"),
    }


def _params_from_get(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "query": _check_string(params.get("query"), "query", required=True),
        "variables": _decode_object(params.get("variables"), "variables"),
        "operation_name": params.get("operationName") or None,
        "extensions": _decode_object(params.get("extensions"), "extensions"),
    }


def create_app(gateway: Gateway | ReloadingGateway, guard: HttpGuard | None = None) -> Starlette:
    """A Starlette app serving ``gateway``; the gateway is closed when the app shuts down.

    With a ``guard`` every request is authenticated (bearer token, purpose header) and rate
    limited before anything else; the principal goes to the gateway's access control.
    """

    async def graphql(request: Request) -> Response:
        media_type = _negotiate(request.headers.get("accept"))
        is_get = request.method == "GET"
        principal, request_id = None, None
        if guard is not None:
            admission = await guard.admit(
                request.headers, request.client.host if request.client else None
            )
            if not admission.admitted:
                return _json_response(
                    admission.body, media_type, admission.status, admission.headers
                )
            principal, request_id = admission.principal, admission.request_id
        try:
            params = _params_from_get(request) if is_get else await _params_from_post(request)
        except _BadRequest as error:
            body = {"errors": [{"message": error.message, "extensions": {"code": BAD_REQUEST}}]}
            return _json_response(body, media_type, 400)
        result = await gateway.process(
            params["query"],
            params["variables"],
            params["operation_name"],
            allowed_operations={"query"} if is_get else None,
            principal=principal,
            request_id=request_id,
        )
        if result.operation_not_allowed:
            return _json_response(result.response, media_type, 405, {"allow": "POST"})
        if not result.executed and media_type == GRAPHQL_RESPONSE_JSON:
            return _json_response(result.response, media_type, 400)
        return _json_response(result.response, media_type)

    async def health(request: Request) -> Response:
        return _json_response({"status": "ok"}, JSON)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if guard is not None:
            await guard.start()
        if isinstance(gateway, ReloadingGateway):
            gateway.start()  # poll the registry, hot-swap new supergraphs
        try:
            yield
        finally:
            if gateway.access is not None:
                await gateway.access.drain()
            await gateway.aclose()
            if guard is not None:
                await guard.aclose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
