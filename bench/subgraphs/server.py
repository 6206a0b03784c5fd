"""The four benchmark subgraphs (accounts, inventory, products, reviews) on one event loop.

Federation 2 subgraphs for the reference gateway-benchmark workload, built so that they are
never the bottleneck of a gateway benchmark and always give the same answers:

- the schemas are the SDL files beside this module (the ones `bench/supergraph.graphql` is
  composed from); execution is graphql-core, with `_service { sdl }` and `_entities`;
- the data is `data.json` (reconstructed from `/work/shared/bench/expected.json`), or with
  ``--scale N`` the same records repeated in N blocks (`dataset.py`, the scaling scenario);
- HTTP/1.1 keep-alive on a bare asyncio protocol (httptools parser, uvloop when present);
- every answer is memoised by the raw request body: the data never changes, so the same body
  always gets the same bytes, and a gateway's repeated subgraph fetches cost a dict lookup.

Usage::

    python bench/subgraphs/server.py                  # ports 4001-4004 (the supergraph's)
    python bench/subgraphs/server.py --port-base 0    # free ports, printed on the ready line
    python bench/subgraphs/server.py --scale 100      # 100x the entities (dataset.py)

When all four listen it prints one JSON line on stdout:
``{"ready": {"accounts": "http://127.0.0.1:4001/graphql", ...}}``; with
``--supergraph-out PATH`` it first writes there the supergraph pointing at the ports in use, and
adds ``"supergraph": PATH`` to that line.
``GET /stats`` on any port answers the request count of each subgraph; ``GET /health`` answers
``{"ok":true}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httptools
from dataset import reference_data, scale_data  # beside this file (run as a script)
from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)

HERE = Path(__file__).resolve().parent
SUBGRAPHS = ("accounts", "inventory", "products", "reviews")
CACHE_LIMIT = 4096

# --------------------------------------------------------------------------------------------
# Schema: the subgraph SDL plus the federation definitions a subgraph server adds to it.
# --------------------------------------------------------------------------------------------

FEDERATION_DEFINITIONS = """
directive @link(url: String!, import: [String]) repeatable on SCHEMA
directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @external on FIELD_DEFINITION | OBJECT
directive @requires(fields: String!) on FIELD_DEFINITION
directive @provides(fields: String!) on FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
scalar _Any
type _Service { sdl: String }
"""

_ENTITY_TYPE = re.compile(r"^type (\w+)[^{]*@key\(", re.MULTILINE)


def build_subgraph_schema(sdl: str) -> GraphQLSchema:
    """Build the executable schema of a subgraph: its SDL plus `_service` and `_entities`."""
    entities = _ENTITY_TYPE.findall(sdl)
    query_fields = "_entities(representations: [_Any!]!): [_Entity]!\n  _service: _Service!"
    query = "extend type Query" if re.search(r"^type Query\b", sdl, re.MULTILINE) else "type Query"
    document = "\n".join(
        [
            FEDERATION_DEFINITIONS,
            sdl,
            f"union _Entity = {' | '.join(entities)}",
            f"{query} {{\n  {query_fields}\n}}",
        ]
    )
    schema = build_schema(document)
    entity_union = schema.type_map["_Entity"]
    entity_union.resolve_type = lambda value, _info, _type: value["__typename"]  # type: ignore[attr-defined]
    return schema


# --------------------------------------------------------------------------------------------
# Data and resolvers: everything is precomputed here, resolvers only look things up.
# --------------------------------------------------------------------------------------------

Resolver = Callable[..., Any]
# (root field resolvers, entity resolvers by type, other field resolvers by "Type.field")
Resolvers = tuple[dict[str, Resolver], dict[str, Resolver], dict[str, Resolver]]


class Data:
    """The workload's records, indexed for the resolvers."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.users = {u["id"]: {"__typename": "User", **u} for u in raw["users"]}
        self.products = {
            p["upc"]: {"__typename": "Product", **{k: v for k, v in p.items() if k != "inStock"}}
            for p in raw["products"]
        }
        self.top_products = [self.products[upc] for upc in raw["topProducts"]]
        self.in_stock = {p["upc"]: p["inStock"] for p in raw["products"]}
        self.reviews = {r["id"]: {"__typename": "Review", **r} for r in raw["reviews"]}
        self.user_reviews = {
            uid: [self.reviews[rid] for rid in ids] for uid, ids in raw["userReviews"].items()
        }
        self.product_reviews = {
            upc: [self.reviews[rid] for rid in ids] for upc, ids in raw["productReviews"].items()
        }


