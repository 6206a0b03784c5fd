"""What the five REST OPD services share: an API-key guard (each OPD names its own header and
error body), the OpenAPI route, and reading a JSON request body. Everything else — paths, casing,
envelopes, pagination, error shapes — is each OPD's own, as with real provincial applications.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]
ErrorBody = Callable[[int, str, Request], dict[str, Any]]


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or BadRequest."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError as error:
        raise BadRequest("body is not JSON") from error
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def build_service(
    *,
    title: str,
    routes: list[tuple[str, str, Handler]],
    openapi: dict[str, Any],
    key_header: str,
    api_key: str,
    error_body: ErrorBody,
    bearer: bool = False,
) -> Starlette:
    """A Starlette app: every route but ``/openapi.json`` needs the API key in ``key_header``."""

    def guard(handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            given = request.headers.get(key_header, "")
            if bearer:
                given = given.removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), api_key.encode()):
                return JSONResponse(error_body(401, "API key missing or invalid", request), 401)
            try:
                return await handler(request)
            except BadRequest as error:
                return JSONResponse(error_body(400, error.message, request), 400)

        return guarded

    async def spec(_: Request) -> Response:
        return JSONResponse(openapi)

    app_routes = [Route(path, guard(h), methods=[method]) for method, path, h in routes]
    app_routes.append(Route("/openapi.json", spec, methods=["GET"]))
    app = Starlette(routes=app_routes)
    app.state.title = title
    return app


def openapi_document(
    title: str, description: str, security: dict[str, Any], paths: dict[str, Any]
) -> dict[str, Any]:
    """An OpenAPI 3.0 document with one API-key security scheme applied to every path."""
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "components": {"securitySchemes": {"kunciApi": security}},
        "security": [{"kunciApi": []}],
        "paths": paths,
    }


def op(summary: str, *, params: list[dict[str, Any]] | None = None,
       body: dict[str, Any] | None = None, responses: str = "200") -> dict[str, Any]:  # fmt: skip
    """One OpenAPI operation, compactly."""
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {responses: {"description": "OK"}, "401": {"description": "no API key"}},
    }
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "properties": body}}},
        }
    return operation


def param(name: str, where: str = "query", kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": kind}}
