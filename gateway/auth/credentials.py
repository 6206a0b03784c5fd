"""Consumer-application credentials: keys the application registry issues, rotates and revokes.

An application that does not get its tokens from the identity provider authenticates with a key
issued here (``Authorization: Bearer jjk_<id>_<secret>``). The registry keeps only the SHA-256 of
the secret (the secret is 256 random bits: no slow hash needed) with the credential's creation,
expiry and revocation instants. A rotation issues a new key and sets the old ones to expire after
a grace period, so the consumer can deploy the new key without an outage; after the grace only
the new key is accepted. The check is made on every request (one indexed read), so a revocation
or an expiry takes effect at the consumer's next request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.auth.errors import AuthenticationError

PREFIX = "jjk_"
_KEY = re.compile(r"^jjk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


def is_key(token: str) -> bool:
    """Whether a bearer token is one of our keys (by its prefix), not an identity-provider JWT."""
    return token.startswith(PREFIX)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class Credential:
    """One key of one application (the secret itself is never stored)."""

    id: str
    application: str
    secret_hash: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def state(self, now: datetime) -> str:
        """``active``, ``grace`` (valid, with an expiry), ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None:
            return "grace" if now < self.expires_at else "expired"
        return "active"

    def expiring(self, at: datetime) -> Credential:
        """This credential ending at ``at`` at the latest (an earlier end is kept)."""
        if self.expires_at is not None and self.expires_at <= at:
            return self
        return replace(self, expires_at=at)

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, _hash(secret))

    @classmethod
    def from_row(cls, values: tuple[Any, ...]) -> Credential:
        cred_id, application, secret_hash, created_at, created_by, expires_at, revoked_at = values
        created = _time(created_at)
        assert created is not None
        return cls(
            cred_id,
            application,
            secret_hash,
            created,
            created_by,
            _time(expires_at),
            _time(revoked_at),
        )

    def row(self) -> tuple[Any, ...]:
        return (
            self.id,
            self.application,
            self.secret_hash,
            self.created_at.isoformat(),
            self.created_by,
            _iso(self.expires_at),
            _iso(self.revoked_at),
        )


def issue(application: str, now: datetime, created_by: str) -> tuple[Credential, str]:
    """A new credential for ``application`` and its key (shown once, never stored)."""
    cred_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    credential = Credential(cred_id, application, _hash(secret), now, created_by)
    return credential, f"{PREFIX}{cred_id}_{secret}"


def parse(key: str) -> tuple[str, str]:
    """(credential id, secret) of a key; ``AuthenticationError`` when it is not well formed."""
    found = _KEY.match(key)
    if found is None:
        raise AuthenticationError("the application key is malformed")
    return found.group(1), found.group(2)


def check(credential: Credential | None, secret: str, now: datetime) -> Credential:
    """The credential a key presents, if it is usable now; else ``AuthenticationError``. The same
    message for an unknown id and a wrong secret (no probing for ids)."""
    if credential is None or not credential.matches(secret):
        raise AuthenticationError("the application key is not recognised")
    if credential.revoked_at is not None:
        raise AuthenticationError("the application key has been revoked")
    if not credential.valid_at(now):
        raise AuthenticationError("the application key has expired (it was rotated)")
    return credential
