"""Rate limits: memory and Redis counters per application, per operation and per failed
authentication, and the client address behind trusted proxies."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from gateway.ratelimit.client import ClientAddresses
from gateway.ratelimit.config import RateLimitSection
from gateway.ratelimit.limiter import (
    MemoryCounter,
    RateLimiter,
    RateLimitUnavailableError,
    RedisCounter,
)

pytestmark = pytest.mark.anyio

SECTION = RateLimitSection(
    window_seconds=60, default_limit=3, anonymous_limit=1, applications={"sibansos": 5}
)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_memory_limits_per_application_with_retry_after() -> None:
    clock = Clock(1_200_020.0)  # 20 s into a 60 s window
    limiter = RateLimiter(SECTION, MemoryCounter(), clock)
    decisions = [await limiter.hit("dasbor-gubernur") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 40
    assert [(await limiter.hit("sibansos")).allowed for _ in range(6)] == [True] * 5 + [False]
    # anonymous callers are counted per address
    assert (await limiter.hit(None, "10.0.0.1")).allowed
    assert not (await limiter.hit(None, "10.0.0.1")).allowed
    assert (await limiter.hit(None, "10.0.0.2")).allowed
    clock.now += 40  # the next window
    assert (await limiter.hit("dasbor-gubernur")).allowed


@pytest.mark.redis
async def test_redis_counters_are_shared_by_replicas() -> None:
    prefix = f"jamajama-test:{uuid.uuid4().hex}"
    section = SECTION.model_copy(update={"backend": "redis", "key_prefix": prefix})
    clock = Clock(1_800_010.0)
    replicas = [RateLimiter(section, clock=clock) for _ in range(2)]
    try:
        allowed = [(await replicas[n % 2].hit("dasbor-gubernur")).allowed for n in range(4)]
        assert allowed == [True, True, True, False]
        refused = await replicas[0].hit("dasbor-gubernur")
        assert refused.retry_after == 50
    finally:
        for limiter in replicas:
            await limiter.aclose()


@pytest.mark.redis
async def test_redis_down_is_reported_not_hidden() -> None:
    counter = RedisCounter("redis://127.0.0.1:1/0", "x")
    limiter = RateLimiter(SECTION, counter)
    with pytest.raises(RateLimitUnavailableError):
        await limiter.hit("sibansos")
    await limiter.aclose()


async def test_operations_and_failed_authentications_are_counted() -> None:
    clock = Clock(1_200_000.0)
    section = SECTION.model_copy(update={"failed_auth_limit": 2})
    limiter = RateLimiter(section, MemoryCounter(), clock)
    assert (await limiter.hit("sibansos", operations=5)).allowed
    refused = await limiter.hit("sibansos", operations=1)
    assert not refused.allowed and refused.remaining == 0
    assert await limiter.blocked("10.0.0.9") is None
    assert (await limiter.failed("10.0.0.9")).allowed
    assert await limiter.blocked("10.0.0.9") is None
    assert (await limiter.failed("10.0.0.9")).allowed  # the 2nd is still within the limit
    blocked = await limiter.blocked("10.0.0.9")
    assert blocked is not None and not blocked.allowed and blocked.retry_after == 60
    assert await limiter.blocked("10.0.0.10") is None
    clock.now += 60
    assert await limiter.blocked("10.0.0.9") is None


@pytest.mark.redis
async def test_redis_counts_batches_and_failures() -> None:
    prefix = f"jamajama-test:{uuid.uuid4().hex}"
    section = SECTION.model_copy(
        update={"backend": "redis", "key_prefix": prefix, "failed_auth_limit": 1}
    )
    limiter = RateLimiter(section, clock=Clock(1_800_010.0))
    try:
        assert (await limiter.hit("sibansos", operations=5)).allowed
        assert not (await limiter.hit("sibansos", operations=1)).allowed
        assert await limiter.blocked("10.1.1.1") is None
        await limiter.failed("10.1.1.1")
        assert await limiter.blocked("10.1.1.1") is not None
    finally:
        await limiter.aclose()


def test_client_address_from_trusted_proxies_only() -> None:
    addresses = ClientAddresses(["10.0.0.0/8", "::1"])
    xff = {"x-forwarded-for": "192.0.2.1, 198.51.100.7, 10.0.0.3"}
    assert addresses.resolve("10.0.0.2", xff) == "198.51.100.7"  # right-most untrusted
    assert addresses.resolve("203.0.113.1", xff) == "203.0.113.1"  # peer not trusted
    assert addresses.resolve("::1", {"x-forwarded-for": "2001:db8::5"}) == "2001:db8::5"
    assert addresses.resolve("10.0.0.2", {}) == "10.0.0.2"
    assert addresses.resolve("10.0.0.2", {"x-forwarded-for": "garbage"}) == "10.0.0.2"
    assert addresses.resolve(None, xff) is None
    # a client's Forwarded header passes an X-Forwarded-For proxy untouched: not read
    assert addresses.resolve("10.0.0.2", {"forwarded": "for=192.0.2.1"}) == "10.0.0.2"
    rfc = ClientAddresses(["10.0.0.0/8"], "forwarded")
    forwarded = {"forwarded": 'for=192.0.2.1;proto=http, for="[2001:db8::9]:443", for=10.0.0.4'}
    assert rfc.resolve("10.0.0.2", forwarded) == "2001:db8::9"
    assert rfc.resolve("10.0.0.2", {"x-forwarded-for": "192.0.2.1"}) == "10.0.0.2"
    assert ClientAddresses([]).resolve("127.0.0.1", xff) == "127.0.0.1"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="not an IP address or CIDR"):
        RateLimitSection(trusted_proxies=["nginx"])
    assert RateLimitSection(trusted_proxies=["172.28.0.10", "10.0.0.0/8"]).trusted_proxies
