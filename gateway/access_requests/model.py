"""An access request and its parts: one part per data-owning OPD, decided by that OPD alone.

A scope names its owner before the colon (``kependudukan:read`` belongs to ``kependudukan``):
the request is split by owner so that each OPD admin approves or rejects only the scopes of
its own data. A part is active while approved and the request has not expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gateway.errors import GatewayError

Status = Literal["pending", "approved", "rejected", "revoked"]


class AccessRequestError(GatewayError):
    """A request or decision that cannot be accepted (unknown record, wrong OPD, bad input)."""

    code = "ACCESS_REQUEST_INVALID"


class AccessRequestForbidden(AccessRequestError):
    """The acting OPD admin does not own the part it tries to decide."""

    code = "ACCESS_REQUEST_FORBIDDEN"


class AccessRequestNotFound(AccessRequestError):
    code = "ACCESS_REQUEST_NOT_FOUND"


def owner_of(scope: str) -> str:
    """The data-owning OPD key of ``scope`` (the part before ``:``)."""
    owner, sep, action = scope.partition(":")
    if not sep or not owner or not action:
        raise AccessRequestError(f'scope "{scope}" is not of the form <opd>:<action>')
    return owner


@dataclass(frozen=True, slots=True)
class Part:
    """The scopes of one owning OPD, and that OPD's decision."""

    owner: str
    scopes: frozenset[str]
    status: Status = "pending"
    reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Scopes requested by ``application`` for ``purposes`` (purpose record ids)."""

    id: str
    application: str
    purposes: frozenset[str]
    requested_by: str
    note: str
    created_at: datetime
    valid_until: datetime | None
    parts: tuple[Part, ...]

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and now >= self.valid_until

    def active_scopes(self, now: datetime) -> frozenset[str]:
        """Scopes in force now: approved parts of a request that has not expired."""
        if self.expired(now):
            return frozenset()
        return frozenset(s for p in self.parts if p.status == "approved" for s in p.scopes)

    def part(self, owner: str) -> Part:
        for part in self.parts:
            if part.owner == owner:
                return part
        raise AccessRequestNotFound(f'request "{self.id}" has no part for OPD "{owner}"')

    def state(self, now: datetime) -> str:
        """One word for lists: pending while any part waits, else expired/approved/…"""
        statuses = {p.status for p in self.parts}
        if "pending" in statuses:
            return "pending"
        if self.expired(now) and "approved" in statuses:
            return "expired"
        if "approved" in statuses:
            return "approved"
        return "revoked" if "revoked" in statuses else "rejected"
