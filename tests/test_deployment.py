"""docker-compose.yml, the Dockerfile and deploy/*.toml agree with the code (no engine needed).

`docker compose config` cannot run in CI (no engine); these checks catch what it would not either:
a command the CLI does not know, a configuration key that does not exist, a routing URL pointing
at no service.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import build_parser
from gateway.config import load_settings
from gateway.supergraph import load_supergraph

ROOT = Path(__file__).parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
JAMAJAMA_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "jamajama:latest"}


@pytest.mark.parametrize("name", sorted(JAMAJAMA_SERVICES))
def test_every_service_command_is_a_valid_jamajama_invocation(name: str) -> None:
    command = JAMAJAMA_SERVICES[name]["command"]
    assert command[0] == "jamajama"
    argv = command[1:]
    build_parser(argv).parse_args(argv)  # SystemExit on an unknown command or option


def _settings(path: str, monkeypatch: pytest.MonkeyPatch, service: str) -> Any:
    for key, value in (SERVICES[service].get("environment") or {}).items():
        monkeypatch.setenv(key, re.sub(r"\$\{[^:}]+:-([^}]*)\}", r"\1", str(value)))
    return load_settings(ROOT / path.removeprefix("/app/"))


def test_gateway_configuration_routes_every_subgraph_to_its_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings("deploy/gateway.toml", monkeypatch, "gateway")
    supergraph_file = ROOT / str(settings.server.supergraph).removeprefix("/app/")
    supergraph = load_supergraph(supergraph_file.read_text(), authorization_enforced=True)
    assert set(settings.server.subgraph_urls) == set(supergraph.subgraphs)
    for name, url in settings.server.subgraph_urls.items():
        host, port = re.match(r"http://([\w-]+):(\d+)/graphql$", url).groups()  # type: ignore[union-attr]
        assert host == name and host in SERVICES
        assert port in SERVICES[host]["command"], f"{host} does not listen on {port}"
    assert settings.auth.jwt.secret is not None
    assert settings.audit.backend == "postgres" and settings.rate_limit.backend == "redis"


def test_registry_configuration_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings("deploy/registry.toml", monkeypatch, "registry")
    assert settings.registry.database_url.startswith("postgresql://")
    assert "4100:4100" in SERVICES["registry"]["ports"]


def test_every_config_file_a_service_names_exists() -> None:
    for service in JAMAJAMA_SERVICES.values():
        command = service["command"]
        if "--config" in command:
            path = command[command.index("--config") + 1]
            assert (ROOT / path.removeprefix("/app/")).is_file(), path


def test_dockerfile_copies_what_exists() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
