"""Fixtures of the auth tests: an HS256 development setup with the demo applications registered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.auth.applications import SqliteApplicationRegistry, seed_registry
from gateway.auth.config import AuthSection, JwtSection
from gateway.auth.demo import DEMO_APPLICATIONS, DEV_AUDIENCE, DEV_ISSUER, DEV_SECRET
from gateway.auth.identity import Authenticator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def dev_section(**overrides: object) -> AuthSection:
    jwt = JwtSection(secret=DEV_SECRET, issuer=DEV_ISSUER, audience=DEV_AUDIENCE)  # type: ignore[arg-type]
    return AuthSection(jwt=jwt, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def registry() -> AsyncIterator[SqliteApplicationRegistry]:
    store = SqliteApplicationRegistry(":memory:")
    await seed_registry(store, DEMO_APPLICATIONS)
    yield store
    await store.aclose()


@pytest.fixture
def authenticator(registry: SqliteApplicationRegistry) -> Authenticator:
    return Authenticator(dev_section(), registry)
