"""The sections this layer adds to the configuration: defaults, file, environment, bad keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings
from tests.http.servers import ROOT, SUPERGRAPH_PATH


def test_defaults_protect_the_service() -> None:
    settings = load_settings()
    assert settings.http.max_body_bytes == 1_048_576
    assert settings.http.cors.allow_origins == []
    assert settings.http.csrf.enabled
    assert settings.http.subgraph_errors == "redact"
    assert settings.limits.max_depth == 15 and settings.limits.cost.mode == "enforce"
    assert settings.subgraphs.circuit_breaker.enabled
    assert settings.subgraphs.signing.key is None
    assert not settings.telemetry.tracing.enabled


def test_file_and_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text(
        "[limits]\nmax_depth = 30\n[limits.cost]\nmode = 'measure'\n"
        "[subgraphs.timeouts]\nkesehatan = 2.5\n"
        "[persisted_queries.trusted.portal]\nmanifest = 'portal.json'\n"
    )
    monkeypatch.setenv("JAMAJAMA_HTTP__MAX_BATCH", "0")
    monkeypatch.setenv("JAMAJAMA_SUBGRAPHS__SIGNING__KEY", "from-env")
    settings = load_settings(path)
    assert settings.limits.max_depth == 30
    assert settings.limits.cost.mode == "measure"
    assert settings.subgraphs.timeouts == {"kesehatan": 2.5}
    assert settings.persisted_queries.trusted["portal"].mode == "enforce"
    assert settings.http.max_batch == 0
    assert settings.subgraphs.signing.key is not None
    assert settings.subgraphs.signing.key.get_secret_value() == "from-env"


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("[limits]\nmax_dept = 3\n", "limits.max_dept"),
        ("[limits.cost]\nmode = 'sometimes'\n", "limits.cost.mode"),
        ("[http]\nmax_body_bytes = 0\n", "http.max_body_bytes"),
        ("[http.cors]\nallow_origin = ['x']\n", "http.cors.allow_origin"),
        ("[subgraphs.circuit_breaker]\nfailure_threshold = 0\n", "failure_threshold"),
        ("[telemetry]\nlog_format = 'xml'\n", "telemetry.log_format"),
        ("[persisted_queries]\nbackend = 'memcached'\n", "persisted_queries.backend"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, content: str, named: str) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert named in caught.value.message


def test_gateway_refuses_to_start_with_a_bad_key(tmp_path: Path) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text("[limits]\nmax_aliasses = 3\n")
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--supergraph",
            str(SUPERGRAPH_PATH),
            "--port",
            "0",
            "--config",
            str(path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert "limits.max_aliasses" in process.stderr


def test_a_missing_manifest_is_a_start_error(tmp_path: Path) -> None:
    path = tmp_path / "jamajama.toml"
    path.write_text(f"[persisted_queries.trusted.portal]\nmanifest = '{tmp_path / 'nope.json'}'\n")
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--supergraph",
            str(SUPERGRAPH_PATH),
            "--port",
            "0",
            "--config",
            str(path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert "nope.json" in process.stderr
