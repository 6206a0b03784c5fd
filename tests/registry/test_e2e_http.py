"""The OPD workflow over real HTTP: registry and gateway servers, the publish/check CLI.

An OPD publishes with ``jamajama publish``; a gateway started with the registry serves the new
field without restart while clients keep querying (no failed request); a breaking change to a
field the gateway saw in use is refused by ``jamajama check``/``publish`` naming the field and
the operation.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import gateway.config  # noqa: F401  (loads the configuration sections first)
from gateway.cli import main
from gateway.engine import Gateway
from gateway.http.app import create_app as create_gateway_app
from gateway.registry.config import RegistryPollSection
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from gateway.registry.usage import HttpUsageSink, UsageRecorder
from gateway.reload import reloading_gateway_from_registry
from tests.registry.test_reload import ROW, V1, V2
from tests.servers import ServerThread

pytestmark = pytest.mark.slow


class Products:
    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        await asyncio.sleep(0.001)
        return {"data": {"products": [dict(ROW)]}}


@pytest.fixture
def registry_server(tmp_path: Path) -> Iterator[ServerThread]:
    store = RegistryStore.sqlite(tmp_path / "registry.sqlite3")
    app = create_app(Registry(store), {"products": "tok-products"}, "tok-admin")
    with ServerThread(app, loop="asyncio", http="h11") as server:
        yield server
    store.close()


def cli(*args: str) -> int:
    return main(list(args))


def test_opd_workflow_over_http(
    registry_server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1, v2 = tmp_path / "v1.graphql", tmp_path / "v2.graphql"
    v1.write_text(V1)
    v2.write_text(V2)
    common = ["--registry", registry_server.url, "--token", "tok-products"]
    url = "http://products.test/graphql"
    assert cli("publish", "products", "--url", url, "--sdl", str(v1), *common) == 0

    poll = RegistryPollSection(
        url=registry_server.url,
        interval_seconds=0.05,
        cache_path=tmp_path / "cache.graphql",
        usage_interval_seconds=0.05,
    )
    usage = UsageRecorder(HttpUsageSink(registry_server.url, "tok-admin"))

    def factory(sdl: str) -> Gateway:
        return Gateway.from_supergraph_sdl(sdl, transport=Products())

    reloading = reloading_gateway_from_registry(factory, poll, usage=usage)
    with ServerThread(create_gateway_app(reloading), loop="asyncio", http="h11") as gateway_server:
        endpoint = f"{gateway_server.url}/graphql"
        failures: list[Any] = []
        stop = threading.Event()

        def client() -> None:
            with httpx.Client(timeout=10) as http:
                while not stop.is_set():
                    response = http.post(
                        endpoint, json={"query": "query Harga { products { name price } }"}
                    )
                    if response.status_code != 200 or "errors" in response.json():
                        failures.append(response.text)

        workers = [threading.Thread(target=client) for _ in range(4)]
        for w in workers:
            w.start()
        time.sleep(0.2)
        assert cli("publish", "products", "--url", url, "--sdl", str(v2), *common) == 0
        deadline = time.monotonic() + 10
        served = None
        while time.monotonic() < deadline:
            served = httpx.post(endpoint, json={"query": "{ products { stock } }"}).json()
            if "data" in served:
                break
            time.sleep(0.05)
        time.sleep(0.2)
        stop.set()
        for w in workers:
            w.join()
        assert served == {"data": {"products": [{"stock": 7}]}}, (
            reloading.last_error,
            reloading._tasks,
        )
        assert failures == []
        assert reloading.generation == 2

        without_price = tmp_path / "v3.graphql"
        without_price.write_text(V2.replace(" price: Int", ""))
        deadline = time.monotonic() + 10
        while True:  # usage reaches the registry within a flush interval
            capsys.readouterr()
            code = cli("check", "products", "--url", url, "--sdl", str(without_price), *common)
            if code == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert code == 1
        err = capsys.readouterr().err
        assert "field Product.price was removed; used by Harga" in err
        assert cli("publish", "products", "--url", url, "--sdl", str(without_price), *common) == 1
        bad_key = tmp_path / "v4.graphql"
        bad_key.write_text(V2.replace('@key(fields: "upc")', '@key(fields: "upcc")'))
        capsys.readouterr()
        assert cli("publish", "products", "--url", url, "--sdl", str(bad_key), *common) == 1
        assert (
            '[products] Product: @key(fields: "upcc") names a field that Product does not have. '
            'Did you mean "upc"? (KEY_INVALID_FIELDS)'
        ) in capsys.readouterr().err
    assert "stock: Int" in (tmp_path / "cache.graphql").read_text()
