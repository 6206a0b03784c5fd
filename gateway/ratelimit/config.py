"""The ``[rate_limit]`` configuration section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.sections import Section


class RateLimitSection(Section):
    """Requests per window, per consumer application (anonymous callers: per client address)."""

    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "jamajama:ratelimit"
    window_seconds: int = Field(default=60, ge=1)
    #: requests per window for an application without its own limit
    default_limit: int = Field(default=600, ge=1)
    #: requests per window for anonymous callers, per client address
    anonymous_limit: int = Field(default=120, ge=1)
    #: application id -> requests per window
    applications: dict[str, int] = Field(default_factory=dict)
    #: Redis unavailable: ``open`` admits the request uncounted (logged, and counted in
    #: ``jamajama_shared_store_unavailable{store="rate_limit"}``); ``closed`` answers 503
    #: ``RATE_LIMIT_UNAVAILABLE``
    on_redis_unavailable: Literal["open", "closed"] = "open"
