"""Fixtures for migration tests: an isolated PostgreSQL schema per test, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema; connections made with ``pg_connect(schema)`` see only it (and pg_catalog)."""
    psycopg = pytest.importorskip("psycopg")
    name = f"test_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def pg_url(schema: str) -> str:
    """A URL whose connections use ``schema`` only (libpq ``options``: ``search_path``)."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def pg_connect(schema: str) -> Any:
    import psycopg

    return psycopg.connect(pg_url(schema), autocommit=True)
