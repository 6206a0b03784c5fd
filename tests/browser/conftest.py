"""Fixtures of the browser tests: the five OPD subgraphs (shared with the auth tests' harness), a
registry that has published them, and `jamajama gateway --dev-auth` in front of them, started
the way `jamajama dev` starts it (a process, on a free loopback port)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.auth.harness import SUPERGRAPH, OpdWorld, opd_world  # noqa: F401  (a fixture)
from tests.http.servers import serve

ROOT = Path(__file__).resolve().parents[2]
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
    """The registry (the five OPDs published, in order) and a dev-auth gateway linking to it."""
    state = tmp_path_factory.mktemp("front-door")
    registry = Registry(RegistryStore.sqlite(state / "registry.sqlite3"))
    for name in PUBLISH_ORDER:
        sdl = (ROOT / "schema" / f"{name}.graphql").read_text()
        result = registry.publish(name, opd_world.urls[name], sdl, f"opd:{name}")
        assert result.accepted, result.to_dict()
    with serve(create_app(registry, {}, None)) as registry_url:
        config = state / "gateway.toml"
        config.write_text(f'[registry_poll]\nurl = "{registry_url}"\n')
        routes = [a for n, u in opd_world.urls.items() for a in ("--subgraph-url", f"{n}={u}")]
        log = state / "gateway.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "gateway.cli", "gateway",
                    "--supergraph", str(SUPERGRAPH), "--host", "127.0.0.1", "--port", "0",
                    "--config", str(config), "--dev-auth", *routes,
                ],
                cwd=state,  # --dev-auth keeps its registry and audit log in ./var/dev
                stdout=output,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            yield FrontDoor(_listening(process, log), registry_url, opd_world)
        finally:
            process.terminate()
            process.wait(timeout=15)


def _listening(process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> str:
    """The gateway's base URL, once it prints that it listens (within ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(r"^Jama Jama gateway listening on (\S+)/graphql$", log.read_text(), re.M)
        if found:
            return found.group(1)
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the gateway did not start:\n{log.read_text()}")
