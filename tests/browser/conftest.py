"""Fixtures of the browser tests: Debian's chromium, the five OPD subgraphs (shared with the auth
tests' harness), a registry that has published them and a gateway with development auth."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.auth.setup import dev_settings, secure_gateway
from gateway.config import Settings
from gateway.http.setup import HttpServices
from gateway.registry.config import RegistryPollSection
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.auth.harness import SUPERGRAPH, OpdWorld, opd_world  # noqa: F401  (a fixture)
from tests.http.servers import serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: publish order: each subgraph only extends entities of those before it
PUBLISH_ORDER = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")


def screenshot_dir() -> Path | None:
    """``JAMAJAMA_SCREENSHOTS=docs/img pytest tests/browser`` refreshes the docs' screenshots."""
    value = os.environ.get("JAMAJAMA_SCREENSHOTS")
    return Path(value) if value else None


def readme_case_query() -> str:
    """The README's cross-agency case ("this resident, their family, ..."), as written there."""
    blocks = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return next(b for b in blocks if "penduduk(nik: $nik)" in b)


@dataclass
class FrontDoor:
    gateway: str
    registry: str
    world: OpdWorld


@pytest.fixture(scope="module")
def front_door(
    opd_world: OpdWorld,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FrontDoor]:
    """The registry (the five OPDs published, in order) and a dev-auth gateway pointing at it."""
    state = tmp_path_factory.mktemp("front-door")
    registry = Registry(RegistryStore.sqlite(state / "registry.sqlite3"))
    for name in PUBLISH_ORDER:
        sdl = (ROOT / "schema" / f"{name}.graphql").read_text()
        result = registry.publish(name, opd_world.urls[name], sdl, f"opd:{name}")
        assert result.accepted, result.to_dict()
    with serve(create_app(registry, {}, None)) as registry_url:
        settings = dev_settings(
            Settings(registry_poll=RegistryPollSection(url=registry_url, cache_path=None)), state
        )
        services = HttpServices.from_settings(settings)
        gateway, guard = secure_gateway(
            SUPERGRAPH.read_text(),
            settings,
            subgraph_urls=opd_world.urls,
            **services.gateway_options(),
        )
        with serve(services.app(gateway, guard)) as gateway_url:
            yield FrontDoor(gateway_url, registry_url, opd_world)
