"""Tests that need a service or tool this machine may lack skip with the command that enables them.

A test marked ``postgres``, ``redis``, ``node`` or ``browser`` needs a local server or tool. On a
developer's machine without it the test skips and says which command enables it; in CI (the
``CI`` environment variable set) the same absence is a failure, so nothing is skipped silently
there.

Slow kinds of test (Node peers, a browser, marked slow) get a longer per-test timeout.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)

# Tests that start Node peers, drive a browser or are marked slow get this long instead of the
# default `timeout` in pyproject.toml (which catches hangs everywhere else).
SLOW_TIMEOUT_S = 600
SLOW_MARKERS = ("slow", "node", "browser")


def _listening(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1.0):
            return True
    except OSError:
        return False


@cache
def missing(marker: str) -> str | None:
    """Why the tests marked ``marker`` cannot run here (and how to enable them), or None."""
    if marker == "postgres" and not _listening(POSTGRES):
        return (
            "PostgreSQL is not listening on 127.0.0.1:5432: start a server with a trusted user "
            "`postgres` and a database `test` (`sudo pg_ctlcluster 15 main start && createdb -U "
            "postgres test`, or `docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust "
            "-e POSTGRES_DB=test postgres:16`)"
        )
    if marker == "redis" and not _listening(REDIS):
        return (
            "Redis is not listening on 127.0.0.1:6379: start one (`redis-server --daemonize yes "
            "--save ''`, or `docker run -d -p 6379:6379 redis:7`)"
        )
    if marker == "node" and not (ROOT / "tools" / "reference" / "node_modules").is_dir():
        return (
            "the Node reference tools are not installed: `make test` installs them, or run "
            "`cd tools/reference && npm ci`"
        )
    if marker == "browser" and shutil.which("chromium") is None:
        return "Debian's chromium is not installed: `sudo apt-get install chromium`"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in ("postgres", "redis", "node", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing(marker)
        if reason is None:
            continue
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh Redis key prefix; every key under it gets a one-minute expiry when the test ends."""
    import redis

    prefix = f"jamajama:test:{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis(*REDIS, socket_timeout=2)
    try:
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.expire(key, 60)
    finally:
        client.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        if any(item.get_closest_marker(name) is not None for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
