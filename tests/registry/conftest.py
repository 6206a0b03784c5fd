"""Fixtures for registry tests: stores (SQLite; PostgreSQL in an isolated schema), subgraph SDLs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.registry.store import RegistryStore

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

PRODUCTS = """extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { products: [Product!]! }
type Product @key(fields: "upc") {
  "Universal product code."
  upc: String!
  name: String!
  price: Int
}
"""

REVIEWS = """extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
  import: ["@key", "@policy", "@requiresScopes"])
type Review { body: String! stars: Int! }
type Product @key(fields: "upc") {
  upc: String!
  "Reviews, newest first."
  reviews: [Review!]!
    @policy(policies: [["data_pribadi"]])
    @requiresScopes(scopes: [["reviews:read"]])
}
"""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[RegistryStore]:
    store = RegistryStore.sqlite(tmp_path / "registry.sqlite3")
    yield store
    store.close()


@pytest.fixture
def postgres_store() -> Iterator[RegistryStore]:
    psycopg = pytest.importorskip("psycopg")
    schema = f"test_registry_{uuid.uuid4().hex[:12]}"
    try:
        store = RegistryStore.postgres(POSTGRES_URL, schema, migrate_at_start=True)
    except Exception as exc:  # pragma: no cover - only when the server is down
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    yield store
    store.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> RegistryStore:
    name = "sqlite_store" if request.param == "sqlite" else "postgres_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]
