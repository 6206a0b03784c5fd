"""bench/run.py's pure parts: answer comparison, options, and the report table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_answer_comparison_includes_key_order(run: ModuleType) -> None:
    assert run.ordered(b'{"a": 1, "b": [true]}') == run.ordered(b'{"a":1,"b":[true]}')
    assert run.ordered(b'{"a": 1, "b": 2}') != run.ordered(b'{"b": 2, "a": 1}')


def test_quick_sets_short_durations_and_only_selects(run: ModuleType) -> None:
    args = run.parse_args(["--quick", "--only", "ours,apollo"])
    assert (args.duration, args.warmup, args.connections) == (10, 3, 50)
    assert args.selected == ["ours", "apollo"]


def test_unknown_gateway_is_refused(run: ModuleType) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "nginx"])


def test_ratios_are_pending_until_ours_runs(run: ModuleType) -> None:
    peer = run.Result("apollo", "Apollo", rps=200.0, p50_ms=250.0)
    ours = run.Result("ours", "Jama Jama", status="not available", detail="not found")
    assert "| pending | pending |" in run.table([ours, peer]).splitlines()[-1]
    timed = run.Result("ours", "Jama Jama", rps=400.0, p50_ms=125.0)
    assert run.table([timed, peer]).splitlines()[-1].endswith("| 0.50x | 2.00x |")
