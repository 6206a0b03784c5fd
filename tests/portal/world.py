"""The portal against the real thing: the five OPD subgraphs, a registry that published them and
``jamajama gateway --dev-auth`` processes in front (one with every subgraph, one with
``kesehatan`` pointing at a closed port), with CORS open to the portal's origin only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from tests.auth.harness import SUPERGRAPH, OpdWorld
from tests.browser.conftest import PUBLISH_ORDER, _listening
from tests.servers import serve

ROOT = Path(__file__).resolve().parents[2]
PORTAL_ORIGIN = "http://portal.example"


@dataclass
class PortalWorld:
    gateway: str
    gateway_down: str
    registry: str
    opd: OpdWorld


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/graphql"


@contextmanager
def gateway_process(state: Path, urls: dict[str, str], registry_url: str = "") -> Iterator[str]:
    """A dev-auth gateway process on ``urls`` (following ``registry_url`` when given)."""
    state.mkdir(parents=True, exist_ok=True)
    config = state / "gateway.toml"
    config.write_text(f'[registry_poll]\nurl = "{registry_url}"\n' if registry_url else "")
    routes = [a for n, u in urls.items() for a in ("--subgraph-url", f"{n}={u}")]
    log = state / "gateway.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JAMAJAMA_")},
        "JAMAJAMA_HTTP__CORS__ALLOW_ORIGINS": json.dumps([PORTAL_ORIGIN]),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gateway.cli", "gateway",
                "--supergraph", str(SUPERGRAPH), "--host", "127.0.0.1", "--port", "0",
                "--config", str(config), "--dev-auth", *routes,
            ],
            cwd=state, stdout=output, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        yield _listening(process, log)
    finally:
        process.terminate()
        process.wait(timeout=15)


@contextmanager
def portal_world(opd: OpdWorld, state: Path) -> Iterator[PortalWorld]:
    registry = Registry(RegistryStore.sqlite(state / "registry.sqlite3"))
    for name in PUBLISH_ORDER:
        sdl = (ROOT / "schema" / f"{name}.graphql").read_text()
        assert registry.publish(name, opd.urls[name], sdl, f"opd:{name}").accepted
    down = {**opd.urls, "kesehatan": closed_port_url()}
    with (
        serve(create_app(registry, {}, None)) as registry_url,
        gateway_process(state / "up", opd.urls, registry_url) as gateway,
        gateway_process(state / "down", down) as gateway_down,
    ):
        yield PortalWorld(gateway, gateway_down, registry_url, opd)