def accounts_resolvers(data: Data) -> Resolvers:
    """Root fields and entity resolvers of `accounts`."""
    users = list(data.users.values())
    root = {
        "me": lambda _root, _info: data.users["1"],
        "user": lambda _root, _info, id: data.users.get(id),
        "users": lambda _root, _info: users,
    }
    entities = {"User": lambda rep: data.users.get(rep.get("id"))}
    return root, entities, {}


def inventory_resolvers(data: Data) -> Resolvers:
    """Entity resolvers of `inventory`.

    `shippingEstimate` is null, as the reference subgraphs answer, although the gateway sends
    the required `price` and `weight`.
    """

    def product(rep: Mapping[str, Any]) -> dict[str, Any] | None:
        upc = rep.get("upc")
        if upc not in data.in_stock:
            return None
        return {
            "__typename": "Product",
            "upc": upc,
            "inStock": data.in_stock[upc],
            "shippingEstimate": None,
        }

    return {}, {"Product": product}, {}


def products_resolvers(data: Data) -> Resolvers:
    """Root fields and entity resolvers of `products`."""
    root = {"topProducts": lambda _root, _info, first=5: data.top_products[:first]}
    entities = {"Product": lambda rep: data.products.get(rep.get("upc"))}
    return root, entities, {}


def reviews_resolvers(data: Data) -> Resolvers:
    """Entity resolvers of `reviews`: users' and products' reviews, reviews by id."""

    def user(rep: Mapping[str, Any]) -> dict[str, Any]:
        uid = rep.get("id")
        known = data.users.get(uid)
        return {
            "__typename": "User",
            "id": uid,
            "username": known["username"] if known else None,
            "reviews": data.user_reviews.get(uid, []),
        }

    def product(rep: Mapping[str, Any]) -> dict[str, Any]:
        upc = rep.get("upc")
        return {"__typename": "Product", "upc": upc, "reviews": data.product_reviews.get(upc, [])}

    entities = {
        "Review": lambda rep: data.reviews.get(rep.get("id")),
        "User": user,
        "Product": product,
    }
    fields = {
        # The reviews subgraph @provides the author's username.
        "Review.author": lambda review, _info: user({"id": review["authorId"]}),
        "Review.product": lambda review, _info: product({"upc": review["productUpc"]}),
    }
    return {}, entities, fields


RESOLVERS = {
    "accounts": accounts_resolvers,
    "inventory": inventory_resolvers,
    "products": products_resolvers,
    "reviews": reviews_resolvers,
}


class Subgraph:
    """One subgraph: its schema with resolvers attached, and its answer cache."""

    def __init__(self, name: str, data: Data) -> None:
        self.name = name
        self.sdl = (HERE / f"{name}.graphql").read_text()
        self.schema = build_subgraph_schema(self.sdl)
        self.requests = 0
        self._cache: dict[bytes, bytes] = {}
        root, entities, others = RESOLVERS[name](data)
        for coordinate, resolve in others.items():
            type_name, field_name = coordinate.split(".")
            self.schema.type_map[type_name].fields[field_name].resolve = resolve  # type: ignore[union-attr]
        fields = self.schema.query_type.fields  # type: ignore[union-attr]
        for field_name, resolve in root.items():
            fields[field_name].resolve = resolve
        fields["_service"].resolve = lambda _root, _info: {"sdl": self.sdl}

        def resolve_entities(_root: Any, _info: Any, representations: list[Any]) -> list[Any]:
            out = []
            for rep in representations:
                resolve = entities.get(rep.get("__typename")) if isinstance(rep, dict) else None
                out.append(resolve(rep) if resolve else None)
            return out

        fields["_entities"].resolve = resolve_entities

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """Status and JSON body for a GraphQL POST body; memoised by the body's bytes."""
        self.requests += 1
        cached = self._cache.get(body)
        if cached is not None:
            return 200, cached
        status, payload = self._run(body)
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        if status == 200:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[body] = encoded
        return status, encoded

    def _run(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            request = json.loads(body)
            query = request["query"]
            variables = request.get("variables") or {}
            operation_name = request.get("operationName")
            document = parse(query)
        except GraphQLError as error:
            return 200, {"errors": [error.formatted]}
        except (ValueError, KeyError, TypeError) as error:
            return 400, {"errors": [{"message": f"Malformed GraphQL request: {error}"}]}
        errors = validate(self.schema, document)
        if errors:
            return 200, {"errors": [e.formatted for e in errors]}
        result = execute(
            self.schema, document, variable_values=variables, operation_name=operation_name
        )
        assert not asyncio.iscoroutine(result)
        return 200, result.formatted  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# HTTP: a bare HTTP/1.1 keep-alive server; POST anything = GraphQL, GET /stats, GET /health.
# --------------------------------------------------------------------------------------------

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}


