"""Who is calling: the verified identity of one request, and the grants authorization reads.

A ``Principal`` is built from a verified token plus the consumer-application registry. Scopes are
least privilege: a token's scopes count only where the application is approved for them, and
under a declared purpose only those the purpose approves for the application's OPD.
``Grants`` is the part of a principal that decides authorization; it is hashable, so the filtered
operation and its query plan are cached per grants, never shared by callers with other rights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request. ``authenticated`` means: a valid token of a registered app."""

    authenticated: bool = False
    application: str | None = None
    opd: str | None = None
    user: str | None = None
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    #: purposes the application is approved for (from the registry)
    approved_purposes: frozenset[str] = frozenset()
    #: the purpose declared for this request (header), if any
    purpose: str | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, compare=False, hash=False)
    #: why a presented token gives only anonymous access (unregistered or revoked application)
    downgraded: str | None = None
    #: per approved purpose: (scopes, policies) it opens for this application's OPD
    purpose_approvals: Mapping[str, tuple[frozenset[str], frozenset[str]]] = field(
        default_factory=lambda: _EMPTY, compare=False, hash=False
    )
    #: every scope the application holds, whatever the purpose (``scopes`` is narrowed by it)
    held_scopes: frozenset[str] | None = None

    def with_purpose(self, purpose: str | None) -> Principal:
        """The same principal declaring ``purpose`` (blank means none).

        An approved purpose narrows ``scopes`` to what it approves: a purpose opens only the
        categories of data it was approved for, not every scope the application holds.
        """
        purpose = (purpose or "").strip() or None
        held = self.scopes if self.held_scopes is None else self.held_scopes
        scopes = held
        approval = self.purpose_approvals.get(purpose) if purpose is not None else None
        if approval is not None and purpose in self.approved_purposes:
            scopes = held & approval[0]
        return Principal(
            authenticated=self.authenticated,
            application=self.application,
            opd=self.opd,
            user=self.user,
            scopes=scopes,
            roles=self.roles,
            approved_purposes=self.approved_purposes,
            purpose=purpose,
            claims=self.claims,
            downgraded=self.downgraded,
            purpose_approvals=self.purpose_approvals,
            held_scopes=held,
        )

    def purpose_opens(self, policy: str) -> bool:
        """Whether the declared purpose approves ``policy`` (recorded purposes only)."""
        approval = self.purpose_approvals.get(self.purpose) if self.purpose else None
        return approval is None or policy in approval[1]

    @property
    def purpose_approved(self) -> bool:
        return self.purpose is not None and self.purpose in self.approved_purposes


ANONYMOUS = Principal()


@dataclass(frozen=True, slots=True)
class Grants:
    """What authorization decisions depend on: computed once per request from the principal.

    ``policies`` maps each policy name used by the supergraph to ``None`` (granted) or the reason it
    is refused, so errors can say why.
    """

    authenticated: bool
    scopes: frozenset[str]
    policies: tuple[tuple[str, str | None], ...]
    introspection: bool = True

    def policy_granted(self, name: str) -> bool:
        return dict(self.policies).get(name, "unknown policy") is None

    def policy_reason(self, name: str) -> str | None:
        return dict(self.policies).get(name, f'policy "{name}" is not configured')
