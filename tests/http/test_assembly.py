"""The composition root (gateway/assembly.py): what configuration and supergraph give."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from gateway.assembly import Services, assemble
from gateway.config import Settings, dev_settings
from gateway.errors import GatewayError

ROOT = Path(__file__).resolve().parents[2]
OPD = (ROOT / "schema" / "supergraph.graphql").read_text()
OPEN = (ROOT / "tests" / "executor" / "supergraph.graphql").read_text()


def test_an_open_supergraph_gets_no_access_control_nor_guard() -> None:
    assembly = assemble(Settings(), supergraph_sdl=OPEN)
    gateway = assembly.gateway
    assert assembly.guard is None and gateway.access is None
    assert gateway.limits is assembly.services.limits


def test_a_supergraph_linking_authorization_is_secured(tmp_path: Path) -> None:
    assembly = assemble(dev_settings(Settings(), tmp_path), supergraph_sdl=OPD)
    assert assembly.guard is not None and assembly.gateway.access is not None
    assert (tmp_path / "audit.sqlite3").exists()


def test_generations_share_the_services_and_the_audit_log(tmp_path: Path) -> None:
    services = Services.from_settings(dev_settings(Settings(), tmp_path))
    first, second = services.open_gateway(OPD), services.open_gateway(OPD)
    assert first.access is not None and second.access is not None
    assert first.access is not second.access
    assert first.access.audit is second.access.audit is not None
    assert first._executor is not second._executor


def test_auth_disabled_refuses_a_supergraph_that_asks_for_authorization(tmp_path: Path) -> None:
    """Closed by default: @policy/@requiresScopes are never served unenforced."""
    settings = dev_settings(Settings(auth={"enabled": False}), tmp_path)
    with pytest.raises(GatewayError, match="enable authorization"):
        assemble(settings, supergraph_sdl=OPD)


def test_deduplication_never_applies_with_access_control(tmp_path: Path) -> None:
    services = Services.from_settings(dev_settings(Settings(), tmp_path))
    assert not services.open_gateway(OPD, deduplicate=True)._deduplicate
    assert services.open_gateway(OPEN, deduplicate=True)._deduplicate


def test_an_unreachable_registry_without_a_cached_copy_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(
        registry_poll={
            "url": "http://127.0.0.1:9",
            "timeout_seconds": 1,
            "cache_path": str(tmp_path / "none.graphql"),
        }
    )
    with pytest.raises(GatewayError) as caught:
        assemble(settings)
    assert caught.value.code == "NO_SUPERGRAPH"


@pytest.mark.anyio
async def test_shutdown_drains_audit_writes_then_closes_the_audit_log(tmp_path: Path) -> None:
    assembly = assemble(dev_settings(Settings(), tmp_path), supergraph_sdl=OPD)
    app = assembly.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            response = await http.post("/graphql", json={"query": "{ __typename }"})
            assert response.status_code == 200
    with sqlite3.connect(tmp_path / "audit.sqlite3") as db:  # written before the close
        assert db.execute("SELECT count(*) FROM jamajama_audit").fetchone() == (1,)
    audit = assembly.services._audit
    assert audit is not None
    with pytest.raises(sqlite3.ProgrammingError):  # closed at shutdown
        audit.store._conn.execute("SELECT 1")  # type: ignore[attr-defined]
