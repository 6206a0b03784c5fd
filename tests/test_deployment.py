"""docker-compose.yml, the Dockerfile and deploy/*.toml agree with the code (no engine needed).

`docker-compose config -q` validates the file where Debian's docker-compose is installed; these
checks catch what it would not:
a command the CLI does not know, a configuration key that does not exist, a routing URL pointing
at no service.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from gateway import dev
from gateway.cli import build_parser, main
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


#: a value for each secret the compose file requires (``${VAR:?message}``)
_REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]*\}")


def _required_env() -> dict[str, str]:
    names = set(_REQUIRED.findall((ROOT / "docker-compose.yml").read_text()))
    return {name: f"test-{name.lower()}-0123456789abcdef0123456789" for name in names}


def _settings(path: str, monkeypatch: pytest.MonkeyPatch, service: str) -> Any:
    env = _required_env()
    for key, value in (SERVICES[service].get("environment") or {}).items():
        monkeypatch.setenv(key, _REQUIRED.sub(lambda m: env[m.group(1)], str(value)))
    return load_settings(ROOT / path.removeprefix("/app/"))


def test_the_compose_file_has_no_default_secrets() -> None:
    """Issue 12: no published fallback secret; PostgreSQL with a password, not ``trust``."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert ":-" not in "".join(re.findall(r"\$\{[^}]*\}", text))
    assert set(_required_env()) == {
        "POSTGRES_PASSWORD",
        "JAMAJAMA_AUTH_SECRET",
        "JAMAJAMA_AUDIT_SUBJECT_KEY",
        "JAMAJAMA_AUDIT_SIGNING_KEY",
        "JAMAJAMA_SUBGRAPH_SIGNING_KEY",
        "JAMAJAMA_REGISTRY_ADMIN_TOKEN",
        "JAMAJAMA_IDENTIFIER_KEY",
    }
    postgres = SERVICES["postgres"]["environment"]
    assert "POSTGRES_HOST_AUTH_METHOD" not in postgres and "POSTGRES_PASSWORD" in postgres
    for name in ("migrate", "registry", "gateway"):  # every service that opens PostgreSQL
        assert SERVICES[name]["environment"]["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"]
    # the documented generator sets every required secret, each to fresh randomness
    script = ROOT / "deploy" / "new-env.sh"
    assert "sh deploy/new-env.sh > .env" in text
    runs = [subprocess.run(["sh", str(script)], capture_output=True, text=True, check=True)]
    runs.append(subprocess.run(["sh", str(script)], capture_output=True, text=True, check=True))
    generated = [dict(line.split("=", 1) for line in r.stdout.splitlines()) for r in runs]
    assert set(generated[0]) == set(_required_env())
    for name, value in generated[0].items():
        assert re.fullmatch(r"[0-9a-f]{64}", value) and value != generated[1][name]


def test_the_gateways_believe_forwarded_addresses_from_the_load_balancer_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings("deploy/gateway.toml", monkeypatch, "gateway")
    balancer = SERVICES["load-balancer"]["networks"]["default"]["ipv4_address"]
    assert settings.rate_limit.trusted_proxies == [balancer]
    assert settings.rate_limit.forwarded_header == "x-forwarded-for"
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(balancer) in ipaddress.ip_network(subnet)
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx


def test_gateways_follow_the_registry_which_the_publish_service_fills(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings("deploy/gateway.toml", monkeypatch, "gateway")
    assert settings.server.supergraph is None and not settings.server.subgraph_urls
    registry = re.match(r"http://([\w-]+):(\d+)$", settings.registry_poll.url or "")
    assert registry is not None and registry.group(1) == "registry"
    assert f"{registry.group(2)}:{registry.group(2)}" in SERVICES["registry"]["ports"]
    assert settings.registry_poll.usage_token is not None  # breaking-change checks see usage
    depends = SERVICES["gateway"]["depends_on"]
    assert depends["publish"] == {"condition": "service_completed_successfully"}
    assert settings.auth.jwt.secret is not None
    assert settings.auth.identifiers.key is not None  # the replicas share pseudonyms and cursors
    assert settings.audit.backend == "postgres" and settings.rate_limit.backend == "redis"


def test_the_publish_service_publishes_every_subgraph_to_its_service_in_dependency_order() -> None:
    publish = SERVICES["publish"]
    assert publish["restart"] == "no"  # a one-shot job
    command = publish["command"]
    assert command[1:3] == ["registry", "bootstrap"]
    assert command[command.index("--registry") + 1] == "http://registry:4100"
    assert (
        publish["environment"]["JAMAJAMA_REGISTRY_TOKEN"]
        == (SERVICES["registry"]["environment"]["JAMAJAMA_REGISTRY__ADMIN_TOKEN"])
    )
    pairs = [arg.split("=", 1) for arg in command if "=" in arg]
    committed = load_supergraph(
        (ROOT / "schema" / "supergraph.graphql").read_text(), authorization_enforced=True
    )
    assert [name for name, _ in pairs] == list(dev.SUBGRAPH_NAMES)  # bases before extensions
    assert set(dev.SUBGRAPH_NAMES) == set(committed.subgraphs)
    for name, url in pairs:
        host, port = re.match(r"http://([\w-]+):(\d+)/graphql$", url).groups()  # type: ignore[union-attr]
        assert host == name and host in SERVICES
        assert port in SERVICES[host]["command"], f"{host} does not listen on {port}"
        assert publish["depends_on"][host] == {"condition": "service_healthy"}
    assert publish["depends_on"]["registry"] == {"condition": "service_healthy"}
    assert "healthcheck" in SERVICES["registry"]


def test_the_documented_token_command_mints_a_token_the_stack_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    documented = "jamajama token mint sibansos --config /app/deploy/gateway.toml"
    for text in ((ROOT / "docker-compose.yml").read_text(), (ROOT / "README.md").read_text()):
        assert f"docker compose exec gateway {documented}" in text
    settings = _settings("deploy/gateway.toml", monkeypatch, "gateway")  # the container's env
    argv = documented.replace("/app/", f"{ROOT}/").split()[1:]
    assert main(argv) == 0
    token = capsys.readouterr().out.strip()
    secret = settings.auth.jwt.secret.get_secret_value()  # type: ignore[union-attr]
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience=settings.auth.jwt.audience)
    assert claims["azp"] == "sibansos" and claims["iss"] == settings.auth.jwt.issuer


def _compose_config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ["PATH"], **environment},
    )


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_accepts_the_file_and_requires_its_secrets() -> None:
    """Debian's docker-compose (``apt-get install docker-compose``) validates without an engine;
    every secret without a default (``${VAR:?}``) must be set, or the stack refuses to start."""
    required = set(_required_env())
    assert "JAMAJAMA_AUDIT_SIGNING_KEY" in required
    result = _compose_config({name: "x" * 32 for name in required})
    assert result.returncode == 0, result.stderr
    refused = _compose_config({})
    assert refused.returncode != 0
    assert any(name in refused.stderr for name in required), refused.stderr


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
