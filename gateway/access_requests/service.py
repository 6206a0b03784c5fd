"""The access-request workflow and how its decisions take effect in the application registry.

Approving, revoking or expiring a part rewrites the consumer's registry record (its scopes and
purposes) and the purpose records' approvals for the consumer's OPD, from the configured baseline
plus the grants in force: the gateway reads the registry on every request (no cache), so the
consumer's next request sees the change. A grant with an end date is written with its end instant
(``Application.expiring``): the gateway stops counting it at the first request after that instant,
without waiting for the sweep (``apply``), which then only tidies the record. Every step is a
decision record in the audit log (``operation_type = "access_decision"``), not a data-access record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.access_requests.model import (
    AccessRequest,
    AccessRequestError,
    AccessRequestForbidden,
    AccessRequestNotFound,
    Part,
    Status,
    owner_of,
)
from gateway.access_requests.store import AccessRequestStore
from gateway.audit.log import AuditLog
from gateway.audit.records import AuditEvent
from gateway.auth.applications import Application, ApplicationRegistry, Grant
from gateway.auth.config import ApplicationsSection

#: the policy a granted personal-data scope needs with it (docs/access.md)
PERSONAL_POLICIES = ("data_pribadi",)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, and the data-owning OPD it administers (``owner``), if any.
    ``operator``: the Diskominfo operator, who may revoke any part."""

    user: str
    owner: str | None = None
    operator: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


