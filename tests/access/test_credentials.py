"""Credential rotation against SQLite and PostgreSQL: a new key works at once, the old one until
its grace period ends and never after, a revoked key at the next request; each step is audited
and no secret is stored or recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.access_requests.credentials import Credentials
from gateway.access_requests.model import AccessRequestError, AccessRequestNotFound
from gateway.auth.errors import AuthenticationError
from gateway.auth.identity import Authenticator
from tests.access.conftest import World
from tests.auth.harness import dev_section

pytestmark = pytest.mark.anyio


def keys(world: World) -> tuple[Credentials, Authenticator]:
    authenticator = Authenticator(dev_section(), world.registry, clock=world.clock)
    return Credentials(world.registry, world.audit, clock=world.clock), authenticator


async def test_rotation_keeps_the_old_key_for_the_grace_period_only(world: World) -> None:
    credentials, authenticator = keys(world)
    first = await credentials.rotate("sehat-lampung", "operator")
    assert first.ending == ()
    caller = await authenticator.authenticate(f"Bearer {first.key}", "pelayanan_kesehatan")
    assert caller.authenticated and caller.application == "sehat-lampung"
    # a key holds what the registry approves, narrowed by the declared purpose
    assert caller.scopes == {"kependudukan:read", "kesehatan:read", "kesehatan:jkn"}
    assert caller.purpose_approved

    second = await credentials.rotate("sehat-lampung", "operator", timedelta(hours=2))
    assert [c.id for c in second.ending] == [first.credential.id]
    world.clock.advance(hours=1)  # within the grace: both keys
    for rotation in (first, second):
        assert (await authenticator.authenticate(f"Bearer {rotation.key}")).authenticated
    world.clock.advance(hours=1)  # the grace has ended: only the new key
    with pytest.raises(AuthenticationError, match="expired"):
        await authenticator.authenticate(f"Bearer {first.key}")
    assert (await authenticator.authenticate(f"Bearer {second.key}")).authenticated
    states = {c.id: c.state(world.clock()) for c in await credentials.of("sehat-lampung")}
    assert states == {first.credential.id: "expired", second.credential.id: "active"}


async def test_a_revoked_key_is_refused_at_the_next_request(world: World) -> None:
    credentials, authenticator = keys(world)
    made = await credentials.rotate("sibansos", "operator")
    assert (await authenticator.authenticate(f"Bearer {made.key}")).authenticated
    await credentials.revoke(made.credential.id, "operator", "kunci bocor")
    with pytest.raises(AuthenticationError, match="revoked"):
        await authenticator.authenticate(f"Bearer {made.key}")
    with pytest.raises(AccessRequestError, match="already revoked"):
        await credentials.revoke(made.credential.id, "operator", "lagi")


async def test_a_rotation_with_no_grace_ends_the_old_key_at_once(world: World) -> None:
    credentials, authenticator = keys(world)
    old = await credentials.rotate("sibansos", "operator")
    await credentials.rotate("sibansos", "operator", timedelta(0))
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(f"Bearer {old.key}")


async def test_forged_and_foreign_keys_are_refused(world: World) -> None:
    credentials, authenticator = keys(world)
    made = await credentials.rotate("sibansos", "operator")
    forged = made.key[:-4] + ("AAAA" if not made.key.endswith("AAAA") else "BBBB")
    for key in (forged, "jjk_000000000000_" + "A" * 43):
        with pytest.raises(AuthenticationError, match="not recognised"):
            await authenticator.authenticate(f"Bearer {key}")
    with pytest.raises(AuthenticationError, match="malformed"):
        await authenticator.authenticate("Bearer jjk_short")
    # the key of a revoked application is anonymous, like its tokens
    await world.registry.revoke("sibansos")
    caller = await authenticator.authenticate(f"Bearer {made.key}")
    assert not caller.authenticated and caller.downgraded


async def test_bad_rotations_are_refused_with_a_stable_code(world: World) -> None:
    credentials, _ = keys(world)
    with pytest.raises(AccessRequestError, match="not registered") as unknown:
        await credentials.rotate("tidak-ada", "operator")
    assert unknown.value.code == "ACCESS_REQUEST_INVALID"
    with pytest.raises(AccessRequestError, match="grace period"):
        await credentials.rotate("sibansos", "operator", timedelta(days=31))
    with pytest.raises(AccessRequestNotFound):
        await credentials.revoke("000000000000", "operator", "tidak ada")
    with pytest.raises(AccessRequestError, match="needs a reason"):
        await credentials.revoke("000000000000", "operator", " ")


async def test_rotation_and_revocation_are_audited_without_secrets(world: World) -> None:
    credentials, _ = keys(world)
    first = await credentials.rotate("sibansos", "operator-a")
    second = await credentials.rotate("sibansos", "operator-b", timedelta(hours=6))
    await credentials.revoke(first.credential.id, "operator-c", "kunci bocor")
    await world.audit.drain()
    records = [
        r.event
        for r in await world.audit.store.records()
        if (r.event.operation_name or "").startswith("credential.")
    ]
    assert [(e.operation_name, e.user, e.application) for e in records] == [
        ("credential.rotated", "operator-a", "sibansos"),
        ("credential.rotated", "operator-b", "sibansos"),
        ("credential.revoked", "operator-c", "sibansos"),
    ]
    until = (world.clock() + timedelta(hours=6)).isoformat()
    assert f"new={second.credential.id}" in records[1].fields
    assert f"ending={first.credential.id}@{until}" in records[1].fields
    assert "reason=kunci bocor" in records[2].fields
    # the secret is everything after "jjk_<id>_" (it may itself contain "_")
    secrets = [k.key.split("_", 2)[2] for k in (first, second)]
    assert all(len(secret) == 43 for secret in secrets)
    for event in records:
        assert all(secret not in event.body() for secret in secrets)
    stored = await world.registry.credentials("sibansos")
    assert all(secrets[0] not in repr(c) for c in stored)
