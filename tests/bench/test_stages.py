"""bench/stages.py (per-stage timers) and bench/varied.py's pure parts.

The timers wrap gateway functions only in the benchmark's process; these tests check that a
wrapped function still behaves the same (results, exceptions, cancellation) and that calls are
counted per stage, and that bench/varied.py summarises a py-spy profile by module.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:  # bench/ on the path would shadow the OPD `subgraphs` package with bench/subgraphs
        sys.path[:] = path
    return module


@pytest.fixture()
def stages() -> ModuleType:
    return _load("stages")


def test_sync_wrapper_keeps_results_and_errors_and_counts_calls(stages: ModuleType) -> None:
    def double(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return 2 * x

    timed = stages.timed_sync("double", double)
    assert timed(21) == 42
    with pytest.raises(ValueError, match="negative"):
        timed(-1)
    assert stages.snapshot()["double"]["calls"] == 2
    stages.reset()
    assert stages.snapshot()["double"]["calls"] == 0


def test_async_wrapper_counts_own_steps_not_the_time_suspended(stages: ModuleType) -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(0.05)  # suspended: wall time, not CPU
        return x + 1

    timed = stages.timed_async("slow", slow)
    assert asyncio.iscoroutinefunction(timed)  # Starlette runs non-coroutines in a thread
    assert asyncio.run(timed(1)) == 2
    found = stages.snapshot()["slow"]
    assert found["calls"] == 1
    assert found["wall_ms"] >= 50
    assert found["cpu_ms"] < found["wall_ms"]


def test_async_wrapper_passes_exceptions_and_cancellation(stages: ModuleType) -> None:
    cleaned: list[str] = []

    async def fails() -> None:
        await asyncio.sleep(0)
        raise KeyError("x")

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.append("cancelled")

    async def scenario() -> None:
        with pytest.raises(KeyError):
            await stages.timed_async("fails", fails)()
        task = asyncio.ensure_future(stages.timed_async("forever", forever)())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert cleaned == ["cancelled"]
    assert stages.snapshot()["forever"]["calls"] == 1


def test_install_wraps_every_stage_of_the_gateway(stages: ModuleType) -> None:
    from gateway import engine
    from gateway.http import app

    original = (engine.Gateway._start, engine.Gateway._plan, app._json_response)
    try:
        stages.install()
        assert engine.Gateway._start.__wrapped__ is original[0]
        assert engine.Gateway._plan.__wrapped__ is original[1]
        assert app._json_response.__wrapped__ is original[2]
        assert {"parse/validate", "authorize", "plan", "fetch", "shape", "mask"} <= set(
            stages.STATS
        )
        assert {"audit record", "audit write", "encode", "request"} <= set(stages.STATS)
    finally:
        _unwrap_all()


def _unwrap_all() -> None:
    """Undo ``install`` (the gateway's classes are shared with the other tests)."""
    from gateway import engine
    from gateway.audit import log
    from gateway.auth import access, guard, masking
    from gateway.executor import execute, response
    from gateway.http import app

    for owner in (
        engine.Gateway,
        access.AccessControl,
        guard.HttpGuard,
        masking.Masker,
        execute.PlanExecutor,
        response.ResponseShaper,
        app.GraphQLEndpoint,
        log.AuditLog,
        access,
        app,
    ):
        for name, value in list(vars(owner).items()):
            inner = getattr(value, "__wrapped__", None)
            if inner is not None and getattr(value, "__module__", "").startswith("bench_"):
                setattr(owner, name, inner)


def test_per_request_rows_follow_the_pipeline(stages: ModuleType) -> None:
    found = {
        "encode": {"calls": 10, "cpu_ms": 5.0, "wall_ms": 5.0},
        "parse/validate": {"calls": 10, "cpu_ms": 20.0, "wall_ms": 20.0},
        "unused": {"calls": 0, "cpu_ms": 0.0, "wall_ms": 0.0},
    }
    rows = stages.per_request(found, 10)
    assert rows == [("parse/validate", 1.0, 2.0, 2.0), ("encode", 1.0, 0.5, 0.5)]


def test_py_spy_summary_groups_by_module(tmp_path: Path) -> None:
    varied = _load("varied")
    raw = tmp_path / "py-spy.txt"
    raw.write_text(
        "main (x.py:1);fetch (gateway/executor/aiohttp_transport.py:10) 3\n"
        "main (x.py:1);shape (gateway/executor/response.py:5);dumps (<built-in>) 1\n"
    )
    summary = varied.summarise_py_spy(raw)
    assert "| executor (fetch, merge, representations) | 75.0 % |" in summary
    assert "| executor (fetch, merge, representations) (inside) | 25.0 % |" in summary
