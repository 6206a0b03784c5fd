"""The data-driven subgraph server: every corpus subgraph serves its SDL and resolves entities, and
the data format's rules (requires templates, errors, mutations, faults) behave as documented."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.federation.corpus import Case, discover_cases
from tests.federation.subgraph_server import (
    MISSING,
    DataDrivenSubgraph,
    SubgraphData,
    SubgraphHost,
    build_subgraph_schema,
    project,
)

SUBGRAPHS = [
    pytest.param(case, name, id=f"{case.id}/{name}")
    for case in discover_cases()
    for name in case.subgraph_names
]


async def ask(app: DataDrivenSubgraph, query: str, variables: Any = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        return await client.post("/graphql", json={"query": query, "variables": variables})


def sample_representation(app: DataDrivenSubgraph) -> dict[str, Any] | None:
    """A representation of the first stored entity by its first resolvable key, if any."""
    for typename, entities in app.data.pristine.get("entities", {}).items():
        for key in app.data.subgraph.keys.get(typename, []):
            if not key.resolvable or not entities:
                continue
            fields = project(entities[0], key.selection)
            if fields is not MISSING:
                return {"__typename": typename, **fields}
    return None


@pytest.mark.anyio
@pytest.mark.parametrize(("case", "name"), SUBGRAPHS)
async def test_corpus_subgraph_serves_sdl_and_entities(anyio_backend: str, case: Case, name: str):
    app = case.load_subgraphs()[name]
    app.data.state.pop("fault", None)  # faults are for the gateway; here the data is checked
    response = await ask(app, "{ _service { sdl } }")
    sdl = (case.subgraphs_dir / f"{name}.graphql").read_text()
    assert response.json() == {"data": {"_service": {"sdl": sdl}}}

    representation = sample_representation(app)
    if representation is None:
        return
    unknown = {"__typename": representation["__typename"], "no-such-key": True}
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    response = await ask(app, query, {"r": [representation, unknown]})
    assert response.json() == {
        "data": {"_entities": [{"__typename": representation["__typename"]}, None]}
    }
    assert [r.variables for r in app.requests][-1] == {"r": [representation, unknown]}


SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
                    import: ["@key", "@external", "@requires"])
type Query { products: [Product] log: [String] }
type Mutation { addLog(message: String!): [String] bump(by: Int = 1): Int
                rename(upc: String!, name: String!): Product }
type Product @key(fields: "upc") @key(fields: "sku { id }") {
  upc: String!
  sku: Sku
  name: String
  weight: Int @external
  price(currency: String = "EUR"): Int
  shipping: String @requires(fields: "weight")
  total: Int @requires(fields: "weight")
}
type Sku { id: ID! }
"""

DATA = {
    "Query": {"products": [{"$ref": "Product", "upc": "p1"}], "counter": 0},
    "Mutation": {
        "addLog": {"$append": "log", "value": "{args.message}"},
        "bump": {"$increment": "counter", "by": "{args.by}"},
        "rename": {
            "$update": "Product",
            "match": {"upc": "{args.upc}"},
            "set": {"name": "{args.name}"},
        },
    },
    "entities": {
        "Product": [
            {
                "upc": "p1",
                "sku": {"id": "s1"},
                "name": "Chair",
                'price(currency: "EUR")': 10,
                'price(currency: "USD")': 11,
                "broken": {"$error": "boom"},
            },
        ]
    },
    "computed": {
        "Product": {"shipping": {"$template": "{weight} kg"}, "total": {"$sum": ["{weight}", 1]}}
    },
}


def make_subgraph(**overrides: Any) -> DataDrivenSubgraph:
    data = {**DATA, **overrides}
    return DataDrivenSubgraph("products", SubgraphData(build_subgraph_schema(SDL), data))


