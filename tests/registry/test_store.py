"""The registry store over SQLite and PostgreSQL (same behaviour, real databases, no mocks)."""

from __future__ import annotations

import pytest

from gateway.registry.store import RegistryStore, etag_of
from tests.registry.conftest import PRODUCTS, REVIEWS


def test_publish_creates_versions_with_who_and_when(store: RegistryStore) -> None:
    assert store.current() is None
    first = store.record_publish(
        "products", "http://p/graphql", PRODUCTS, "opd:products", "SG1", at=10.0
    )
    second = store.record_publish(
        "reviews", "http://r/graphql", REVIEWS, "opd:reviews", "SG2", at=20.0
    )
    assert (first.version, second.version) == (1, 2)
    current = store.current()
    assert current is not None
    assert current.sdl == "SG2" and current.etag == etag_of("SG2")
    assert current.created_by == "opd:reviews" and current.created_at == 20.0
    assert set(current.subgraph_versions) == {"products", "reviews"}
    subgraphs = store.current_subgraphs()
    assert (
        subgraphs["products"].sdl == PRODUCTS
        and subgraphs["products"].published_by == "opd:products"
    )


def test_republish_keeps_history_per_subgraph(store: RegistryStore) -> None:
    store.record_publish("products", "http://p", PRODUCTS, "a", "SG1")
    store.record_publish("products", "http://p2", PRODUCTS + "\n", "b", "SG2")
    history = store.subgraph_history("products")
    assert [v.url for v in history] == ["http://p", "http://p2"]
    assert store.current_subgraphs()["products"].url == "http://p2"
    assert [v.version for v in store.supergraph_versions()] == [1, 2]
    old = store.supergraph(1)
    assert old is not None and old.sdl == "SG1"


def test_rollback_restores_sdl_and_subgraph_versions(store: RegistryStore) -> None:
    store.record_publish("products", "http://p", PRODUCTS, "a", "SG1")
    store.record_publish("products", "http://p2", PRODUCTS + "\n", "b", "SG2")
    rolled = store.record_rollback(1, "admin")
    assert rolled.version == 3 and rolled.action == "rollback" and rolled.sdl == "SG1"
    assert store.current_subgraphs()["products"].url == "http://p"


def test_usage_is_counted_per_operation_and_windowed(store: RegistryStore) -> None:
    store.record_usage("CariProduk", "h1", ["Query.products", "Product.name"], at=100.0)
    store.record_usage("CariProduk", "h1", ["Product.name"], at=200.0)
    store.record_usage("Lain", "h2", ["Product.name"], at=50.0)
    uses = store.operations_using("Product.name", since=90.0)
    assert [(u.operation, u.count, u.last_seen) for u in uses] == [("CariProduk", 2, 200.0)]
    assert len(store.operations_using("Product.name", since=0.0)) == 2
    assert store.operations_using("Product.price", since=0.0) == []


def test_usage_is_counted_per_application_and_operation(store: RegistryStore) -> None:
    store.record_usage("Harga", "h1", ["Product.price"], 3, at=10.0, application="sibansos")
    store.record_usage("Harga", "h1", ["Product.price"], 2, at=20.0, application="sehat-lampung")
    store.record_usage("Harga", "h1", ["Product.price"], 1, at=30.0, application="sibansos")
    store.record_usage("Harga", "h1", ["Product.price"], at=40.0)  # no application: anonymous
    uses = store.operations_using("Product.price", since=0.0)
    assert [(u.application, u.operation, u.count, u.last_seen) for u in uses] == [
        ("sibansos", "Harga", 4, 30.0),
        ("sehat-lampung", "Harga", 2, 20.0),
        ("anonymous", "Harga", 1, 40.0),
    ]


def test_a_publish_composed_against_an_old_version_is_refused_as_stale(
    store: RegistryStore,
) -> None:
    import pytest

    from gateway.registry.store import StaleBase

    store.record_publish("products", "http://p", PRODUCTS, "a", "SG1", based_on=None)
    with pytest.raises(StaleBase):
        store.record_publish("reviews", "http://r", REVIEWS, "b", "SG2", based_on=None)
    assert [v.version for v in store.supergraph_versions()] == [1]
    assert store.record_publish("reviews", "http://r", REVIEWS, "b", "SG2", based_on=1).version == 2


@pytest.mark.postgres
def test_postgres_store_reconnects_after_losing_its_connection(
    postgres_store: RegistryStore,
) -> None:
    import psycopg

    postgres_store.record_publish("products", "http://p", PRODUCTS, "a", "SG1")
    pid = postgres_store._conn.info.backend_pid  # type: ignore[union-attr]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    current = postgres_store.current()  # finds the connection dead and opens a new one
    assert current is not None and current.sdl == "SG1"


def test_authors_and_override_reasons_are_kept(store: RegistryStore) -> None:
    store.record_publish("products", "http://p", PRODUCTS, "opd:products", "SG1", at=10.0)
    made = store.record_publish(
        "products",
        "http://p",
        PRODUCTS + "\n",
        "admin",
        "SG2",
        author="admin/sari",
        override_reason="approved: 'DaftarHarga' moves? 100% sure",
    )
    assert made.author == "admin/sari"
    log = store.supergraph_versions()
    assert [(v.author, v.override_reason) for v in log] == [
        ("opd:products", None),
        ("admin/sari", "approved: 'DaftarHarga' moves? 100% sure"),
    ]
    assert [v.author for v in store.subgraph_history("products")] == ["opd:products", "admin/sari"]
    rolled = store.record_rollback(1, "admin")
    assert (rolled.author, rolled.override_reason) == ("admin", None)
    assert log[0].summary()["date"] == "1970-01-01T00:00:10Z"


def test_placeholders_and_percent_signs_in_values_and_literals(store: RegistryStore) -> None:
    """Parameters are rendered per backend: a '?' or '%' in a value or a literal stays itself."""
    store.record_usage("Cari?Produk 100%", "h?%s", ["Query.products"], at=5.0)
    uses = store.operations_using("Query.products", since=0.0)
    assert [(u.operation, u.operation_hash) for u in uses] == [("Cari?Produk 100%", "h?%s")]
    with store._tx() as cur:
        row = cur.one("SELECT '?' || ? || '%', 'it''s ?' FROM field_usage", ("?",))
    assert tuple(row) == ("??%", "it's ?")
