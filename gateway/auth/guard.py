"""The HTTP edge of access control: credentials -> principal, rate limit.

``admit`` runs before the GraphQL request is processed: a bad token is a 401 with a message saying
what is wrong (``WWW-Authenticate: Bearer error="invalid_token"``), an exhausted rate limit a 429
with ``Retry-After``. A failing registry is a 503 (closed: no guessing who the caller is). A
failing Redis does not stop the gateway: the request is admitted and the failure logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.auth.applications import ApplicationRegistry, seed_registry
from gateway.auth.config import AuthSection
from gateway.auth.errors import AuthenticationError, RegistryError
from gateway.auth.identity import Authenticator
from gateway.auth.principal import Principal
from gateway.ratelimit.limiter import RateLimiter, RateLimitUnavailableError

logger = logging.getLogger("jamajama.auth")

RATE_LIMITED = "RATE_LIMITED"


@dataclass(frozen=True, slots=True)
class Admission:
    """A request let in (``principal``) or turned away (``status``, ``body``, ``headers``).
    The request id is the HTTP layer's (``[http] request_id_header``), not the guard's."""

    principal: Principal | None = None
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def admitted(self) -> bool:
        return self.body is None


class HttpGuard:
    """Authenticates and rate-limits HTTP requests; one per app."""

    def __init__(
        self,
        section: AuthSection,
        registry: ApplicationRegistry,
        limiter: RateLimiter | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.section = section
        self.registry = registry
        self.limiter = limiter
        self.authenticator = authenticator or Authenticator(section, registry)
        self._purpose = section.purpose_header.lower()

    async def start(self) -> None:
        """Seed the configured applications (runs in the server's event loop)."""
        await seed_registry(self.registry, self.section.applications.seed)

    async def aclose(self) -> None:
        await self.registry.aclose()
        if self.limiter is not None:
            await self.limiter.aclose()

    async def admit(self, headers: Mapping[str, str], client: str | None) -> Admission:
        try:
            principal = await self.authenticator.authenticate(
                headers.get("authorization"), headers.get(self._purpose)
            )
        except AuthenticationError as error:
            return Admission(
                status=401 if error.code == "UNAUTHENTICATED" else 503,
                body={"errors": [error.to_graphql_error()]},
                headers={"www-authenticate": 'Bearer error="invalid_token"'},
            )
        except RegistryError as error:
            logger.error("application registry unavailable: %s", error.message)
            return Admission(status=503, body={"errors": [error.to_graphql_error()]})
        if self.limiter is not None:
            application = principal.application if principal.authenticated else None
            try:
                decision = await self.limiter.hit(application, client)
            except RateLimitUnavailableError as error:  # Redis down, on_redis_unavailable closed
                logger.error("rate limiter unavailable, request refused: %s", error.message)
                message = "The rate limiter is unavailable; retry later."
                refusal = {"message": message, "extensions": {"code": error.code}}
                return Admission(status=503, body={"errors": [refusal]})
            else:
                if not decision.allowed:
                    who = f'application "{application}"' if application else "anonymous callers"
                    message = (
                        f"rate limit of {decision.limit} requests per window exceeded for {who}; "
                        f"retry after {decision.retry_after} s"
                    )
                    return Admission(
                        status=429,
                        body={
                            "errors": [{"message": message, "extensions": {"code": RATE_LIMITED}}]
                        },
                        headers={"retry-after": str(decision.retry_after)},
                    )
        return Admission(principal=principal)
