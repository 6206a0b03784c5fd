"""The OPD world and secured gateway of the subscription tests, reused for @defer end to end."""

from __future__ import annotations

from tests.subscriptions.conftest import anyio_backend, gateway, world

__all__ = ["anyio_backend", "gateway", "world"]
