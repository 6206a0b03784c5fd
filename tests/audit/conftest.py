"""Fixtures of the audit tests (the end-to-end ones share tests/auth's harness)."""

from __future__ import annotations

import pytest

from tests.audit.test_checkpoints import backend  # noqa: F401  (SQLite and PostgreSQL stores)
from tests.auth.harness import (  # noqa: F401  (fixtures used by the tests of this package)
    opd_supergraph,
    opd_world,
    principal,
    secured,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
