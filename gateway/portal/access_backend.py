"""The stores behind the Pengajuan akses and Audit pages: the same access requests, application
registry and audit log as the gateway and ``jamajama access``/``jamajama audit``.

The portal reads the gateway's own configuration (``JAMAJAMA_PORTAL_GATEWAY_CONFIG``: the TOML
file; in development ``jamajama dev``'s stores under ``var/dev``) so that the keys (the audit
subject key to search a NIK, the signing key to verify) and the databases are the gateway's,
never a copy. Tests install a backend directly (``install``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request

from gateway.access_requests.service import AccessRequests
from gateway.audit.alerts import AlertRules
from gateway.audit.log import AuditLog

if TYPE_CHECKING:
    from gateway.config import Settings

CONFIG_ENV = "JAMAJAMA_PORTAL_GATEWAY_CONFIG"


@dataclass
class AccessBackend:
    requests: AccessRequests
    audit: AuditLog
    rules: AlertRules = field(default_factory=AlertRules)


def install(app: Starlette, backend: AccessBackend) -> None:
    app.state.access_backend = backend


async def backend(request: Request) -> AccessBackend:
    """The installed backend, or the one opened from the gateway's configuration (once)."""
    found = getattr(request.app.state, "access_backend", None)
    if isinstance(found, AccessBackend):
        return found
    made = await _open(request.app.state.portal.settings.dev)
    install(request.app, made)
    return made


async def _open(dev: bool) -> AccessBackend:
    from gateway.config import dev_settings, load_settings

    path = os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(path) if path else None)
    if dev and not path:
        settings = dev_settings(settings, Path("var/dev"))
    return await open_backend(settings, production=not dev)


async def open_backend(settings: Settings, *, production: bool = True) -> AccessBackend:
    """The stores of the gateway configured by ``settings`` (registry seeded, grants applied)."""
    from gateway.access_requests.store import AccessRequestStore
    from gateway.audit.log import open_audit_log
    from gateway.auth.applications import create_registry, seed_registry

    section = settings.auth.applications
    registry = create_registry(section)
    await seed_registry(registry, section.seed)
    audit = open_audit_log(settings.audit, production=production)
    service = AccessRequests(AccessRequestStore.open(section), registry, audit)
    await service.apply()
    return AccessBackend(service, audit)