class AccessRequests:
    """Create, decide and apply access requests (the CLI and the portal share this)."""

    def __init__(
        self,
        store: AccessRequestStore,
        registry: ApplicationRegistry,
        audit: AuditLog | None = None,
        *,
        clock: Callable[[], datetime] = _now,
        personal_policies: Iterable[str] = PERSONAL_POLICIES,
    ) -> None:
        self.store = store
        self.registry = registry
        self.audit = audit
        self._clock = clock
        self._policies = frozenset(personal_policies)

    async def request(
        self,
        application: str,
        scopes: Iterable[str],
        purposes: Iterable[str],
        *,
        requested_by: str,
        note: str = "",
        valid_until: datetime | None = None,
    ) -> AccessRequest:
        """A new request, split into one pending part per data-owning OPD."""
        now = self._clock()
        app = await self.registry.get(application)
        if app is None or app.revoked:
            raise AccessRequestError(f'application "{application}" is not registered or revoked')
        wanted = frozenset(s.strip() for s in scopes if s.strip())
        reasons = frozenset(p.strip() for p in purposes if p.strip())
        if not wanted:
            raise AccessRequestError("request at least one scope")
        if not reasons:
            raise AccessRequestError("state at least one purpose (a purpose record id)")
        for purpose_id in sorted(reasons):
            record = await self.registry.purpose(purpose_id)
            if record is None:
                raise AccessRequestError(f'purpose "{purpose_id}" is not a recorded purpose')
            if not record.valid_on(now.date()):
                raise AccessRequestError(f'purpose "{purpose_id}" is not valid today')
        if valid_until is not None and valid_until <= now:
            raise AccessRequestError("valid_until must be in the future")
        owners: dict[str, set[str]] = {}
        for scope in sorted(wanted):
            owners.setdefault(owner_of(scope), set()).add(scope)
        request = AccessRequest(
            id="AR-" + uuid.uuid4().hex[:10],
            application=application,
            purposes=reasons,
            requested_by=requested_by,
            note=note.strip(),
            created_at=now,
            valid_until=valid_until,
            parts=tuple(Part(o, frozenset(s)) for o, s in sorted(owners.items())),
        )
        await self.store.add(request)
        await self._record(request, None, "requested", requested_by, note)
        return request

    async def approve(
        self, request_id: str, owner: str, actor: Actor, reason: str
    ) -> AccessRequest:
        return await self._decide(request_id, owner, actor, reason, "approved", ("pending",))

    async def reject(self, request_id: str, owner: str, actor: Actor, reason: str) -> AccessRequest:
        return await self._decide(request_id, owner, actor, reason, "rejected", ("pending",))

    async def revoke(self, request_id: str, owner: str, actor: Actor, reason: str) -> AccessRequest:
        return await self._decide(
            request_id, owner, actor, reason, "revoked", ("pending", "approved")
        )

    async def _decide(
        self,
        request_id: str,
        owner: str,
        actor: Actor,
        reason: str,
        status: Status,
        only_from: tuple[Status, ...],
    ) -> AccessRequest:
        request = await self.get(request_id)
        part = request.part(owner)
        allowed = actor.owner == owner or (status == "revoked" and actor.operator)
        if not allowed:
            raise AccessRequestForbidden(
                f'only the admin of OPD "{owner}" may decide this part of request "{request_id}"'
            )
        if not reason.strip():
            raise AccessRequestError("a decision needs a reason")
        now = self._clock()
        if status == "approved" and request.expired(now):
            raise AccessRequestError(f'request "{request_id}" has expired')
        changed = await self.store.decide(
            request_id, owner, status, reason.strip(), actor.user, now, only_from=only_from
        )
        if not changed:
            raise AccessRequestError(
                f'the part of OPD "{owner}" is {part.status}: it cannot become {status}'
            )
        decided = await self.get(request_id)
        await self.apply()
        await self._record(decided, decided.part(owner), status, actor.user, reason)
        return decided

    async def get(self, request_id: str) -> AccessRequest:
        request = await self.store.get(request_id)
        if request is None:
            raise AccessRequestNotFound(f'no access request "{request_id}"')
        return request

    async def list(
        self, *, application: str | None = None, owner: str | None = None
    ) -> list[AccessRequest]:
        found = await self.store.list(application=application)
        if owner is not None:
            found = [r for r in found if any(p.owner == owner for p in r.parts)]
        return found

    async def apply(self) -> None:
        """Write the grants in force now into the registry (also the expiry sweep: run it on a
        schedule, e.g. ``jamajama access apply`` from cron, and after the registry is seeded)."""
        now = self._clock()
        requests = await self.store.list()
        apps: dict[str, Application] = {}
        for request in requests:
            if request.application not in apps:
                app = await self.registry.get(request.application)
                if app is not None:
                    apps[app.id] = app
        granted: dict[str, set[str]] = {}
        purposes: dict[str, set[str]] = {}
        ending: dict[str, list[Grant]] = {}
        by_purpose: dict[tuple[str, str], set[str]] = {}
        for request in requests:
            app = apps.get(request.application)
            if app is None:
                continue
            granted.setdefault(app.id, set())
            purposes.setdefault(app.id, set())
            ending.setdefault(app.id, [])
            active = request.active_scopes(now)
            for purpose_id in request.purposes:
                by_purpose.setdefault((purpose_id, app.opd), set()).update(active)
            if active and request.valid_until is not None:
                ending[app.id].append(Grant(request.valid_until, active, request.purposes))
            elif active:
                granted[app.id] |= active
                purposes[app.id] |= request.purposes
        for app_id, app in apps.items():
            base = await self.store.baseline(
                "application",
                app_id,
                {"scopes": sorted(app.scopes), "purposes": sorted(app.purposes)},
            )
            await self.registry.put(
                dataclasses.replace(
                    app,
                    scopes=frozenset(base["scopes"]) | granted[app_id],
                    purposes=frozenset(base["purposes"]) | purposes[app_id],
                    expiring=tuple(sorted(ending[app_id], key=lambda g: g.until)),
                )
            )
        for (purpose_id, opd), scopes in sorted(by_purpose.items()):
            await self._apply_purpose(purpose_id, opd, scopes)

    async def _apply_purpose(self, purpose_id: str, opd: str, scopes: set[str]) -> None:
        record = await self.registry.purpose(purpose_id)
        if record is None:
            return
        current = record.approvals.get(opd)
        base = await self.store.baseline(
            "purpose",
            f"{purpose_id}\x1f{opd}",
            None
            if current is None
            else {"scopes": sorted(current[0]), "policies": sorted(current[1])},
        )
        approvals = dict(record.approvals)
        base_scopes = frozenset(base["scopes"]) if base else frozenset[str]()
        base_policies = frozenset(base["policies"]) if base else frozenset[str]()
        if scopes:
            approvals[opd] = (base_scopes | scopes, base_policies | self._policies)
        elif base is None:
            approvals.pop(opd, None)
        else:
            approvals[opd] = (base_scopes, base_policies)
        if approvals != record.approvals:
            await self.registry.put_purpose(dataclasses.replace(record, approvals=approvals))

    async def _record(
        self, request: AccessRequest, part: Part | None, action: str, user: str, reason: str
    ) -> None:
        if self.audit is None:
            return
        scopes = part.scopes if part else frozenset(s for p in request.parts for s in p.scopes)
        decision = {
            "request": request.id,
            "owner": part.owner if part else None,
            "action": action,
            "scopes": sorted(scopes),
            "purposes": sorted(request.purposes),
            "reason": reason.strip(),
            "valid_until": request.valid_until.isoformat() if request.valid_until else None,
        }
        body = json.dumps(decision, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        await self.audit.append(
            AuditEvent(
                time=self._clock().isoformat(timespec="milliseconds"),
                request_id=request.id,
                application=request.application,
                opd=part.owner if part else None,
                user=user,
                purpose=",".join(sorted(request.purposes)),
                operation_name=f"access.{action}",
                operation_type="access_decision",
                document_hash=hashlib.sha256(body.encode()).hexdigest(),
                fields=tuple(sorted(scopes)),
                outcome=action,
            )
        )


async def reapply_grants(registry: ApplicationRegistry, section: ApplicationsSection) -> None:
    """Write the grants in force over what seeding the configured applications just reset (the
    seed is the baseline; grants are added to it). An embedded store not created yet has none."""
    if section.backend == "sqlite" and not Path(section.sqlite_path).exists():
        return
    store = AccessRequestStore.open(section)
    try:
        await AccessRequests(store, registry).apply()
    finally:
        await store.aclose()
