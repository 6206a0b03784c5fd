"""Connector subgraphs in the registry: published without a routing URL (they have no GraphQL
endpoint: the gateway calls the OPD's REST API), and checked, every connector problem reported
with its stable code and where it is, over HTTP and from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.composition.compose import SubgraphSource, compose
from gateway.composition.connect import CONNECTOR_ROUTING_URL, routing_url
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.registry.conftest import PRODUCTS
from tests.registry.test_service import TestClient
from tests.servers import ServerThread

REPO = Path(__file__).resolve().parents[2]
BPBD = (REPO / "schema" / "rest" / "bpbd.graphql").read_text()
#: BPBD's SDL with two mistakes: a URL naming an argument the field does not have, and a
#: selection naming a field the type does not have
BROKEN = BPBD.replace("/kejadian/{$args.id}", "/kejadian/{$args.nomor}").replace(
    "korbanJiwa: korban_jiwa\n                   rumahRusak", "korban: korban_jiwa\n  rumahRusak", 1
)
TOKENS = {"bpbd": "tok-bpbd", "products": "tok-products"}


@pytest.fixture
def client(sqlite_store: RegistryStore) -> Iterator[TestClient]:
    yield TestClient(create_app(Registry(sqlite_store), TOKENS, "tok-admin"))


def _line_of(text: str, sdl: str) -> int:
    return next(n for n, line in enumerate(sdl.splitlines(), 1) if text in line)


def test_the_broken_fixture_differs_where_intended() -> None:
    assert BROKEN.count("$args.nomor") == 1
    assert "korban: korban_jiwa" in BROKEN


def test_check_reports_every_connector_problem_with_code_and_location(client: TestClient) -> None:
    response = client.post(
        "/api/subgraphs/bpbd/check",
        json={"sdl": BROKEN},
        headers={"Authorization": "Bearer tok-bpbd"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] is False
    found = {(e["code"], e["type"], e["field"], e["line"]) for e in body["composition_errors"]}
    connect_line = _line_of('@connect(source: "bencana", http: {GET: "/kejadian/{$args', BROKEN)
    assert found == {
        ("CONNECTOR_ARGUMENT_UNKNOWN", "Query", "kejadianBencana", connect_line),
        ("CONNECTOR_SELECTION_INVALID", "Query", "kejadianBencana", connect_line),
    }
    assert f"[bpbd] Query.kejadianBencana[0] (line {connect_line}): $args.nomor" in body["message"]


def test_publish_without_a_url_is_refused_for_a_graphql_subgraph(client: TestClient) -> None:
    response = client.post(
        "/api/subgraphs/products/publish",
        json={"sdl": PRODUCTS},
        headers={"Authorization": "Bearer tok-products"},
    )
    assert response.status_code == 400
    assert "only a connector subgraph" in response.json()["error"]["message"]


def test_a_connector_subgraph_without_a_url_composes_with_the_placeholder() -> None:
    """What Apollo's connector docs give as the routing URL; nothing ever calls it."""
    assert routing_url("", BPBD) == CONNECTOR_ROUTING_URL == "http://ignored"
    assert routing_url("", PRODUCTS) == ""
    assert routing_url("http://bpbd.test", BPBD) == "http://bpbd.test"
    result = compose([SubgraphSource("bpbd", BPBD, routing_url("", BPBD))])
    assert result.supergraph_sdl is not None
    assert 'BPBD @join__graph(name: "bpbd", url: "http://ignored")' in result.supergraph_sdl


def test_a_connector_subgraph_is_published_without_a_url(client: TestClient) -> None:
    response = client.post(
        "/api/subgraphs/bpbd/publish",
        json={"sdl": BPBD},
        headers={"Authorization": "Bearer tok-bpbd"},
    )
    assert response.status_code == 200, response.json()
    supergraph = client.get("/api/supergraph").text
    assert 'url: "http://ignored"' in supergraph
    assert 'name: "connect"' in supergraph


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    store = RegistryStore.sqlite(tmp_path / "registry.sqlite3")
    app = create_app(Registry(store), TOKENS, "tok-admin")
    with ServerThread(app, loop="asyncio", http="h11") as server:
        yield server.url
    store.close()


def test_jamajama_check_lists_connector_problems_without_a_url(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdl = tmp_path / "bpbd.graphql"
    sdl.write_text(BROKEN)
    args = ["check", "bpbd", "--sdl", str(sdl), "--registry", registry_url, "--token", "tok-bpbd"]
    assert main(args) == 1
    err = capsys.readouterr().err
    line = _line_of("/kejadian/{$args.nomor}", BROKEN)
    assert "bpbd: the supergraph would not compose:" in err
    assert f"[bpbd] Query.kejadianBencana[0] (line {line}): $args.nomor" in err
    assert "(CONNECTOR_ARGUMENT_UNKNOWN)" in err
    assert "(CONNECTOR_SELECTION_INVALID)" in err


def test_jamajama_publish_without_url_of_a_graphql_subgraph_is_a_usage_error(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdl = tmp_path / "products.graphql"
    sdl.write_text(PRODUCTS)
    args = ["publish", "products", "--sdl", str(sdl), "--registry", registry_url]
    assert main([*args, "--token", "tok-products"]) == 2
    assert "only a connector subgraph" in capsys.readouterr().err
