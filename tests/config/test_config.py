"""Configuration: file, environment overrides, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAMAJAMA_SERVER__PORT", raising=False)
    settings = load_settings()
    assert (settings.server.host, settings.server.port) == ("127.0.0.1", 4000)


def test_file_values_and_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text('[server]\nport = 4100\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("JAMAJAMA_SERVER__PORT", "4200")
    settings = load_settings(path)
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 4200)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("[server]\nprot = 4100\n", "server.prot"),
        ("[server]\nport = 99999\n", "server.port"),
        ("[sever]\nport = 1\n", "sever"),
    ],
)
def test_bad_key_or_value_is_named(tmp_path: Path, content: str, named: str) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert named in caught.value.message
    assert caught.value.code == "INVALID_CONFIGURATION"


def test_unreadable_or_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)
