"""Fixtures of the portal tests: the portal served on a loopback port, and a client signed in
through the development role picker."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from gateway.portal.app import create_app
from gateway.portal.config import PortalSettings
from tests.auth.harness import OpdWorld, opd_world  # noqa: F401  (a fixture)
from tests.portal.world import PortalWorld, portal_world
from tests.servers import serve

SECRET = "portal-test-session-secret-0123456789abcdef"


def csrf_of(html: str) -> str:
    """The CSRF token a rendered page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, persona: str) -> None:
    """Sign ``client`` in through the development role picker as ``persona``."""
    token = csrf_of(client.get("/masuk").text)
    response = client.post("/masuk/dev", data={"csrf": token, "persona": persona, "lanjut": "/"})
    assert response.status_code == 303, response.text


@pytest.fixture(scope="session")
def world(
    opd_world: OpdWorld,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PortalWorld]:
    """The subgraphs, a registry and two gateway processes (see tests/portal/world.py)."""
    with portal_world(opd_world, tmp_path_factory.mktemp("portal")) as w:
        yield w


def portal_for(gateway: str, registry: str) -> PortalSettings:
    return PortalSettings(
        gateway_url=gateway, registry_url=registry, session_secret=SECRET, dev=True
    )


@pytest.fixture
def portal_settings() -> PortalSettings:
    """Override in a test module to point the portal at a gateway or registry."""
    return PortalSettings(session_secret=SECRET, dev=True)


@pytest.fixture
def portal_url(portal_settings: PortalSettings) -> Iterator[str]:
    with serve(create_app(portal_settings)) as url:
        yield url


@pytest.fixture
def client(portal_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal_url, timeout=10.0) as c:
        yield c


@pytest.fixture
def signed_in(client: httpx.Client) -> Callable[[str], httpx.Client]:
    def as_persona(persona: str) -> httpx.Client:
        sign_in(client, persona)
        return client

    return as_persona
