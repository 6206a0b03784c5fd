"""Access-request fixtures: the workflow over SQLite or an isolated PostgreSQL schema, with the
demo applications and purposes seeded and a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.access_requests.service import AccessRequests
from gateway.access_requests.store import AccessRequestStore
from gateway.audit.log import AuditLog
from gateway.audit.store import SqliteAuditStore
from gateway.auth.applications import ApplicationRegistry, create_registry, seed_registry
from gateway.auth.config import ApplicationsSection
from gateway.auth.demo import DEMO_APPLICATIONS, DEMO_PURPOSES
from tests.auth.harness import (  # noqa: F401  (fixtures of the end-to-end tests)
    SIGNING_KEY,
    SUBJECT_KEY,
    opd_supergraph,
    opd_world,
    principal,
    secured,
)

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    service: AccessRequests
    registry: ApplicationRegistry
    clock: Clock
    audit: AuditLog
    section: ApplicationsSection


@pytest.fixture
def pg_schema() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    name = f"test_access_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def section(request: Any, tmp_path: Path) -> ApplicationsSection:
    if request.param == "sqlite":
        return ApplicationsSection(sqlite_path=tmp_path / "apps.sqlite3")
    schema = request.getfixturevalue("pg_schema")
    return ApplicationsSection(
        backend="postgres",
        postgres_url=f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
        migrate_at_start=True,
    )


async def open_world(section: ApplicationsSection, audit_path: Path) -> World:
    registry = create_registry(section)
    await seed_registry(registry, DEMO_APPLICATIONS, DEMO_PURPOSES)
    clock = Clock()
    audit = AuditLog(SqliteAuditStore(audit_path), SUBJECT_KEY, SIGNING_KEY)
    service = AccessRequests(AccessRequestStore.open(section), registry, audit, clock=clock)
    return World(service, registry, clock, audit, section)


@pytest.fixture
async def world(section: ApplicationsSection, tmp_path: Path) -> AsyncIterator[World]:
    made = await open_world(section, tmp_path / "audit.sqlite3")
    yield made
    await made.service.store.aclose()
    await made.registry.aclose()
    await made.audit.aclose()


__all__ = ["SIGNING_KEY"]
