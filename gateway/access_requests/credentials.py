"""Rotating and revoking a consumer application's credentials (the CLI and the Operator page).

A rotation issues a new key and sets every key still valid to end after a grace period (default
24 hours, at most 30 days; 0 ends them at once): the consumer deploys the new key meanwhile, and
the gateway accepts both until the grace ends, only the new one after. A revocation ends one key
at once. Each step is a decision record in the audit log (``operation_type = "access_decision"``,
``credential.rotated`` / ``credential.revoked``), naming the credential ids, never a secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from gateway.access_requests.model import AccessRequestError, AccessRequestNotFound
from gateway.audit.log import AuditLog
from gateway.audit.records import AuditEvent
from gateway.auth.applications import ApplicationRegistry
from gateway.auth.credentials import Credential, issue

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Rotation:
    """A rotation's outcome: the new credential, its key (shown once), the keys now ending."""

    credential: Credential
    key: str
    ending: tuple[Credential, ...]


def _now() -> datetime:
    return datetime.now(UTC)


class Credentials:
    """Issue, rotate, revoke and list the keys of consumer applications."""

    def __init__(
        self,
        registry: ApplicationRegistry,
        audit: AuditLog | None = None,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.registry = registry
        self.audit = audit
        self._clock = clock

    async def of(self, application: str) -> list[Credential]:
        return await self.registry.credentials(application)

    async def rotate(
        self, application: str, user: str, grace: timedelta = DEFAULT_GRACE
    ) -> Rotation:
        """A new key for ``application``; its valid keys end ``grace`` from now."""
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise AccessRequestError("the grace period must be between 0 and 30 days")
        app = await self.registry.get(application)
        if app is None or app.revoked:
            raise AccessRequestError(f'application "{application}" is not registered or revoked')
        now = self._clock()
        ending = []
        for old in await self.registry.credentials(application):
            if old.valid_at(now):
                ended = old.expiring(now + grace)
                await self.registry.put_credential(ended)
                ending.append(ended)
        credential, key = issue(application, now, user)
        await self.registry.put_credential(credential)
        details = [f"new={credential.id}", f"grace_seconds={int(grace.total_seconds())}"]
        details += [f"ending={c.id}@{c.expires_at.isoformat()}" for c in ending if c.expires_at]
        await self._record(application, user, "rotated", details)
        return Rotation(credential, key, tuple(ending))

    async def revoke(self, credential_id: str, user: str, reason: str) -> Credential:
        """End one key now."""
        if not reason.strip():
            raise AccessRequestError("a revocation needs a reason")
        found = await self.registry.credential(credential_id)
        if found is None:
            raise AccessRequestNotFound(f'no credential "{credential_id}"')
        if found.revoked_at is not None:
            raise AccessRequestError(f'credential "{credential_id}" is already revoked')
        revoked = replace(found, revoked_at=self._clock())
        await self.registry.put_credential(revoked)
        details = [f"revoked={found.id}", f"reason={reason.strip()}"]
        await self._record(found.application, user, "revoked", details)
        return revoked

    async def _record(self, application: str, user: str, action: str, details: list[str]) -> None:
        """The decision record: which keys (ids, never secrets), by whom, in ``fields``."""
        if self.audit is None:
            return
        body = json.dumps([application, action, *details], separators=(",", ":"))
        await self.audit.append(
            AuditEvent(
                time=self._clock().isoformat(timespec="milliseconds"),
                request_id=None,
                application=application,
                opd=None,
                user=user,
                purpose=None,
                operation_name=f"credential.{action}",
                operation_type="access_decision",
                document_hash=hashlib.sha256(body.encode()).hexdigest(),
                fields=tuple(details),
                outcome=action,
            )
        )
