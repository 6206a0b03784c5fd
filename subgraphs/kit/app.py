"""The app factory: from a Strawberry federation schema and a store to an ASGI app.

Every OPD subgraph is ``Subgraph(name, schema, default_port)``; :func:`build_app` serves it at
``/graphql`` (GraphQL over HTTP, GraphiQL in a browser) and ``/health``. GraphiQL is the gateway's
offline bundle (``gateway/http/graphiql.py``), not Strawberry's page, which loads from a CDN. The
schema comes from :func:`federation_schema`, which pins Federation 2.9 (the highest version the MIT
composer knows) and masks unexpected errors.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import orjson
import strawberry
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.types import ExecutionContext, Info

from gateway.favicon import favicon_route
from gateway.http import graphiql

from . import lean
from .errors import INTERNAL_SERVER_ERROR, SubgraphError
from .events import EventBroker
from .fastpath import FastPath
from .loaders import Loaders
from .signing import SignatureRequired, configured_keys
from .store import Store

FEDERATION_VERSION: Final = "2.9"
logger = logging.getLogger("jamajama.subgraphs")


@dataclass(slots=True)
class Context:
    """What resolvers get as ``info.context``: the store, this request's DataLoaders and the
    app's event broker (subscriptions, subgraphs/kit/events.py)."""

    store: Store
    loaders: Loaders = field(default_factory=Loaders)
    events: EventBroker = field(default_factory=EventBroker)


OpdInfo: TypeAlias = Info[Context, None]


def load(
    info: OpdInfo, name: str, fetch: Callable[[list[Any]], dict[Any, Any]], key: Any
) -> Awaitable[Any]:
    """Load one value by key through this request's loader `name` (batched by `fetch`); await
    it. A plain function returning the loader's future: no coroutine per load."""
    return info.context.loaders.get(name, fetch).load(key)


def row_by_key(info: OpdInfo, table: str, column: str, key: Any) -> Awaitable[Any]:
    """The row of ``table`` whose ``column`` equals ``key`` (None if absent); one query a batch."""
    store = info.context.store
    return load(info, f"{table}.{column}", lambda keys: store.by_keys(table, column, keys), key)


def _expected(error: GraphQLError) -> bool:
    return error.original_error is None or isinstance(error.original_error, SubgraphError)


class _MaskUnexpectedErrors(MaskErrors):
    """Bugs become ``INTERNAL_SERVER_ERROR`` with a generic message; input errors pass through."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda e: not _expected(e),
            error_message="Internal error in this subgraph; the OPD team has been notified.",
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked


class OpdSchema(strawberry.federation.Schema):
    """A federation schema that logs only unexpected errors (with their traceback)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [e for e in errors if not _expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


#: Documents whose parse and validation are kept: the gateway sends the same few documents
#: (one per planned fetch) with different variables, so each is parsed and validated once.
DOCUMENT_CACHE_SIZE: Final = 256


def federation_schema(
    query: type,
    types: Sequence[type] = (),
    *,
    mutation: type | None = None,
    subscription: type | None = None,
) -> OpdSchema:
    """The OPD schema: Federation 2.9, unexpected errors masked, documents cached, lean resolvers
    (subgraphs/kit/lean.py) for the argument-free fields. A ``subscription`` root is served over
    WebSocket (``graphql-transport-ws``) on ``/graphql``."""
    schema = OpdSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        federation_version=FEDERATION_VERSION,
        extensions=[
            _MaskUnexpectedErrors,
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        ],
    )
    lean.install(schema)
    return schema


@dataclass(frozen=True, slots=True)
class Subgraph:
    """One OPD subgraph: its name (also its store's name), schema and default port."""

    name: str
    schema: strawberry.federation.Schema
    default_port: int


#: The one WebSocket subprotocol subgraphs speak (the gateway's client speaks it too).
SUBSCRIPTION_PROTOCOL: Final = "graphql-transport-ws"


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.federation.Schema, store: Store) -> None:
        super().__init__(schema, subscription_protocols=(SUBSCRIPTION_PROTOCOL,))
        self.store = store
        #: one broker per app: mutations publish, subscriptions listen (subgraphs/kit/events.py)
        self.events = EventBroker()

    async def get_context(
        self, request: Request | WebSocket, response: Response | None = None
    ) -> Context:
        return Context(self.store, events=self.events)

    async def render_graphql_ide(self, request: Request) -> Response:
        """The project's GraphiQL bundle (served by this app, works offline)."""
        return graphiql.page(_SUBGRAPH_PAGE)


_SUBGRAPH_PAGE = graphiql.PageOptions(mode="subgraph")

#: ``0`` turns the direct executor off (every request through Strawberry).
FAST_PATH_ENV: Final = "JAMAJAMA_SUBGRAPH_FAST_PATH"


def fast_path_enabled() -> bool:
    return os.environ.get(FAST_PATH_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


class _FastGraphQL:
    """``/graphql`` with the direct executor (subgraphs/kit/fastpath.py) in front of Strawberry.

    A JSON POST the executor answers without any error gets its answer; every other request
    (GET, GraphiQL, multipart, errors, unsupported documents) goes to Strawberry, with the body
    it sent replayed."""

    def __init__(self, strawberry_app: _GraphQLApp, store: Store) -> None:
        self.strawberry_app = strawberry_app
        self.store = store
        self.fast = FastPath(strawberry_app.schema)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or ())
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not headers.get(b"content-type", b"").startswith(b"application/json")
            or b"multipart" in headers.get(b"accept", b"")
        ):
            await self.strawberry_app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        answer = None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if payload is not None:
            context = Context(self.store, events=self.strawberry_app.events)
            answer = await self.fast.answer(payload, context)
        if answer is not None:
            response = Response(orjson.dumps(answer), media_type="application/json")
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.strawberry_app(scope, replay, send)


def build_app(
    subgraph: Subgraph,
    store: Store,
    signing_keys: Sequence[bytes] | None = None,
    fast_path: bool | None = None,
) -> Starlette:
    """The subgraph's ASGI app. With signing keys (default: ``JAMAJAMA_SUBGRAPH_SIGNING_KEYS``)
    ``/graphql`` answers only requests signed by the gateway (subgraphs/kit/signing.py). The
    direct executor answers what it can unless `fast_path` (default:
    ``$JAMAJAMA_SUBGRAPH_FAST_PATH``, on) is off."""
    strawberry_app = _GraphQLApp(subgraph.schema, store)
    use_fast = fast_path_enabled() if fast_path is None else fast_path
    graphql_app = _FastGraphQL(strawberry_app, store) if use_fast else strawberry_app
    keys = configured_keys() if signing_keys is None else list(signing_keys)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "subgraph": subgraph.name})

    return Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", strawberry_app),
            Route("/health", health),
            graphiql.asset_route(),
            favicon_route(),
        ],
        middleware=[Middleware(SignatureRequired, subgraph=subgraph.name, keys=keys)]
        if keys
        else [],
    )


def service_sdl(schema: strawberry.federation.Schema) -> str:
    """The SDL the subgraph publishes, exactly as ``{ _service { sdl } }`` returns it."""
    result = schema.execute_sync("{ _service { sdl } }")
    if result.errors or result.data is None:
        raise RuntimeError(f"_service query failed: {result.errors}")
    return str(result.data["_service"]["sdl"])


__all__ = [
    "FEDERATION_VERSION",
    "Context",
    "OpdInfo",
    "OpdSchema",
    "Subgraph",
    "build_app",
    "federation_schema",
    "load",
    "service_sdl",
]
