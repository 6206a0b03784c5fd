"""A gateway (re)start seeds the registry from its configuration, which resets the application's
scopes: the composition root's guard writes the approved grants back over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.access_requests.service import Actor
from gateway.assembly import Services
from gateway.auth.applications import create_registry, seed_registry
from gateway.config import dev_settings, load_settings
from tests.access.conftest import open_world

pytestmark = pytest.mark.anyio


async def test_the_guard_puts_approved_grants_back_after_seeding(tmp_path: Path) -> None:
    settings = dev_settings(load_settings(None), tmp_path)
    world = await open_world(settings.auth.applications, tmp_path / "decisions.sqlite3")
    made = await world.service.request(
        "developer", ["pendidikan:read"], ["verifikasi_dtks"], requested_by="dev"
    )
    await world.service.approve(made.id, "pendidikan", Actor("a", "pendidikan"), "uji")
    await world.service.store.aclose()
    await world.registry.aclose()
    await world.audit.aclose()

    services = Services.from_settings(settings)
    guard = services.guard()
    try:
        await guard.start()  # seeds the configured applications, then re-applies
        app = await guard.registry.get("developer")
        assert app is not None and app.scopes == {"kependudukan:read", "pendidikan:read"}
        record = await guard.registry.purpose("verifikasi_dtks")
        assert record is not None and "Diskominfo" in record.approvals
    finally:
        await guard.aclose()
        await services.transport.aclose()
    bare = create_registry(settings.auth.applications)  # the proof the seed does reset it
    try:
        await seed_registry(bare, settings.auth.applications.seed)
        reset = await bare.get("developer")
        assert reset is not None and reset.scopes == {"kependudukan:read"}
    finally:
        await bare.aclose()
