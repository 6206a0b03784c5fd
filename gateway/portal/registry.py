"""The schema registry's client as the portal uses it (read-only, no token)."""

from __future__ import annotations

from gateway.portal.config import PortalSettings
from gateway.registry.client import RegistryClient


def registry_client(settings: PortalSettings) -> RegistryClient:
    return RegistryClient(settings.registry_url, timeout=10.0)
