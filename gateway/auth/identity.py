"""From an ``Authorization`` header and a purpose header to a ``Principal``.

Which claims carry the application, OPD, user, scopes and roles is configuration (OIDC providers
differ). The registry decides what the named application may do: a token's scopes count only where
the application is approved for them; an unregistered or revoked application is anonymous. The
record is taken as it stands at the request's instant (``Application.in_force``): a grant whose
validity has ended no longer counts, without waiting for the expiry sweep.

An application may instead present a key the registry issued (``gateway.auth.credentials``): it
is checked against the registry on every request (rotated keys end after their grace period), and
the application then holds exactly the scopes the registry approves for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from gateway.auth import credentials
from gateway.auth.applications import Application, ApplicationRegistry
from gateway.auth.config import AuthSection, ClaimsSection
from gateway.auth.policies import claim
from gateway.auth.principal import ANONYMOUS, Principal
from gateway.auth.tokens import TokenVerifier, bearer_token


def _first(claims: Mapping[str, Any], paths: Sequence[str]) -> Any:
    for path in paths:
        value = claim(claims, path)
        if value is not None:
            return value
    return None


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value)
    return frozenset()


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def claims_principal(claims: Mapping[str, Any], mapping: ClaimsSection) -> Principal:
    """What the token says, before the registry has a word (scopes not yet narrowed)."""
    return Principal(
        authenticated=False,
        application=_text(_first(claims, mapping.application)),
        opd=_text(_first(claims, mapping.opd)),
        user=_text(_first(claims, mapping.user)),
        scopes=_strings(_first(claims, mapping.scopes)),
        roles=_strings(_first(claims, mapping.roles)),
        claims=MappingProxyType(dict(claims)),
    )


class Authenticator:
    """Turns request credentials into a principal; raises ``AuthenticationError`` (401)."""

    def __init__(
        self,
        section: AuthSection,
        registry: ApplicationRegistry,
        verifier: TokenVerifier | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._section = section
        self._registry = registry
        self._verifier = verifier or TokenVerifier(section.jwt)
        self._clock = clock

    async def authenticate(
        self, authorization: str | None, purpose: str | None = None
    ) -> Principal:
        token = bearer_token(authorization)
        if token is None:
            return ANONYMOUS.with_purpose(purpose)
        by_key = credentials.is_key(token)
        if by_key:
            said = await self._key_principal(token)
        else:
            claims = await self._verifier.verify(token)
            said = claims_principal(claims, self._section.claims)
        if said.application is None:
            return _downgrade(said, "the token names no consumer application").with_purpose(purpose)
        application = await self._registry.get(said.application)
        if application is None:
            reason = f'application "{said.application}" is not registered'
            return _downgrade(said, reason).with_purpose(purpose)
        if application.revoked:
            reason = f'application "{said.application}" has been revoked'
            return _downgrade(said, reason).with_purpose(purpose)
        current = application.in_force(self._clock())
        if by_key:  # a key asks for every scope the registry approves (narrowed as for a token)
            said = dataclasses.replace(said, scopes=current.scopes)
        return await self._principal(said, current, purpose)

    async def _key_principal(self, key: str) -> Principal:
        """Who a registry-issued key names; ``AuthenticationError`` if it is not usable now."""
        credential_id, secret = credentials.parse(key)
        found = credentials.check(
            await self._registry.credential(credential_id), secret, self._clock()
        )
        return Principal(
            authenticated=False,
            application=found.application,
            claims=MappingProxyType({"credential": found.id}),
        )

    async def _principal(
        self, said: Principal, application: Application, purpose: str | None
    ) -> Principal:
        opd = application.opd or said.opd
        approvals = await self._approvals(application.purposes, opd or "")
        return Principal(
            authenticated=True,
            application=application.id,
            opd=opd,
            user=said.user,
            scopes=said.scopes & application.scopes,
            roles=said.roles,
            approved_purposes=frozenset(approvals),
            claims=said.claims,
            purpose_approvals=MappingProxyType(approvals),
        ).with_purpose(purpose)

    async def _approvals(
        self, purposes: frozenset[str], opd: str
    ) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        """The application's purposes that are recorded, valid today and approve its OPD."""
        today = date.today()
        approvals = {}
        for purpose_id in sorted(purposes):
            record = await self._registry.purpose(purpose_id)
            approval = record.approved_for(opd, today) if record is not None else None
            if approval is not None:
                approvals[purpose_id] = approval
        return approvals


def _downgrade(said: Principal, reason: str) -> Principal:
    """Anonymous access, remembering who the token claimed to be (for the audit log)."""
    return Principal(
        authenticated=False,
        application=said.application,
        opd=said.opd,
        user=said.user,
        claims=said.claims,
        downgraded=reason,
    )
