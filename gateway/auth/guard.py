"""The HTTP edge of access control: credentials -> principal, rate limits.

``admit`` runs before the GraphQL request is processed: a bad token is a 401 with a message saying
what is wrong (``WWW-Authenticate: Bearer error="invalid_token"``), an exhausted rate limit a 429
with ``Retry-After``. Every operation counts (``charge`` adds the rest of a batch), and failed
authentications count against the client address: past ``[rate_limit] failed_auth_limit`` the
address gets 429 for any credentials until the window ends, so tokens cannot be guessed at speed.
The client address is the peer's, or a trusted proxy's forwarded one (gateway/ratelimit/client.py).
A failing registry is a 503 (closed: no guessing who the caller is). A failing Redis does not stop
the gateway: the request is admitted and the failure logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gateway.auth.applications import ApplicationRegistry, seed_registry
from gateway.auth.config import AuthSection
from gateway.auth.errors import AuthenticationError, RegistryError
from gateway.auth.identity import Authenticator
from gateway.auth.principal import Principal
from gateway.ratelimit.client import ClientAddresses
from gateway.ratelimit.limiter import Decision, RateLimiter, RateLimitUnavailableError

logger = logging.getLogger("jamajama.auth")

RATE_LIMITED = "RATE_LIMITED"
_T = TypeVar("_T")


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
        addresses: ClientAddresses | None = None,
    ) -> None:
        self.section = section
        self.registry = registry
        self.limiter = limiter
        self.authenticator = authenticator or Authenticator(section, registry)
        #: whose forwarded address is believed (default: nobody's)
        self.addresses = addresses or ClientAddresses(())
        self._purpose = section.purpose_header.lower()

    async def start(self) -> None:
        """Seed the configured applications (runs in the server's event loop)."""
        await seed_registry(self.registry, self.section.applications.seed)

    async def aclose(self) -> None:
        await self.registry.aclose()
        if self.limiter is not None:
            await self.limiter.aclose()

    async def admit(self, headers: Mapping[str, str], peer: str | None) -> Admission:
        """Authenticate the request from TCP peer ``peer`` and count its first operation."""
        client = self.addresses.resolve(peer, headers)
        credentials = headers.get("authorization")
        if credentials and self.limiter is not None:
            blocked = await self._counted(self.limiter.blocked(client))
            if blocked is not None:
                return _too_many_failures(blocked)
        try:
            principal = await self.authenticator.authenticate(
                credentials, headers.get(self._purpose)
            )
        except AuthenticationError as error:
            if error.code == "UNAUTHENTICATED" and self.limiter is not None:
                failed = await self._counted(self.limiter.failed(client))
                if failed is not None and not failed.allowed:
                    return _too_many_failures(failed)
            return Admission(
                status=401 if error.code == "UNAUTHENTICATED" else 503,
                body={"errors": [error.to_graphql_error()]},
                headers={"www-authenticate": 'Bearer error="invalid_token"'},
            )
        except RegistryError as error:
            logger.error("application registry unavailable: %s", error.message)
            return Admission(status=503, body={"errors": [error.to_graphql_error()]})
        return await self._charge(principal, client, 1)

    async def charge(
        self, principal: Principal | None, headers: Mapping[str, str], peer: str | None, n: int
    ) -> Admission:
        """Count ``n`` more operations of an admitted request (the rest of a batch)."""
        return await self._charge(principal, self.addresses.resolve(peer, headers), n)

    async def _charge(self, principal: Principal | None, client: str | None, n: int) -> Admission:
        if self.limiter is None or n <= 0:
            return Admission(principal=principal)
        authenticated = principal is not None and principal.authenticated
        application = principal.application if principal is not None and authenticated else None
        decision = await self._counted(self.limiter.hit(application, client, n))
        if decision is None or decision.allowed:
            return Admission(principal=principal)
        who = f'application "{application}"' if application else "anonymous callers"
        message = (
            f"rate limit of {decision.limit} operations per window exceeded for {who}; "
            f"retry after {decision.retry_after} s"
        )
        return _refusal(message, decision)

    @staticmethod
    async def _counted(count: Awaitable[_T]) -> _T | None:
        try:
            return await count
        except RateLimitUnavailableError as error:  # Redis down: availability over counting
            logger.warning("rate limiter unavailable, request admitted: %s", error)
            return None


def _too_many_failures(decision: Decision) -> Admission:
    message = (
        f"too many failed authentications from this address ({decision.limit} per window); "
        f"retry after {decision.retry_after} s"
    )
    return _refusal(message, decision)


def _refusal(message: str, decision: Decision) -> Admission:
    return Admission(
        status=429,
        body={"errors": [{"message": message, "extensions": {"code": RATE_LIMITED}}]},
        headers={"retry-after": str(decision.retry_after)},
    )
