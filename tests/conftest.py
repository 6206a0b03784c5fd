"""Suite-wide test policy: the per-test timeout of the slow kinds of test."""

from __future__ import annotations

import pytest

# Tests that start Node peers, drive a browser or are marked slow get this long instead of the
# default `timeout` in pyproject.toml (which catches hangs everywhere else).
SLOW_TIMEOUT_S = 600
SLOW_MARKERS = ("slow", "node", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        if any(item.get_closest_marker(name) is not None for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
