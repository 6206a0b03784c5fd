"""Assembling a secured gateway from configuration (``jamajama gateway``, ``jamajama dev``).

A supergraph that links the authorization specs gets the whole chain: token verification, the
application registry, rate limits, field-level authorization, masking and the audit log. A
supergraph without them has nothing to enforce and is served as is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse
from pydantic import SecretStr

from gateway.audit.config import AuditSection
from gateway.audit.log import open_audit_log
from gateway.auth.access import AccessControl
from gateway.auth.applications import create_registry
from gateway.auth.config import ApplicationsSection, AuthSection, JwtSection
from gateway.auth.demo import DEMO_APPLICATIONS, DEV_AUDIENCE, DEV_ISSUER, DEV_SECRET
from gateway.auth.guard import HttpGuard
from gateway.config import Settings
from gateway.engine import Gateway
from gateway.ratelimit.limiter import RateLimiter
from gateway.supergraph import load_supergraph
from gateway.supergraph.links import AUTHORIZATION_FEATURES, read_links


def links_authorization(sdl: str) -> bool:
    """Whether the supergraph links @authenticated, @requiresScopes or @policy."""
    try:
        features = read_links(parse(sdl, no_location=True))
    except GraphQLError:
        return False
    return any(f.identity in AUTHORIZATION_FEATURES for f in features)


def secure_gateway(sdl: str, settings: Settings, **options: Any) -> tuple[Gateway, HttpGuard]:
    """A gateway with access control and the HTTP guard in front of it."""
    supergraph = load_supergraph(sdl, authorization_enforced=True)
    audit = open_audit_log(settings.audit) if settings.audit.enabled else None
    access = AccessControl(
        supergraph,
        settings.auth,
        audit,
        subject_fields=settings.audit.subject_fields,
        fail_closed=settings.audit.fail_closed,
    )
    gateway = Gateway(supergraph, access=access, **options)
    limiter = RateLimiter(settings.rate_limit) if settings.rate_limit.enabled else None
    guard = HttpGuard(settings.auth, create_registry(settings.auth.applications), limiter)
    return gateway, guard


def dev_settings(base: Settings, state_dir: Path) -> Settings:
    """``base`` with the development token secret and the demo applications (never production)."""
    auth: AuthSection = base.auth.model_copy(
        update={
            "jwt": JwtSection(
                secret=SecretStr(DEV_SECRET),
                issuer=DEV_ISSUER,
                audience=DEV_AUDIENCE,
            ),
            "applications": ApplicationsSection(
                sqlite_path=state_dir / "applications.sqlite3", seed=list(DEMO_APPLICATIONS)
            ),
        }
    )
    audit = AuditSection(sqlite_path=state_dir / "audit.sqlite3")
    return base.model_copy(update={"auth": auth, "audit": audit})
