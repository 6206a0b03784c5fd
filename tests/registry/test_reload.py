"""Hot reload end to end: an OPD publishes, the gateway follows the registry without restart.

The registry runs in-process (ASGI), the subgraph is a fake transport; the gateway is the real
engine. Under concurrent load the swap fails no request; a breaking change to a field the gateway
saw in use is refused naming the field and the operation; a registry outage or a bad supergraph
never replaces the last good one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.principal import Principal
from gateway.engine import Gateway, GraphQLRequest
from gateway.errors import GatewayError
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from gateway.registry.usage import StoreUsageSink, UsageRecorder, field_coordinates
from gateway.reload import FetchedSupergraph, RegistrySource, ReloadingGateway

pytestmark = pytest.mark.anyio

TOKENS = {"products": "tok-products"}
V1 = """extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { products: [Product!]! }
type Product @key(fields: "upc") { upc: String! name: String! price: Int }
"""
V2 = V1.replace("price: Int }", "price: Int stock: Int }")
ROW = {"upc": "1", "name": "Kopi Lampung", "price": 25000, "stock": 7}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeProducts:
    """The products subgraph: answers every fetch with the full row after a short delay."""

    def __init__(self, delay: float = 0.001) -> None:
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.calls = 0

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(self.delay)
        return {"data": {"products": [dict(ROW)]}}


class Env:
    def __init__(self, tmp: Path) -> None:
        self.store = RegistryStore.sqlite(tmp / "registry.sqlite3")
        self.registry = Registry(self.store, usage_window_days=30)
        self.app = create_app(self.registry, TOKENS, "tok-admin")
        self.subgraph = FakeProducts()
        self.cache = tmp / "supergraph.cache.graphql"

    async def publish(self, sdl: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            return await c.post(
                "/api/subgraphs/products/publish",
                json={"url": "http://products.test/graphql", "sdl": sdl},
                headers={"Authorization": "Bearer tok-products"},
            )

    def factory(self, sdl: str) -> Gateway:
        return Gateway.from_supergraph_sdl(sdl, transport=self.subgraph)

    def source(self) -> RegistrySource:
        return RegistrySource("http://registry.test", transport=httpx.ASGITransport(app=self.app))

    async def gateway(self, **options: Any) -> ReloadingGateway:
        return await ReloadingGateway.from_source(
            self.factory, self.source(), cache_path=self.cache, **options
        )


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


async def test_opd_publishes_a_field_and_the_gateway_serves_it_without_a_failed_request(
    env: Env,
) -> None:
    assert (await env.publish(V1)).status_code == 200
    gateway = await env.gateway()
    before = await gateway.execute("{ products { stock } }")
    assert before["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    results: list[dict[str, Any]] = []
    generations: list[int] = []
    stop = asyncio.Event()

    async def client() -> None:
        while not stop.is_set():
            generations.append(gateway.generation)
            results.append(await gateway.execute("{ products { upc name price } }"))

    async def until(condition: Callable[[], bool]) -> None:
        # progress, not time: under load 20 ms may hold any number of requests
        async with asyncio.timeout(30):
            while not condition():
                await asyncio.sleep(0.001)

    load = [asyncio.create_task(client()) for _ in range(16)]
    await until(lambda: generations.count(1) > 16)
    assert (await env.publish(V2)).status_code == 200
    swapped = await gateway.poll_once()
    await until(lambda: generations.count(2) > 16)
    stop.set()
    await asyncio.gather(*load)

    assert swapped and gateway.generation == 2
    # requests started on both generations, and overlapped the swap
    assert generations.count(1) > 16 and generations.count(2) > 16
    assert all("errors" not in r for r in results), [r for r in results if "errors" in r][:1]
    after = await gateway.execute("{ products { name stock } }")
    assert after == {"data": {"products": [{"name": "Kopi Lampung", "stock": 7}]}}
    assert not await gateway.poll_once()  # 304: nothing new
    assert "stock: Int" in env.cache.read_text()
    await gateway.aclose()


async def test_request_in_flight_finishes_on_the_old_supergraph(env: Env) -> None:
    await env.publish(V1)
    gateway = await env.gateway()
    old = gateway.current
    env.subgraph.gate = asyncio.Event()
    calls = env.subgraph.calls
    in_flight = asyncio.create_task(gateway.execute("{ products { price } }"))
    async with asyncio.timeout(30):  # the request has reached the subgraph (and waits there)
        while env.subgraph.calls == calls:
            await asyncio.sleep(0.001)
    await env.publish(V2)
    assert await gateway.poll_once()
    assert gateway.current is not old
    env.subgraph.gate.set()
    assert await in_flight == {"data": {"products": [{"price": 25000}]}}
    await gateway.aclose()


async def test_breaking_change_to_a_field_in_use_is_refused_naming_field_and_operation(
    env: Env,
) -> None:
    await env.publish(V2)
    recorder = UsageRecorder(StoreUsageSink(env.store))
    gateway = await env.gateway(usage=recorder)
    query = "query StokGudang { products { upc stock } }"
    assert "errors" not in await gateway.execute(query)  # the name comes from the document
    await recorder.flush()
    refused = await env.publish(V2.replace(" stock: Int", ""))
    body = refused.json()
    assert refused.status_code == 409
    assert "field Product.stock was removed" in body["message"]
    assert "StokGudang (1x)" in body["message"]
    # price was never used: removing it is accepted, with a warning
    accepted = (await env.publish(V2.replace(" price: Int", ""))).json()
    assert accepted["accepted"] and accepted["warnings"] == ["field Product.price was removed"]
    await gateway.aclose()


async def test_usage_is_reported_per_consumer_application(env: Env) -> None:
    await env.publish(V2)
    recorder = UsageRecorder(StoreUsageSink(env.store))
    gateway = await env.gateway(usage=recorder)
    query = "query Stok { products { stock } }"
    sibansos = Principal(authenticated=True, application="sibansos")
    downgraded = Principal(application="dicabut", downgraded="the application was revoked")
    for caller in (sibansos, sibansos, None, downgraded):
        result = await gateway.process(GraphQLRequest(query, principal=caller))
        assert "errors" not in result.response
    await recorder.flush()
    uses = env.store.operations_using("Product.stock", 0.0)
    assert [(u.application, u.operation, u.count) for u in uses] == [
        ("anonymous", "Stok", 2),  # no token, and a revoked application's token
        ("sibansos", "Stok", 2),
    ]
    await gateway.aclose()


async def test_registry_down_keeps_serving_and_a_restart_uses_the_cached_copy(env: Env) -> None:
    await env.publish(V1)
    gateway = await env.gateway()

    class Down:
        async def fetch(self, etag: str | None) -> FetchedSupergraph | None:
            raise httpx.ConnectError("registry down")

    gateway._source = Down()
    assert not await gateway.poll_once()
    assert "registry unreachable" in (gateway.last_error or "")
    assert "errors" not in await gateway.execute("{ products { name } }")
    await gateway.aclose()
    restarted = await ReloadingGateway.from_source(env.factory, Down(), cache_path=env.cache)
    assert "errors" not in await restarted.execute("{ products { name } }")
    await restarted.aclose()


async def test_no_registry_and_no_cache_refuses_to_start(env: Env, tmp_path: Path) -> None:
    class Down:
        async def fetch(self, etag: str | None) -> FetchedSupergraph | None:
            raise httpx.ConnectError("registry down")

    with pytest.raises(GatewayError, match="no cached copy"):
        await ReloadingGateway.from_source(env.factory, Down(), cache_path=tmp_path / "none")


async def test_a_supergraph_that_fails_to_load_is_never_swapped_in(env: Env) -> None:
    await env.publish(V1)
    gateway = await env.gateway()
    current = gateway.current
    assert not await gateway.load("this is not a supergraph", etag='"bad"')
    assert gateway.current is current and gateway.last_error
    assert "errors" not in await gateway.execute("{ products { name } }")
    await gateway.aclose()


def test_field_coordinates_cover_nested_fields_and_skip_introspection() -> None:
    from gateway.composition.compose import SubgraphSource, compose_or_raise
    from gateway.supergraph import load_supergraph

    schema = load_supergraph(compose_or_raise([SubgraphSource("products", V2)])).api_schema
    assert field_coordinates(schema, "{ __typename products { upc stock } }") == {
        "Query.products",
        "Product.upc",
        "Product.stock",
    }


def test_secured_factory_gives_every_generation_access_control(tmp_path: Path) -> None:
    from dataclasses import replace

    from gateway.assembly import Services
    from gateway.composition.compose import SubgraphSource, compose_or_raise
    from gateway.config import dev_settings, load_settings
    from tests.composition.conftest import OPD_SUBGRAPHS, REPO, sources_in

    settings = dev_settings(load_settings(None), tmp_path)
    services = replace(Services.from_settings(settings), transport=FakeProducts())
    factory = services.factory()
    opd = factory(compose_or_raise(sources_in(REPO / "schema", OPD_SUBGRAPHS)))
    assert opd.access is not None
    plain = factory(compose_or_raise([SubgraphSource("products", V1)]))
    assert plain.access is None