@pytest.mark.anyio
async def test_entities_resolve_by_any_key_and_compute_requires(anyio_backend: str):
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) "
        '{ ... on Product { upc shipping total eur: price usd: price(currency: "USD") } } }'
    )
    reps = [{"__typename": "Product", "sku": {"id": "s1"}, "weight": 3}]
    response = await ask(make_subgraph(), query, {"r": reps})
    assert response.json() == {
        "data": {"_entities": [{"upc": "p1", "shipping": "3 kg", "total": 4, "eur": 10, "usd": 11}]}
    }


@pytest.mark.anyio
async def test_missing_required_value_is_an_error_on_the_field(anyio_backend: str):
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { shipping } } }"
    response = await ask(make_subgraph(), query, {"r": [{"__typename": "Product", "upc": "p1"}]})
    body = response.json()
    assert body["data"] == {"_entities": [{"shipping": None}]}
    assert body["errors"][0]["path"] == ["_entities", 0, "shipping"]


@pytest.mark.anyio
async def test_mutations_run_in_order_and_reset_restores_data(anyio_backend: str):
    app = make_subgraph()
    query = (
        'mutation { a: addLog(message: "x") b: bump(by: 2) c: addLog(message: "y") d: bump '
        'e: rename(upc: "p1", name: "Stool") { name } }'
    )
    response = await ask(app, query)
    assert response.json() == {
        "data": {"a": ["x"], "b": 2, "c": ["x", "y"], "d": 3, "e": {"name": "Stool"}}
    }
    app.reset()
    assert app.requests == []
    response = await ask(app, "{ log products { name } }")
    assert response.json() == {"data": {"log": None, "products": [{"name": "Chair"}]}}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fault", "status", "body"),
    [
        ({"kind": "http500"}, 500, "Internal Server Error"),
        ({"kind": "malformed"}, 200, "this is not JSON"),
        (
            {"kind": "graphql_errors", "message": "down"},
            200,
            json.dumps({"data": None, "errors": [{"message": "down"}]}, separators=(",", ":")),
        ),
    ],
)
async def test_faults_replace_the_answer(anyio_backend: str, fault, status, body):
    response = await ask(make_subgraph(fault=fault), "{ products { upc } }")
    assert (response.status_code, response.text) == (status, body)


@pytest.mark.anyio
async def test_fault_applies_only_when_query_matches(anyio_backend: str):
    app = make_subgraph(fault={"kind": "http500", "when": "_entities"})
    response = await ask(app, "{ products { upc } }")
    assert response.json() == {"data": {"products": [{"upc": "p1"}]}}


def test_host_serves_over_loopback_and_refuses_unreachable():
    with SubgraphHost() as host:
        url = host.mount("t/c/products", make_subgraph())
        dead = host.mount("t/c/down", make_subgraph(fault="unreachable"))
        response = httpx.post(url, json={"query": "{ products { name } }"})
        assert response.json() == {"data": {"products": [{"name": "Chair"}]}}
        with pytest.raises(httpx.ConnectError):
            httpx.post(dead, json={"query": "{ __typename }"})


@pytest.mark.anyio
async def test_requests_are_recorded_with_headers_and_bad_bodies_refused(anyio_backend: str):
    app = make_subgraph()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        ok = await client.post(
            "/", json={"query": "{ products { upc } }"}, headers={"x-trace": "t1"}
        )
        batch = await client.post("/", json=[{"query": "{ __typename }"}])
    assert ok.json() == {"data": {"products": [{"upc": "p1"}]}}
    assert batch.status_code == 400
    assert [(r.query, r.headers["x-trace"]) for r in app.requests] == [
        ("{ products { upc } }", "t1")
    ]


def test_federation1_extensions_become_definitions():
    sdl = """
    type Product @key(fields: "upc") @extends { upc: String! @external reviews: [String] }
    extend type Query { top: [Product] }
    extend type User @key(fields: "id") { id: ID! @external }
    """
    subgraph = build_subgraph_schema(sdl)
    assert set(subgraph.keys) == {"Product", "User"}
    assert subgraph.schema.query_type is not None
    assert {"top", "_service", "_entities"} <= set(subgraph.schema.query_type.fields)
