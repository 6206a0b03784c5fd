"""`jamajama gateway` as a process: a requested stop is a clean exit, ``--dev-auth`` keeps a
configured ``[audit]`` (issue 14, finding 5)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.auth.harness import SUPERGRAPH
from tests.http.servers import SUPERGRAPH_PATH

ROOT = Path(__file__).resolve().parents[3]


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "gateway", "--port", "0", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("Jama Jama gateway listening on "):
        process.kill()
        _, stderr = process.communicate(timeout=10)
        raise AssertionError(f"gateway did not start: {line!r} {stderr}")
    return process, line.rsplit(" ", 1)[1].strip().removesuffix("/graphql")


def test_sigterm_drains_and_exits_zero(tmp_path: Path) -> None:
    process, url = _start(["--supergraph", str(SUPERGRAPH_PATH)], tmp_path)
    try:
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0


def test_sigterm_to_a_worker_supervisor_exits_zero(tmp_path: Path) -> None:
    config = tmp_path / "jamajama.toml"
    config.write_text("[telemetry]\nmetrics = false\n")
    process, url = _start(
        ["--supergraph", str(SUPERGRAPH_PATH), "--workers", "2", "--config", str(config)],
        tmp_path,
    )
    try:
        for _ in range(50):  # the workers come up after the socket is announced
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 0


def test_dev_auth_keeps_a_configured_audit_section_and_says_so(tmp_path: Path) -> None:
    configured = tmp_path / "audit" / "province.sqlite3"
    configured.parent.mkdir()
    config = tmp_path / "jamajama.toml"
    config.write_text(f'[audit]\nsqlite_path = "{configured}"\n')
    process, _ = _start(
        ["--supergraph", str(SUPERGRAPH), "--config", str(config), "--dev-auth"], tmp_path
    )
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert f"audit log: SQLite {configured}" in stderr
    assert configured.exists()
    assert not (tmp_path / "var" / "dev" / "audit.sqlite3").exists()


def test_dev_auth_without_an_audit_section_uses_its_own_file(tmp_path: Path) -> None:
    process, _ = _start(["--supergraph", str(SUPERGRAPH), "--dev-auth"], tmp_path)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert "audit log: SQLite var/dev/audit.sqlite3" in stderr
    assert (tmp_path / "var" / "dev" / "audit.sqlite3").exists()
