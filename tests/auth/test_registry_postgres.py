"""The PostgreSQL application registry against the real server (127.0.0.1:5432, database test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.auth.applications import Application, PostgresApplicationRegistry, open_registry
from gateway.auth.cli import mint_token
from gateway.auth.config import ApplicationSeed, ApplicationsSection
from gateway.auth.errors import RegistryError
from gateway.auth.identity import Authenticator
from tests.auth.conftest import dev_section

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def table() -> AsyncIterator[str]:
    name = f"jj_apps_{uuid.uuid4().hex[:12]}"
    yield name
    store = PostgresApplicationRegistry(POSTGRES_URL, name)
    await store.drop()
    await store.aclose()


async def test_postgres_registry_shared_by_two_replicas(table: str) -> None:
    section = ApplicationsSection(
        backend="postgres",
        postgres_url=POSTGRES_URL,
        table=table,
        migrate_at_start=True,
        seed=[ApplicationSeed(id="sibansos", opd="Dinas Sosial", scopes=["sosial:read"])],
    )
    first = await open_registry(section)
    second = await open_registry(section.model_copy(update={"seed": []}))
    try:
        app = await second.get("sibansos")
        expected = Application("sibansos", "sibansos", "Dinas Sosial", frozenset({"sosial:read"}))
        assert app == expected
        auth_second = Authenticator(dev_section(), second)
        token = f"Bearer {mint_token('sibansos')}"
        assert (await auth_second.authenticate(token)).scopes == frozenset({"sosial:read"})
        assert await first.revoke("sibansos")  # revoked on one replica ...
        principal = await auth_second.authenticate(token)  # ... refused on the other at once
        assert not principal.authenticated
        assert [a.id for a in await second.list()] == ["sibansos"]
    finally:
        await first.aclose()
        await second.aclose()


async def test_unreachable_postgres_is_a_registry_error() -> None:
    store = PostgresApplicationRegistry("postgresql://postgres@127.0.0.1:1/test?connect_timeout=1")
    with pytest.raises(RegistryError, match="unreachable"):
        await store.get("x")
