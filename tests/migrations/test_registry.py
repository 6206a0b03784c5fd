"""The registry's migrations: today's databases are adopted, then gain authors and reasons, and
usage per consumer application (old usage rows become ``(unknown)``)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.migrations import registry as registry_migrations
from gateway.migrations.runner import (
    POSTGRES,
    SQLITE,
    SchemaOutdatedError,
    current_version,
)
from gateway.registry.store import RegistryStore
from tests.migrations.conftest import POSTGRES_URL, pg_connect

#: the registry's DDL as it shipped before migrations (gateway/registry/store.py, ``_SCHEMA``)
OLD_REGISTRY_DDL = [
    """CREATE TABLE IF NOT EXISTS subgraph_versions (
        id {serial},
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        sdl TEXT NOT NULL,
        published_by TEXT NOT NULL,
        published_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS supergraph_versions (
        version INTEGER PRIMARY KEY,
        sdl TEXT NOT NULL,
        etag TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        created_by TEXT NOT NULL,
        action TEXT NOT NULL,
        subgraph TEXT,
        subgraph_versions TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS field_usage (
        coordinate TEXT NOT NULL,
        operation TEXT NOT NULL,
        operation_hash TEXT NOT NULL,
        count BIGINT NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (coordinate, operation_hash))""",
]

OLD_ROWS = [
    "INSERT INTO subgraph_versions (name, url, sdl, published_by, published_at) "
    "VALUES ('products', 'http://p', 'type Query { a: Int }', 'opd:products', 10.0)",
    "INSERT INTO supergraph_versions VALUES (1, 'SG1', '\"e1\"', 10.0, 'opd:products', "
    "'publish', 'products', '{\"products\": 1}')",
    "INSERT INTO field_usage VALUES ('Query.a', 'Q', 'h', 3, 10.0)",
]


def _old_database(execute: object, serial: str) -> None:
    for statement in OLD_REGISTRY_DDL:
        execute(statement.format(serial=serial))  # type: ignore[operator]
    for statement in OLD_ROWS:
        execute(statement)  # type: ignore[operator]


def _check_adopted(store: RegistryStore) -> None:
    current = store.current()
    assert current is not None and current.sdl == "SG1"
    assert (current.author, current.override_reason) == ("opd:products", None)
    assert store.current_subgraphs()["products"].author == "opd:products"
    old_use = store.operations_using("Query.a", 0.0)[0]  # reported before applications were
    assert (old_use.count, old_use.application) == (3, "(unknown)")
    store.record_usage("Q", "h", ["Query.a"], 2, application="sibansos")  # its own row
    uses = {u.application: u.count for u in store.operations_using("Query.a", 0.0)}
    assert uses == {"(unknown)": 3, "sibansos": 2}
    made = store.record_publish(
        "products", "http://p", "type Query { b: Int }", "admin", "SG2", override_reason="ok"
    )
    assert made.version == 2 and store.supergraph_versions()[1].override_reason == "ok"


def test_a_sqlite_registry_from_before_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        _old_database(conn.execute, "INTEGER PRIMARY KEY AUTOINCREMENT")
    store = RegistryStore.sqlite(path)  # embedded: migrates at start
    try:
        _check_adopted(store)
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert current_version(conn, SQLITE, "registry") == registry_migrations.plan().head == 3


@pytest.mark.postgres
def test_a_postgres_registry_refuses_an_old_schema_until_migrated(pg_schema: str) -> None:
    with pg_connect(pg_schema) as conn:
        _old_database(conn.execute, "BIGSERIAL PRIMARY KEY")
    with pytest.raises(SchemaOutdatedError) as refused:
        RegistryStore.postgres(POSTGRES_URL, pg_schema)
    assert refused.value.code == "SCHEMA_OUTDATED"
    assert "jamajama migrate --store registry" in refused.value.message
    assert "registry.migrate_at_start" in refused.value.message
    store = RegistryStore.postgres(POSTGRES_URL, pg_schema, migrate_at_start=True)
    try:
        _check_adopted(store)
    finally:
        store.close()
    with pg_connect(pg_schema) as conn:
        assert current_version(conn, POSTGRES, "registry") == 3
    RegistryStore.postgres(POSTGRES_URL, pg_schema).close()  # now current: opens
