"""The access-request workflow against SQLite and PostgreSQL: each OPD decides its own part,
decisions take effect in the registry at once and return to the configured baseline on
revocation or expiry, and every decision is an audit record."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.access_requests.model import (
    AccessRequestError,
    AccessRequestForbidden,
    AccessRequestNotFound,
)
from gateway.access_requests.service import Actor
from tests.access.conftest import World

DINSOS = Actor("admin-dinsos", "sosial")
DUKCAPIL = Actor("admin-dukcapil", "kependudukan")
OPERATOR = Actor("operator", operator=True)

pytestmark = pytest.mark.anyio


async def scopes_and_approval(world: World, app: str, purpose: str) -> tuple[set[str], object]:
    found = await world.registry.get(app)
    record = await world.registry.purpose(purpose)
    assert found is not None and record is not None
    return set(found.scopes), record.approvals.get(found.opd)


async def test_a_request_is_split_per_owning_opd(world: World) -> None:
    made = await world.service.request(
        "sehat-lampung",
        ["sosial:read", "pendidikan:read"],
        ["pelayanan_kesehatan"],
        requested_by="owner-sehat",
        note="rujukan pasien penerima bansos",
    )
    assert [(p.owner, set(p.scopes), p.status) for p in made.parts] == [
        ("pendidikan", {"pendidikan:read"}, "pending"),
        ("sosial", {"sosial:read"}, "pending"),
    ]
    assert (await world.service.get(made.id)).parts == made.parts
    assert [r.id for r in await world.service.list(owner="sosial")] == [made.id]
    assert await world.service.list(owner="kesehatan") == []


async def test_approval_takes_effect_and_revocation_returns_to_the_baseline(world: World) -> None:
    before = await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan")
    made = await world.service.request(
        "sehat-lampung", ["sosial:read"], ["pelayanan_kesehatan"], requested_by="owner"
    )
    assert await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan") == before
    await world.service.approve(made.id, "sosial", DINSOS, "sesuai Permensos 3/2021")
    scopes, approval = await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan")
    assert scopes == before[0] | {"sosial:read"}
    assert approval == (
        frozenset({"kependudukan:read", "kesehatan:read", "kesehatan:jkn", "sosial:read"}),
        frozenset({"data_pribadi"}),
    )
    revoked = await world.service.revoke(made.id, "sosial", DINSOS, "tujuan selesai")
    assert revoked.part("sosial").status == "revoked"
    assert await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan") == before


async def test_only_the_owning_opd_decides_its_part(world: World) -> None:
    made = await world.service.request(
        "sehat-lampung", ["sosial:read"], ["pelayanan_kesehatan"], requested_by="owner"
    )
    with pytest.raises(AccessRequestForbidden):
        await world.service.approve(made.id, "sosial", DUKCAPIL, "bukan wewenang")
    with pytest.raises(AccessRequestNotFound):
        await world.service.approve(made.id, "kependudukan", DUKCAPIL, "tidak ada bagian ini")
    with pytest.raises(AccessRequestError, match="needs a reason"):
        await world.service.approve(made.id, "sosial", DINSOS, "  ")
    assert (await world.service.get(made.id)).part("sosial").status == "pending"
    # the operator may revoke, not approve
    with pytest.raises(AccessRequestForbidden):
        await world.service.approve(made.id, "sosial", OPERATOR, "operator")
    await world.service.revoke(made.id, "sosial", OPERATOR, "aplikasi dihentikan")


async def test_rejection_grants_nothing_and_is_final(world: World) -> None:
    before = await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan")
    made = await world.service.request(
        "sehat-lampung", ["sosial:read"], ["pelayanan_kesehatan"], requested_by="owner"
    )
    rejected = await world.service.reject(made.id, "sosial", DINSOS, "dasar hukum kurang")
    assert rejected.part("sosial").reason == "dasar hukum kurang"
    assert rejected.state(world.clock()) == "rejected"
    assert await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan") == before
    with pytest.raises(AccessRequestError, match="is rejected"):
        await world.service.approve(made.id, "sosial", DINSOS, "berubah pikiran")


async def test_expiry_returns_to_the_baseline_on_the_next_sweep(world: World) -> None:
    before = await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan")
    made = await world.service.request(
        "sehat-lampung",
        ["sosial:read"],
        ["pelayanan_kesehatan"],
        requested_by="owner",
        valid_until=world.clock() + timedelta(days=30),
    )
    await world.service.approve(made.id, "sosial", DINSOS, "disetujui 30 hari")
    found = await world.registry.get("sehat-lampung")
    assert found is not None and "sosial:read" in found.in_force(world.clock()).scopes
    world.clock.advance(days=31)
    await world.service.apply()
    assert await scopes_and_approval(world, "sehat-lampung", "pelayanan_kesehatan") == before
    assert (await world.service.get(made.id)).state(world.clock()) == "expired"
    found = await world.registry.get("sehat-lampung")
    assert found is not None and found.expiring == ()


async def test_a_grant_with_an_end_lapses_at_that_instant_without_a_sweep(world: World) -> None:
    made = await world.service.request(
        "sehat-lampung",
        ["sosial:read"],
        ["pelayanan_kesehatan", "verifikasi_dtks"],
        requested_by="owner",
        valid_until=world.clock() + timedelta(days=30),
    )
    await world.service.approve(made.id, "sosial", DINSOS, "disetujui 30 hari")
    end = world.clock() + timedelta(days=30)
    record = await world.registry.get("sehat-lampung")  # read once: no sweep in between
    assert record is not None
    assert "sosial:read" not in record.scopes  # not a permanent grant
    assert [(g.until, set(g.scopes)) for g in record.expiring] == [(end, {"sosial:read"})]
    just_before = record.in_force(end - timedelta(microseconds=1))
    assert "sosial:read" in just_before.scopes
    assert "verifikasi_dtks" in just_before.purposes
    at_end = record.in_force(end)
    assert "sosial:read" not in at_end.scopes
    assert "verifikasi_dtks" not in at_end.purposes
    assert at_end.expiring == ()


async def test_a_purpose_not_yet_approved_for_the_opd_is_opened_then_closed(world: World) -> None:
    """The developer (Diskominfo) has no purpose: an approved request adds one for its OPD."""
    made = await world.service.request(
        "developer", ["kependudukan:read"], ["verifikasi_dtks"], requested_by="dev"
    )
    await world.service.approve(made.id, "kependudukan", DUKCAPIL, "uji integrasi")
    app = await world.registry.get("developer")
    record = await world.registry.purpose("verifikasi_dtks")
    assert app is not None and record is not None
    assert app.purposes == {"verifikasi_dtks"}
    assert record.approvals["Diskominfo"] == (
        frozenset({"kependudukan:read"}),
        frozenset({"data_pribadi"}),
    )
    await world.service.revoke(made.id, "kependudukan", DUKCAPIL, "selesai")
    app = await world.registry.get("developer")
    record = await world.registry.purpose("verifikasi_dtks")
    assert app is not None and record is not None
    assert app.purposes == frozenset() and "Diskominfo" not in record.approvals


@pytest.mark.parametrize(
    ("app", "scopes", "purposes", "message"),
    [
        ("nope", ["sosial:read"], ["pelayanan_kesehatan"], "not registered"),
        ("sehat-lampung", [], ["pelayanan_kesehatan"], "at least one scope"),
        ("sehat-lampung", ["sosial:read"], [], "at least one purpose"),
        ("sehat-lampung", ["sosial:read"], ["menjual_data"], "not a recorded purpose"),
        ("sehat-lampung", ["sosial"], ["pelayanan_kesehatan"], "<opd>:<action>"),
    ],
)
async def test_bad_requests_are_refused_with_a_stable_code(
    world: World, app: str, scopes: list[str], purposes: list[str], message: str
) -> None:
    with pytest.raises(AccessRequestError, match=message) as raised:
        await world.service.request(app, scopes, purposes, requested_by="x")
    assert raised.value.code == "ACCESS_REQUEST_INVALID"
    assert await world.service.list() == []


async def test_every_decision_is_an_audit_record(world: World) -> None:
    made = await world.service.request(
        "sehat-lampung", ["sosial:read"], ["pelayanan_kesehatan"], requested_by="owner"
    )
    await world.service.approve(made.id, "sosial", DINSOS, "ok")
    await world.service.revoke(made.id, "sosial", DINSOS, "selesai")
    records = await world.audit.store.records()
    decisions = [
        (r.event.operation_name, r.event.opd, r.event.user, r.event.fields)
        for r in records
        if r.event.operation_type == "access_decision"
    ]
    assert decisions == [
        ("access.requested", None, "owner", ("sosial:read",)),
        ("access.approved", "sosial", "admin-dinsos", ("sosial:read",)),
        ("access.revoked", "sosial", "admin-dinsos", ("sosial:read",)),
    ]
    assert all(not r.event.personal and not r.event.subjects for r in records)
    assert (await world.audit.verify()).ok
