"""The registry names the consumer applications a change affects, end to end over real HTTP.

A registry (SQLite, then PostgreSQL) serves a supergraph; a real gateway (``assemble``, with the
development token secret and the demo applications) follows it and reports usage; two demo
applications query it with their tokens and one caller has none. ``jamajama check``/``publish``
then name exactly the applications that used a removed or newly deprecated field, with their
counts, and ``jamajama registry log`` keeps them under the version.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.assembly import assemble
from gateway.auth.cli import mint_token
from gateway.cli import main
from gateway.config import Settings, dev_settings
from gateway.registry.config import RegistryPollSection
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.registry.test_reload import ROW, V1
from tests.servers import ServerThread

pytestmark = pytest.mark.slow

HARGA = "query Harga { products { upc price } }"
NAMA = "query Nama { products { name } }"
KODE = "query Kode { products { upc } }"
#: (application or None for no token, query, times)
TRAFFIC = [("sibansos", HARGA, 3), ("sehat-lampung", HARGA, 2), ("sehat-lampung", NAMA, 1)]


def products_subgraph() -> Starlette:
    """The products subgraph: every fetch gets the full row (the gateway keeps what it asked)."""

    async def graphql(request: Request) -> JSONResponse:
        return JSONResponse({"data": {"products": [dict(ROW)]}})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


@pytest.fixture
def registry_url(store: RegistryStore) -> Iterator[str]:
    app = create_app(Registry(store), {"products": "tok-products"}, "tok-admin")
    with ServerThread(app, loop="asyncio", http="h11") as server:
        yield server.url


def cli(registry: str, *args: str, token: str = "tok-products") -> int:
    return main([*args, "--registry", registry, "--token", token])


def test_check_publish_and_log_name_the_applications_that_used_a_field(
    registry_url: str, store: RegistryStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdl = {name: tmp_path / f"{name}.graphql" for name in ("v1", "no-price", "deprecated")}
    sdl["v1"].write_text(V1)
    sdl["no-price"].write_text(V1.replace(" price: Int", ""))
    sdl["deprecated"].write_text(
        V1.replace("name: String!", 'name: String! @deprecated(reason: "x")')
    )
    with ServerThread(products_subgraph(), loop="asyncio", http="h11") as subgraph:
        url = f"{subgraph.url}/graphql"
        target = ["products", "--url", url, "--sdl"]
        assert cli(registry_url, "publish", *target, str(sdl["v1"])) == 0
        poll = RegistryPollSection(
            url=registry_url,
            interval_seconds=0.05,
            cache_path=tmp_path / "cache.graphql",
            usage_token=SecretStr("tok-admin"),
            usage_interval_seconds=0.05,
        )
        settings = dev_settings(Settings(), tmp_path).model_copy(update={"registry_poll": poll})
        assembly = assemble(settings)
        assert assembly.guard is not None  # auth on: the applications are authenticated
        with ServerThread(assembly.app, loop="asyncio", http="h11") as gateway:
            with httpx.Client(base_url=gateway.url, timeout=10) as http:
                for application, query, times in [*TRAFFIC, (None, KODE, 1)]:
                    headers = {"Authorization": f"Bearer {mint_token(application)}"}
                    for _ in range(times):
                        answer = http.post(
                            "/graphql",
                            json={"query": query},
                            headers=headers if application else {},
                        )
                        assert answer.status_code == 200 and "errors" not in answer.json()
            deadline = time.monotonic() + 10
            requests = sum(times for _, _, times in TRAFFIC) + 1
            while time.monotonic() < deadline:  # every request's usage reaches the registry
                if sum(u.count for u in store.operations_using("Query.products", 0)) == requests:
                    break
                time.sleep(0.05)
    uses = store.operations_using("Product.upc", 0)
    assert {(u.application, u.operation, u.count) for u in uses} == {
        ("sibansos", "Harga", 3),
        ("sehat-lampung", "Harga", 2),
        ("anonymous", "Kode", 1),
    }
    assert cli(registry_url, "check", *target, str(sdl["no-price"])) == 1
    assert (
        "  - field Product.price was removed; used by Harga (5x); "
        "applications: sibansos (3x), sehat-lampung (2x)"
    ) in capsys.readouterr().err.splitlines()

    assert cli(registry_url, "check", *target, str(sdl["no-price"]), "--json") == 1
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert change["applications"] == [
        {"application": "sibansos", "count": 3},
        {"application": "sehat-lampung", "count": 2},
    ]

    assert cli(registry_url, "publish", *target, str(sdl["deprecated"])) == 0
    out = capsys.readouterr().out
    assert (
        "  ~ field Product.name was deprecated: x; used by applications: sehat-lampung (1x)"
    ) in out.splitlines()

    override = ["--override", "ticket 42: both applications moved to harga"]
    override_code = cli(
        registry_url, "publish", *target, str(sdl["no-price"]), *override, token="tok-admin"
    )
    assert override_code == 0
    capsys.readouterr()
    assert cli(registry_url, "registry", "log") == 0
    log = capsys.readouterr().out.splitlines()
    assert log[1:] == [
        log[1],
        "       deprecated: field Product.name was deprecated: x; applications: sehat-lampung (1x)",
        log[3],
        "       breaking: field Product.price was removed; "
        "applications: sibansos (3x), sehat-lampung (2x)",
    ]
    assert log[3].endswith("(override: ticket 42: both applications moved to harga)")
    assert "anonymous" not in "\n".join(log)  # the caller without a token read only upc
