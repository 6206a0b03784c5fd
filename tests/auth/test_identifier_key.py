"""A production gateway needs one identifier key shared by every replica (docs/security.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway.auth.config import IdentifiersSection
from gateway.auth.identifiers import require_identifier_key
from gateway.cli import main
from gateway.config import load_settings
from gateway.errors import GatewayError

ROOT = Path(__file__).resolve().parent.parent.parent
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"


def test_without_a_key_a_production_start_is_refused() -> None:
    with pytest.raises(GatewayError) as refused:
        require_identifier_key(IdentifiersSection())
    assert refused.value.code == "IDENTIFIER_KEY_REFUSED"
    require_identifier_key(IdentifiersSection(key="k" * 32))  # type: ignore[arg-type]


def test_a_production_gateway_without_an_identifier_key_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[audit]\nsqlite_path = "{tmp_path / "audit.sqlite3"}"\n')
    monkeypatch.setenv("JAMAJAMA_AUTH__JWT__SECRET", "s" * 40)
    monkeypatch.setenv("JAMAJAMA_AUDIT__SIGNING_KEY", "a" * 40)
    monkeypatch.setenv("JAMAJAMA_AUDIT__SUBJECT_KEY", "b" * 40)
    args = ["gateway", "--supergraph", str(SUPERGRAPH), "--port", "0", "--config", str(config)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "auth.identifiers needs key or key_file" in err
    assert "(IDENTIFIER_KEY_REFUSED)" in err


def test_the_container_stack_shares_one_identifier_key(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gateway"]
    environment = gateway["environment"]
    assert ":?" in environment["JAMAJAMA_AUTH__IDENTIFIERS__KEY"]  # no default in the file
    for key, value in environment.items():
        monkeypatch.setenv(key, re.sub(r"\$\{[^:}]+:[-?]([^}]*)\}", r"\1", str(value)) + "x" * 32)
    config = gateway["command"][gateway["command"].index("--config") + 1]
    settings = load_settings(ROOT / config.removeprefix("/app/"))
    require_identifier_key(settings.auth.identifiers)  # does not raise
