"""Per-application rate limits: memory and Redis counters, and the 429 with Retry-After."""

from __future__ import annotations

import uuid

import pytest

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
    # fail open (the default): admitted uncounted, and reported (the metric's callback)
    reported: list[str] = []
    counter = RedisCounter("redis://127.0.0.1:1/0", "x")
    limiter = RateLimiter(SECTION, counter, on_unavailable=reported.append)
    decision = await limiter.hit("sibansos")
    assert decision.allowed and reported == ["rate_limit"]
    await limiter.aclose()
    # fail closed: the caller is told
    closed = SECTION.model_copy(update={"on_redis_unavailable": "closed"})
    limiter = RateLimiter(closed, RedisCounter("redis://127.0.0.1:1/0", "x"))
    with pytest.raises(RateLimitUnavailableError):
        await limiter.hit("sibansos")
    await limiter.aclose()
