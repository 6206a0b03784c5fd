"""Through a real gateway and the OPD subgraphs: an approved request is usable by the consumer's
token on its next request; a rejected, wrongly decided, revoked or expired one is not (an expired
one from its end instant, without the expiry sweep)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.access_requests.model import AccessRequestForbidden
from gateway.access_requests.service import Actor
from gateway.auth.cli import mint_token
from gateway.auth.config import ApplicationsSection
from gateway.auth.identity import Authenticator
from tests.access.conftest import World, open_world
from tests.auth.harness import SecuredFactory, dev_section

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAMILIES = """
{
  daftarPenduduk(wilayahKode: "18", first: 2) {
    nodes { nama keluarga { desilKesejahteraan } }
  }
}
"""
DINSOS = Actor("admin-dinsos", "sosial")
DINKES = Actor("admin-dinkes", "kesehatan")
#: the consumer's token asks its identity provider for the scope; the registry decides
TOKEN = mint_token("sehat-lampung", scopes=["kependudukan:read", "kesehatan:read", "sosial:read"])


def refused(response: dict[str, Any]) -> list[str]:
    return [
        ".".join(str(p) for p in e["path"] if not isinstance(p, int))
        for e in response.get("errors", [])
        if e["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    ]


@pytest.fixture
async def e2e(tmp_path: Path) -> Any:
    world = await open_world(
        ApplicationsSection(sqlite_path=tmp_path / "apps.sqlite3"), tmp_path / "decisions.sqlite3"
    )
    yield world
    await world.service.store.aclose()
    await world.registry.aclose()
    await world.audit.aclose()


async def test_approval_rejection_and_expiry_through_the_gateway(
    secured: SecuredFactory, e2e: World
) -> None:
    gateway = await secured()
    authenticator = Authenticator(dev_section(), e2e.registry, clock=e2e.clock)

    async def ask() -> dict[str, Any]:
        caller = await authenticator.authenticate(f"Bearer {TOKEN}", "pelayanan_kesehatan")
        return await gateway.run(FAMILIES, caller)

    welfare = "daftarPenduduk.nodes.keluarga.desilKesejahteraan"
    assert welfare in refused(await ask())

    rejected = await e2e.service.request(
        "sehat-lampung", ["sosial:read"], ["pelayanan_kesehatan"], requested_by="pemilik"
    )
    await e2e.service.reject(rejected.id, "sosial", DINSOS, "dasar hukum belum cukup")
    assert welfare in refused(await ask())

    made = await e2e.service.request(
        "sehat-lampung",
        ["sosial:read"],
        ["pelayanan_kesehatan"],
        requested_by="pemilik",
        valid_until=e2e.clock() + timedelta(days=7),
    )
    with pytest.raises(AccessRequestForbidden):
        await e2e.service.approve(made.id, "sosial", DINKES, "bukan data kami")
    assert welfare in refused(await ask())

    await e2e.service.approve(made.id, "sosial", DINSOS, "rujukan pasien penerima bansos")
    response = await ask()  # the very next request: no restart, no cache to wait for
    assert refused(response) == [], response
    assert response["data"]["daftarPenduduk"]["nodes"][0]["nama"]

    e2e.clock.advance(days=7)  # the grant's end instant: refused on the next request, no sweep
    assert welfare in refused(await ask())
    await e2e.service.apply()  # the sweep only tidies the record
    assert welfare in refused(await ask())
