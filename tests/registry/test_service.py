"""The registry's HTTP API: tokens per OPD, publish/check, versions, ETag, rollback, catalogue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.registry.conftest import PRODUCTS, REVIEWS

TOKENS = {"products": "tok-products", "reviews": "tok-reviews"}
ADMIN = "tok-admin"


@pytest.fixture
def registry(store: RegistryStore) -> Registry:
    return Registry(store, usage_window_days=30)


class TestClient:
    """A synchronous client over the ASGI app (no network)."""

    __test__ = False

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._call("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._call("POST", url, **kwargs)


@pytest.fixture
def client(registry: Registry) -> Iterator[TestClient]:
    yield TestClient(create_app(registry, TOKENS, ADMIN))


def as_(team: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS.get(team, ADMIN)}"}


def publish(
    client: TestClient, name: str, sdl: str, team: str | None = None, url: str = ""
) -> dict:  # type: ignore[type-arg]
    response = client.post(
        f"/api/subgraphs/{name}/publish",
        json={"url": url or f"http://{name}.test/graphql", "sdl": sdl},
        headers=as_(team or name),
    )
    body = response.json()
    body["status"] = response.status_code
    return body  # type: ignore[no-any-return]


def test_publish_needs_a_token_and_only_for_its_own_subgraph(client: TestClient) -> None:
    response = client.post("/api/subgraphs/products/publish", json={"url": "u", "sdl": PRODUCTS})
    assert response.status_code == 401
    body = publish(client, "products", PRODUCTS, team="reviews")
    assert body["status"] == 403
    assert "only its own subgraph" in body["error"]["message"]
    assert publish(client, "products", PRODUCTS)["status"] == 200


def test_publish_creates_versions_and_supergraph_with_etag(client: TestClient) -> None:
    first = publish(client, "products", PRODUCTS)
    assert first["accepted"] and first["version"]["version"] == 1
    second = publish(client, "reviews", REVIEWS)
    assert second["version"]["version"] == 2
    response = client.get("/api/supergraph")
    assert response.status_code == 200 and "reviews: [Review!]!" in response.text
    etag = response.headers["etag"]
    assert response.headers["x-supergraph-version"] == "2"
    assert client.get("/api/supergraph", headers={"If-None-Match": etag}).status_code == 304
    assert "reviews" not in client.get("/api/supergraph/versions/1").text
    listed = client.get("/api/subgraphs").json()["subgraphs"]
    assert {s["name"]: s["published_by"] for s in listed} == {
        "products": "opd:products",
        "reviews": "opd:reviews",
    }
    versions = client.get("/api/supergraph/versions").json()["versions"]
    assert [(v["version"], v["subgraph"]) for v in versions] == [(1, "products"), (2, "reviews")]
    assert publish(client, "reviews", REVIEWS)["unchanged"] is True


def test_composition_errors_are_refused_with_a_reviewers_comment(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    bad = REVIEWS.replace('@key(fields: "upc")', '@key(fields: "upcc")')
    body = publish(client, "reviews", bad)
    assert body["status"] == 422 and not body["accepted"]
    assert body["composition_errors"][0]["code"] == "KEY_INVALID_FIELDS"
    assert (
        '[reviews] Product: @key(fields: "upcc") names a field that Product does not have. '
        in (body["message"])
    )
    assert client.get("/api/supergraph").headers["x-supergraph-version"] == "1"


def test_breaking_change_to_used_field_is_refused_naming_field_and_operations(
    client: TestClient, registry: Registry
) -> None:
    publish(client, "products", PRODUCTS)
    registry.store.record_usage("DaftarHarga", "abc123", ["Query.products", "Product.price"])
    without_price = PRODUCTS.replace("  price: Int\n", "")
    check = client.post(
        "/api/subgraphs/products/check",
        json={"url": "http://products.test/graphql", "sdl": without_price},
        headers=as_("products"),
    ).json()
    assert not check["accepted"]
    body = publish(client, "products", without_price)
    assert body["status"] == 409 and not body["accepted"]
    assert "field Product.price was removed" in body["message"]
    assert "DaftarHarga (1x)" in body["message"]
    assert body["changes"][0]["used_by"][0]["operation"] == "DaftarHarga"
    assert len(client.get("/api/supergraph/versions").json()["versions"]) == 1


def test_breaking_change_to_unused_field_is_accepted_with_a_warning(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    body = publish(client, "products", PRODUCTS.replace("  price: Int\n", ""))
    assert body["accepted"] and body["warnings"] == ["field Product.price was removed"]


def test_usage_outside_the_window_does_not_refuse(client: TestClient, registry: Registry) -> None:
    publish(client, "products", PRODUCTS)
    registry.store.record_usage("Lama", "old", ["Product.price"], at=1_000.0)
    assert publish(client, "products", PRODUCTS.replace("  price: Int\n", ""))["accepted"]


def test_rollback_needs_admin_and_makes_an_old_version_current(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    publish(client, "reviews", REVIEWS)
    denied = client.post("/api/supergraph/rollback", json={"version": 1}, headers=as_("products"))
    assert denied.status_code == 403
    done = client.post("/api/supergraph/rollback", json={"version": 1}, headers=as_("admin"))
    assert done.status_code == 200 and done.json()["version"]["version"] == 3
    current = client.get("/api/supergraph")
    assert current.headers["x-supergraph-version"] == "3" and "reviews" not in current.text
    assert [s["name"] for s in client.get("/api/subgraphs").json()["subgraphs"]] == ["products"]


def test_usage_endpoint_records_operations(client: TestClient, registry: Registry) -> None:
    response = client.post(
        "/api/usage",
        json={"operations": [{"operation": "Q", "hash": "h", "coordinates": ["Query.products"]}]},
        headers=as_("admin"),
    )
    assert response.status_code == 200
    assert registry.store.operations_using("Query.products", 0)[0].operation == "Q"


def _used(registry: Registry) -> None:
    """Harga (price) by two applications, Nama (name) by one."""
    record = registry.store.record_usage
    record("Harga", "h-harga", ["Query.products", "Product.price"], 3, application="sibansos")
    record("Harga", "h-harga", ["Query.products", "Product.price"], 2, application="sehat-lampung")
    record("Nama", "h-nama", ["Query.products", "Product.name"], 1, application="sehat-lampung")


def test_check_names_the_applications_a_breaking_change_affects(
    client: TestClient, registry: Registry
) -> None:
    publish(client, "products", PRODUCTS)
    _used(registry)
    body = publish(client, "products", PRODUCTS.replace("  price: Int\n", ""))
    assert body["status"] == 409
    [change] = body["changes"]
    assert change["applications"] == [
        {"application": "sibansos", "count": 3},
        {"application": "sehat-lampung", "count": 2},
    ]
    assert {(u["application"], u["operation"]) for u in change["used_by"]} == {
        ("sibansos", "Harga"),
        ("sehat-lampung", "Harga"),
    }
    assert (
        "field Product.price was removed; used by Harga (5x); "
        "applications: sibansos (3x), sehat-lampung (2x)"
    ) in body["message"]


def test_a_new_deprecation_names_its_applications_and_the_log_keeps_them(
    client: TestClient, registry: Registry
) -> None:
    publish(client, "products", PRODUCTS)
    _used(registry)
    deprecated = PRODUCTS.replace(
        "  name: String!\n", '  name: String! @deprecated(reason: "use title")\n  title: String\n'
    )
    check = client.post(
        "/api/subgraphs/products/check",
        json={"url": "http://products.test/graphql", "sdl": deprecated},
        headers=as_("products"),
    ).json()
    assert check["accepted"] and check["changes"] == []
    [notice] = check["deprecations"]
    assert (notice["coordinate"], notice["refused"]) == ("Product.name", False)
    assert notice["applications"] == [{"application": "sehat-lampung", "count": 1}]
    line = (
        "~ field Product.name was deprecated: use title; used by applications: sehat-lampung (1x)"
    )
    assert line in check["message"]
    assert publish(client, "products", deprecated)["accepted"]
    # an unused field removed (a warning) and the log keeping both kinds
    removed = deprecated.replace("  title: String\n", "")
    assert publish(client, "products", removed)["accepted"]
    first, second, third = client.get("/api/supergraph/versions").json()["versions"]
    assert first["affected"] == []
    assert second["affected"] == [
        {
            "kind": "deprecated",
            "coordinate": "Product.name",
            "message": "field Product.name was deprecated: use title",
            "applications": [{"application": "sehat-lampung", "count": 1}],
        }
    ]
    assert third["affected"] == [
        {
            "kind": "breaking",
            "coordinate": "Product.title",
            "message": "field Product.title was removed",
            "applications": [],
        }
    ]


def test_usage_reports_carry_the_application(client: TestClient, registry: Registry) -> None:
    op = {"operation": "Q", "hash": "h", "coordinates": ["Query.products"], "count": 2}
    reports = [{**op, "application": "sibansos"}, op]  # the second from an older gateway
    response = client.post("/api/usage", json={"operations": reports}, headers=as_("admin"))
    assert response.status_code == 200
    uses = registry.store.operations_using("Query.products", 0)
    assert [(u.application, u.count) for u in uses] == [("(unknown)", 2), ("sibansos", 2)]
    too_long = [{**op, "application": "x" * 201}]
    refused = client.post("/api/usage", json={"operations": too_long}, headers=as_("admin"))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BAD_REQUEST"


def test_catalogue_lists_opds_fields_personal_data_and_guards(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    publish(client, "reviews", REVIEWS)
    catalogue = client.get("/api/catalogue").json()
    opds = {o["name"]: o for o in catalogue["opds"]}
    assert set(opds) == {"products", "reviews"}
    product = next(t for t in opds["reviews"]["types"] if t["name"] == "Product")
    reviews = next(f for f in product["fields"] if f["name"] == "reviews")
    assert reviews["personal_data"] is True
    assert reviews["scopes"] == [["reviews:read"]] and reviews["policies"] == [["data_pribadi"]]
    assert reviews["description"] == "Reviews, newest first."
    upc = next(
        f
        for t in opds["products"]["types"]
        if t["name"] == "Product"
        for f in t["fields"]
        if f["name"] == "upc"
    )
    assert upc["personal_data"] is False and upc["description"] == "Universal product code."
    page = client.get("/catalogue")
    assert page.status_code == 200 and "reviews:read" in page.text and "data pribadi" in page.text


def test_concurrent_publishes_of_different_subgraphs_both_land(registry: Registry) -> None:
    import threading

    results = {}

    def go(name: str, sdl: str) -> None:
        results[name] = registry.publish(name, f"http://{name}.test/graphql", sdl, f"opd:{name}")

    threads = [
        threading.Thread(target=go, args=("products", PRODUCTS)),
        threading.Thread(
            target=go, args=("reviews", REVIEWS + "type Query { topReviews: [Review!]! }\n")
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.accepted for r in results.values())
    current = registry.store.current()
    assert current is not None and set(current.subgraph_versions) == {"products", "reviews"}
    assert "reviews: [Review!]!" in current.sdl and "name: String!" in current.sdl


def test_tokens_may_be_configured_by_their_sha256(registry: Registry) -> None:
    import hashlib

    hashed = {"products": "sha256:" + hashlib.sha256(b"rahasia").hexdigest()}
    client = TestClient(create_app(registry, hashed, None))
    ok = client.post(
        "/api/subgraphs/products/check",
        json={"url": "http://p", "sdl": PRODUCTS},
        headers={"Authorization": "Bearer rahasia"},
    )
    assert ok.status_code == 200
    wrong = client.post(
        "/api/subgraphs/products/check",
        json={"url": "http://p", "sdl": PRODUCTS},
        headers={"Authorization": "Bearer " + hashed["products"]},
    )
    assert wrong.status_code == 401


def _refused_removal(client: TestClient, registry: Registry) -> str:
    """Publish products, record a use of Product.price; return an SDL removing it."""
    publish(client, "products", PRODUCTS)
    registry.store.record_usage("DaftarHarga", "abc123", ["Query.products", "Product.price"])
    return PRODUCTS.replace("  price: Int\n", "")


def test_version_log_records_dates_and_authors(client: TestClient) -> None:
    response = client.post(
        "/api/subgraphs/products/publish",
        json={"url": "http://products.test/graphql", "sdl": PRODUCTS, "author": "budi@dinkes"},
        headers=as_("products"),
    )
    assert response.status_code == 200
    assert response.json()["version"]["author"] == "opd:products/budi@dinkes"
    publish(client, "reviews", REVIEWS)
    versions = client.get("/api/supergraph/versions").json()["versions"]
    assert [(v["author"], v["override_reason"]) for v in versions] == [
        ("opd:products/budi@dinkes", None),
        ("opd:reviews", None),
    ]
    assert all(v["date"].endswith("Z") and v["date"][:2] == "20" for v in versions)
    history = client.get("/api/subgraphs/products/versions").json()["versions"]
    assert history[0]["author"] == "opd:products/budi@dinkes"
    listed = client.get("/api/subgraphs").json()["subgraphs"]
    assert {s["name"]: s["author"] for s in listed}["reviews"] == "opd:reviews"


@pytest.mark.parametrize(
    "extra",
    [{"author": "a/b"}, {"author": ""}, {"author": "x" * 101}, {"author": 3}, {"author": "a\nb"}],
)
def test_an_unusable_author_is_a_bad_request(client: TestClient, extra: dict[str, Any]) -> None:
    response = client.post(
        "/api/subgraphs/products/publish",
        json={"url": "http://products.test/graphql", "sdl": PRODUCTS, **extra},
        headers=as_("products"),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert client.get("/api/supergraph").status_code == 404


def test_admin_overrides_a_refused_breaking_change_with_a_recorded_reason(
    client: TestClient, registry: Registry
) -> None:
    without_price = _refused_removal(client, registry)
    reason = "approved in the SPLP forum of 1 Dec; DaftarHarga moves to v2"
    body = {"url": "http://products.test/graphql", "sdl": without_price, "override_reason": reason}
    response = client.post("/api/subgraphs/products/publish", json=body, headers=as_("admin"))
    result = response.json()
    assert response.status_code == 200 and result["accepted"] and result["overridden"]
    assert result["override_reason"] == reason
    assert "admin override" in result["message"] and "DaftarHarga (1x)" in result["message"]
    versions = client.get("/api/supergraph/versions").json()["versions"]
    assert [(v["version"], v["author"], v["override_reason"]) for v in versions] == [
        (1, "opd:products", None),
        (2, "admin", reason),
    ]
    assert "price" not in client.get("/api/supergraph").text


def test_an_opd_token_cannot_override(client: TestClient, registry: Registry) -> None:
    without_price = _refused_removal(client, registry)
    body = {"url": "http://products.test/graphql", "sdl": without_price, "override_reason": "pls"}
    response = client.post("/api/subgraphs/products/publish", json=body, headers=as_("products"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"
    assert len(client.get("/api/supergraph/versions").json()["versions"]) == 1


def test_an_override_never_passes_a_composition_error(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    bad = REVIEWS.replace('@key(fields: "upc")', '@key(fields: "upcc")')
    body = {"url": "http://reviews.test/graphql", "sdl": bad, "override_reason": "urgent"}
    response = client.post("/api/subgraphs/reviews/publish", json=body, headers=as_("admin"))
    assert response.status_code == 422 and not response.json()["overridden"]


def test_an_override_reason_must_say_something(client: TestClient, registry: Registry) -> None:
    without_price = _refused_removal(client, registry)
    body = {"url": "http://products.test/graphql", "sdl": without_price, "override_reason": "  "}
    response = client.post("/api/subgraphs/products/publish", json=body, headers=as_("admin"))
    assert response.status_code == 400


def test_an_accepted_publish_records_no_override(client: TestClient) -> None:
    body = {"url": "http://products.test/graphql", "sdl": PRODUCTS, "override_reason": "why not"}
    response = client.post("/api/subgraphs/products/publish", json=body, headers=as_("admin"))
    assert response.status_code == 200 and response.json()["overridden"] is False
    assert client.get("/api/supergraph/versions").json()["versions"][0]["override_reason"] is None


def test_rollback_records_the_named_author(client: TestClient) -> None:
    publish(client, "products", PRODUCTS)
    publish(client, "reviews", REVIEWS)
    done = client.post(
        "/api/supergraph/rollback", json={"version": 1, "author": "sari"}, headers=as_("admin")
    )
    assert done.status_code == 200 and done.json()["version"]["author"] == "admin/sari"
    missing = client.post("/api/supergraph/rollback", json={"version": 9}, headers=as_("admin"))
    assert missing.status_code == 404


def test_a_malformed_usage_report_is_a_bad_request(client: TestClient) -> None:
    response = client.post(
        "/api/usage", json={"operations": [{"operation": "Q"}]}, headers=as_("admin")
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"


class _OffLoopStore(RegistryStore):
    """Fails any store call made on a thread running an event loop (it would block serving)."""

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return attribute(*args, **kwargs)
            raise AssertionError(f"RegistryStore.{name} called on the event loop")

        return checked


def test_no_handler_does_database_work_on_the_event_loop(tmp_path: Any) -> None:
    store = _OffLoopStore(RegistryStore.sqlite(tmp_path / "r.sqlite3")._connect, "sqlite")
    client = TestClient(create_app(Registry(store), TOKENS, ADMIN))
    try:
        assert publish(client, "products", PRODUCTS)["status"] == 200
        usage = {"operations": [{"operation": "Q", "hash": "h", "coordinates": ["Query.products"]}]}
        assert client.post("/api/usage", json=usage, headers=as_("admin")).status_code == 200
        rollback = client.post("/api/supergraph/rollback", json={"version": 1}, headers=as_("a"))
        assert rollback.status_code == 200
        for path in ("/api/subgraphs", "/api/supergraph", "/api/supergraph/versions"):
            assert client.get(path).status_code == 200
        assert client.get("/api/subgraphs/products/versions").status_code == 200
        assert client.get("/api/catalogue").status_code == 200
    finally:
        store.close()