def _response(status: int, body: bytes, keep_alive: bool) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
        status,
        _REASONS.get(status, b"OK"),
        len(body),
    )
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


class HttpProtocol(asyncio.Protocol):
    """Parses requests with httptools and answers them in order on the same connection."""

    def __init__(self, subgraph: Subgraph, stats: Callable[[], bytes]) -> None:
        self.subgraph = subgraph
        self.stats = stats
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(_response(400, b'{"errors":[{"message":"bad HTTP"}]}', False))
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        keep_alive = self.parser.should_keep_alive()
        if method == b"POST":
            status, body = self.subgraph.answer(b"".join(self.body))
        elif self.url.startswith(b"/stats"):
            status, body = 200, self.stats()
        elif self.url.startswith(b"/health"):
            status, body = 200, b'{"ok":true}'
        else:
            status, body = 404, b'{"errors":[{"message":"POST a GraphQL request"}]}'
        assert self.transport is not None
        self.transport.write(_response(status, body, keep_alive))
        if not keep_alive:
            self.transport.close()


def supergraph_for(urls: Mapping[str, str]) -> str:
    """`bench/supergraph.graphql` with its subgraph URLs replaced by `urls`."""
    text = (HERE.parent / "supergraph.graphql").read_text()
    for i, name in enumerate(SUBGRAPHS):
        text = text.replace(f'"http://127.0.0.1:{4001 + i}/graphql"', f'"{urls[name]}"')
    return text


async def serve(
    host: str, ports: Mapping[str, int], supergraph_out: Path | None = None, scale: int = 1
) -> None:
    """Start the four subgraphs, print the ready line, and serve until SIGTERM/SIGINT."""
    data = Data(scale_data(reference_data(), scale))
    subgraphs = {name: Subgraph(name, data) for name in SUBGRAPHS}

    def stats() -> bytes:
        return json.dumps({name: sg.requests for name, sg in subgraphs.items()}).encode()

    loop = asyncio.get_running_loop()
    servers = []
    urls = {}
    for name in SUBGRAPHS:
        server = await loop.create_server(
            lambda sg=subgraphs[name]: HttpProtocol(sg, stats),
            host,
            ports[name],
            reuse_address=True,
            backlog=1024,
        )
        port = server.sockets[0].getsockname()[1]
        urls[name] = f"http://{host}:{port}/graphql"
        servers.append(server)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ready: dict[str, Any] = {"ready": urls}
    if supergraph_out is not None:
        supergraph_out.write_text(supergraph_for(urls))
        ready["supergraph"] = str(supergraph_out)
    print(json.dumps(ready), flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port-base",
        type=int,
        default=4001,
        help="accounts on BASE, inventory BASE+1, products BASE+2, reviews BASE+3; 0 = free ports",
    )
    parser.add_argument(
        "--supergraph-out",
        type=Path,
        help="write bench/supergraph.graphql pointing at the ports actually used to this file",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="serve N times the reference entities (dataset.py; default 1 = data.json)",
    )
    args = parser.parse_args(argv)
    if args.port_base == 0:
        ports = dict.fromkeys(SUBGRAPHS, 0)
    else:
        ports = {name: args.port_base + i for i, name in enumerate(SUBGRAPHS)}
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        asyncio.run(serve(args.host, ports, args.supergraph_out, args.scale))
    else:
        uvloop.run(serve(args.host, ports, args.supergraph_out, args.scale))


if __name__ == "__main__":
    sys.exit(main())
