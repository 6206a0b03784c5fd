"""The test suite keeps one copy of its server helper (tests/servers.py)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_only_tests_servers_starts_uvicorn_in_a_thread() -> None:
    copies = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("*.py"))
        if path not in (TESTS / "servers.py", Path(__file__).resolve())
        and "uvicorn" + ".Server(" in path.read_text()
    ]
    assert copies == [], "use tests/servers.py (ServerThread, serve)"


def test_the_secured_path_tests_use_the_production_transport() -> None:
    from gateway.assembly import build_transport
    from gateway.config import Settings
    from gateway.executor.aiohttp_transport import AiohttpTransport
    from tests.auth.harness import RecordingTransport

    production, _ = build_transport(Settings(telemetry={"metrics": False}), None, None)
    innermost = production
    while not isinstance(innermost, AiohttpTransport):
        innermost = innermost.inner  # type: ignore[attr-defined]
    assert type(RecordingTransport().inner) is type(innermost)
