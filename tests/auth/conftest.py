"""Fixtures of the auth tests: an HS256 development setup with the demo applications registered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.auth.applications import SqliteApplicationRegistry, seed_registry
from gateway.auth.demo import DEMO_APPLICATIONS, DEMO_PURPOSES
from gateway.auth.identity import Authenticator
from tests.auth.harness import (  # noqa: F401  (fixtures used by the tests of this package)
    dev_section,
    opd_supergraph,
    opd_world,
    principal,
    secured,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def registry() -> AsyncIterator[SqliteApplicationRegistry]:
    store = SqliteApplicationRegistry(":memory:")
    await seed_registry(store, DEMO_APPLICATIONS, DEMO_PURPOSES)
    yield store
    await store.aclose()


@pytest.fixture
def authenticator(registry: SqliteApplicationRegistry) -> Authenticator:
    return Authenticator(dev_section(), registry)
