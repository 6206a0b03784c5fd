"""Fixed-window operation counters per consumer application: in memory, or in Redis for replicas.

``hit(application, client, operations)`` counts the operations of a request (a batch of N counts
N) in the current window and says whether it is allowed and, if not, after how many seconds the
window resets (the ``Retry-After`` of the 429). Failed authentications are counted per client
address (``failed``), and ``blocked`` says whether an address has had too many this window.
Redis keeps one counter per key and window (``INCRBY`` + ``EXPIRE`` in one round trip), so every
replica sees the same count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.errors import GatewayError
from gateway.ratelimit.config import RateLimitSection


class RateLimitUnavailableError(GatewayError):
    """The shared counter store (Redis) cannot be reached."""

    code = "RATE_LIMIT_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: seconds until the window resets (whole seconds, at least 1 when refused)
    retry_after: int


class Counter(Protocol):
    async def incr(self, key: str, window: int, now: float, amount: int = 1) -> int: ...

    async def get(self, key: str, window: int, now: float) -> int: ...

    async def aclose(self) -> None: ...


class MemoryCounter:
    """Counters of this process only; old windows are dropped as time moves on."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._window_index = -1

    async def incr(self, key: str, window: int, now: float, amount: int = 1) -> int:
        index = int(now // window)
        if index != self._window_index:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= index}
            self._window_index = index
        slot = (key, index)
        count = self._counts.get(slot, 0) + amount
        self._counts[slot] = count
        return count

    async def get(self, key: str, window: int, now: float) -> int:
        return self._counts.get((key, int(now // window)), 0)

    async def aclose(self) -> None:
        self._counts.clear()


class RedisCounter:
    """Counters in Redis (redis-py asyncio), shared by every replica using the same prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def incr(self, key: str, window: int, now: float, amount: int = 1) -> int:
        from redis.exceptions import RedisError

        name = f"{self._prefix}:{key}:{int(now // window)}"
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incrby(name, amount)
                pipe.expire(name, window + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            raise RateLimitUnavailableError(f"Redis is unavailable: {error}") from error
        return int(count)

    async def get(self, key: str, window: int, now: float) -> int:
        from redis.exceptions import RedisError

        try:
            count = await self._client.get(f"{self._prefix}:{key}:{int(now // window)}")
        except (RedisError, OSError) as error:
            raise RateLimitUnavailableError(f"Redis is unavailable: {error}") from error
        return int(count or 0)

    async def aclose(self) -> None:
        await self._client.aclose()


class RateLimiter:
    """Decides per request; the key is the application id (or ``anonymous:<address>``), and
    ``auth-failed:<address>`` for failed authentications."""

    def __init__(
        self,
        section: RateLimitSection,
        counter: Counter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._section = section
        if counter is None:
            counter = (
                RedisCounter(section.redis_url, section.key_prefix)
                if section.backend == "redis"
                else MemoryCounter()
            )
        self._counter = counter
        self._clock = clock

    def limit_for(self, application: str | None) -> int:
        if application is None:
            return self._section.anonymous_limit
        return self._section.applications.get(application, self._section.default_limit)

    async def hit(
        self, application: str | None, client: str | None = None, operations: int = 1
    ) -> Decision:
        """Count ``operations`` for the application (or the anonymous ``client`` address)."""
        limit = self.limit_for(application)
        key = f"app:{application}" if application is not None else f"anonymous:{client or '-'}"
        now = self._clock()
        count = await self._counter.incr(key, self._section.window_seconds, now, operations)
        return self._decision(limit, count, now)

    async def failed(self, client: str | None) -> Decision:
        """Count a failed authentication from ``client``; refused once over the limit."""
        now = self._clock()
        count = await self._counter.incr(_failed_key(client), self._section.window_seconds, now)
        return self._decision(self._section.failed_auth_limit, count, now)

    async def blocked(self, client: str | None) -> Decision | None:
        """The refusal if ``client`` has used up its failed authentications, else None."""
        now = self._clock()
        count = await self._counter.get(_failed_key(client), self._section.window_seconds, now)
        if count < self._section.failed_auth_limit:
            return None
        return self._decision(self._section.failed_auth_limit, count + 1, now)

    def _decision(self, limit: int, count: int, now: float) -> Decision:
        window = self._section.window_seconds
        reset = max(1, math.ceil((math.floor(now / window) + 1) * window - now))
        return Decision(count <= limit, limit, max(0, limit - count), reset)

    async def aclose(self) -> None:
        await self._counter.aclose()


def _failed_key(client: str | None) -> str:
    return f"auth-failed:{client or '-'}"
