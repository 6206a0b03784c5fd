"""The purpose records (``gateway.auth.applications.Purpose``) the Katalog shows next to the
fields they open: read from the same application registry as the gateway and ``jamajama token``
(the demo purposes in development when no store is configured)."""

from __future__ import annotations

from typing import Any

from gateway.auth.applications import Purpose, create_registry
from gateway.auth.config import ApplicationsSection
from gateway.auth.demo import DEMO_PURPOSES
from gateway.portal.config import PortalSettings


def applications_section(store: str) -> ApplicationsSection:
    """A PostgreSQL DSN or a SQLite path, as the registry's settings."""
    if store.startswith(("postgres://", "postgresql://")):
        return ApplicationsSection(backend="postgres", postgres_url=store)
    return ApplicationsSection(sqlite_path=store)  # type: ignore[arg-type]


async def load_purposes(settings: PortalSettings) -> list[Purpose]:
    """Every purpose an application in the registry names, by id."""
    if not settings.applications_store:
        return [Purpose.from_seed(s) for s in DEMO_PURPOSES] if settings.dev else []
    registry = create_registry(applications_section(settings.applications_store))
    try:
        ids = sorted({p for app in await registry.list() for p in app.purposes})
        found = [await registry.purpose(i) for i in ids]
    finally:
        await registry.aclose()
    return [p for p in found if p is not None]


def purposes_opening(field: dict[str, Any], purposes: list[Purpose]) -> list[Purpose]:
    """The purposes whose approvals satisfy the field's guards: one of its scope groups and one
    of its policy groups (a catalogue field: ``scopes``/``policies`` as lists of AND-groups)."""

    def satisfied(groups: list[list[str]], granted: frozenset[str]) -> bool:
        return not groups or any(set(group) <= granted for group in groups)

    if not field.get("policies") and not field.get("scopes"):
        return []
    return [
        purpose
        for purpose in purposes
        if any(
            satisfied(field["scopes"], scopes) and satisfied(field["policies"], policies)
            for scopes, policies in purpose.approvals.values()
        )
    ]
