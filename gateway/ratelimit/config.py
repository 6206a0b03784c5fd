"""The ``[rate_limit]`` configuration section."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from gateway.sections import Section


class RateLimitSection(Section):
    """Operations per window, per consumer application (anonymous callers: per client address);
    failed authentications per client address."""

    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "jamajama:ratelimit"
    window_seconds: int = Field(default=60, ge=1)
    #: operations per window for an application without its own limit (a batch of N counts N)
    default_limit: int = Field(default=600, ge=1)
    #: operations per window for anonymous callers, per client address
    anonymous_limit: int = Field(default=120, ge=1)
    #: application id -> operations per window
    applications: dict[str, int] = Field(default_factory=dict)
    #: failed authentications per window per client address; beyond it, requests with
    #: credentials from that address get 429 until the window ends (token guessing)
    failed_auth_limit: int = Field(default=10, ge=1)
    #: proxies (addresses or CIDRs) whose forwarded-address header is believed; empty: none
    trusted_proxies: list[str] = Field(default_factory=list)
    #: the header the trusted proxies set: ``X-Forwarded-For`` or RFC 7239 ``Forwarded``
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as error:
                raise ValueError(f"{entry!r} is not an IP address or CIDR") from error
        return value
