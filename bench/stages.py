#!/usr/bin/env python3
"""Per-stage timers for our gateway under a benchmark (issue 15, goal 3): where time goes.

The gateway's own code has no timers (the request path pays nothing for them). This launcher
wraps the functions that make up each stage in this process, then runs ``jamajama`` as usual::

    .venv/bin/python bench/stages.py OUT.json -- gateway --supergraph F --port P ...

``SIGUSR1`` writes the counters gathered since the last signal to OUT.json and resets them (the
benchmark sends one before its timed run and one after). Stages:

| stage | what is wrapped |
|---|---|
| authenticate | ``HttpGuard.admit`` (bearer token, purpose, rate limit) |
| read | ``GraphQLEndpoint._operations``: body read and JSON decoding |
| parse/validate | ``Gateway._start``: document cache (parse + validate on a miss), variables |
| authorize | ``AccessControl.prepare``: grants, the rewrite (cached), the walk, cursors |
| plan | ``Gateway._plan`` (plan cache) |
| fetch | ``PlanExecutor.execute``: every subgraph fetch, decoding and merging |
| shape | ``ResponseShaper.shape`` |
| mask | ``Masker.mask_data`` and ``Masker.scrub_errors`` |
| audit record | ``collect_subjects``, ``AccessControl._event``: subjects hashed, record built |
| audit write | ``AccessControl._append_durably`` (waits until durable), ``append_later`` |
| encode | ``gateway.http.app._json_response``: ``orjson.dumps`` and the response object |
| request | ``GraphQLEndpoint.graphql``: the whole request inside the HTTP app |

Each stage reports its calls, its **CPU time** (``time.thread_time_ns``, so time the process
spent waiting for a core on a busy machine is not counted) and, for coroutines, its **wall time**
(latency, including every wait). A coroutine's CPU counts only the steps it runs itself (its own
code and what it awaits inline), not tasks it spawns: the executor's parallel fetches run in
tasks of their own, so part of "fetch" CPU lands outside every stage (see ``request``, whose
CPU is the request's inline work, and the process CPU the benchmark reports).
"""

from __future__ import annotations

import functools
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

_clock = time.thread_time_ns
_wall = time.perf_counter_ns


class Stat:
    """Calls, CPU and wall nanoseconds of one stage since the last reset."""

    __slots__ = ("calls", "cpu_ns", "wall_ns")

    def __init__(self) -> None:
        self.calls = 0
        self.cpu_ns = 0
        self.wall_ns = 0

    def as_dict(self) -> dict[str, float]:
        return {"calls": self.calls, "cpu_ms": self.cpu_ns / 1e6, "wall_ms": self.wall_ns / 1e6}


STATS: dict[str, Stat] = {}


def stat(name: str) -> Stat:
    found = STATS.get(name)
    if found is None:
        found = STATS[name] = Stat()
    return found


def timed_sync(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its CPU time counted under ``name`` (no awaits inside: CPU is wall)."""
    record = stat(name)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, wall = _clock(), _wall()
        try:
            return function(*args, **kwargs)
        finally:
            record.calls += 1
            record.cpu_ns += _clock() - started
            record.wall_ns += _wall() - wall

    return wrapper


class _Steps:
    """Awaits a coroutine step by step, counting the CPU of its own steps and its wall time."""

    __slots__ = ("coro", "record")

    def __init__(self, coro: Any, record: Stat) -> None:
        self.coro, self.record = coro, record

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, record = self.coro, self.record
        wall = _wall()
        cpu = 0
        value: Any = None
        error: BaseException | None = None
        try:
            while True:
                started = _clock()
                try:
                    future = coro.send(value) if error is None else coro.throw(error)
                except StopIteration as stop:
                    cpu += _clock() - started
                    return stop.value
                cpu += _clock() - started
                try:
                    value, error = (yield future), None
                except BaseException as thrown:  # cancellation goes to the coroutine
                    value, error = None, thrown
        finally:
            record.calls += 1
            record.cpu_ns += cpu
            record.wall_ns += _wall() - wall


def timed_async(name: str, function: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """The coroutine function ``function`` with its steps' CPU and its wall time counted."""
    record = stat(name)

    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await _Steps(function(*args, **kwargs), record)

    return wrapper


def _wrap(owner: Any, attribute: str, name: str) -> None:
    import inspect

    function = getattr(owner, attribute)
    timer = timed_async if inspect.iscoroutinefunction(function) else timed_sync
    setattr(owner, attribute, timer(name, function))


def install() -> None:
    """Wrap the stage functions (before the gateway is built)."""
    from gateway import engine
    from gateway.auth import access, guard, masking
    from gateway.executor import execute, response
    from gateway.http import app

    _wrap(guard.HttpGuard, "admit", "authenticate")
    _wrap(app.GraphQLEndpoint, "_operations", "read")
    _wrap(engine.Gateway, "_start", "parse/validate")
    _wrap(access.AccessControl, "prepare", "authorize")
    _wrap(engine.Gateway, "_plan", "plan")
    _wrap(execute.PlanExecutor, "execute", "fetch")
    _wrap(response.ResponseShaper, "shape", "shape")
    _wrap(masking.Masker, "mask_data", "mask")
    _wrap(masking.Masker, "scrub_errors", "mask")
    _wrap(access, "collect_subjects", "audit record")
    _wrap(access.AccessControl, "_event", "audit record")
    _wrap(access.AccessControl, "_append_durably", "audit write")
    _wrap(access.AccessControl, "_disclosed", "audit record")
    _wrap(app, "_json_response", "encode")
    _wrap(app.GraphQLEndpoint, "graphql", "request")
    from gateway.audit import log

    _wrap(log.AuditLog, "append_later", "audit write")


def snapshot() -> dict[str, dict[str, float]]:
    return {name: record.as_dict() for name, record in STATS.items()}


def reset() -> None:
    for record in STATS.values():
        record.calls = record.cpu_ns = record.wall_ns = 0


def dump_on_signal(out: Path) -> None:
    """On SIGUSR1: write the counters (and the process's CPU so far) to ``out``, then reset."""

    def handler(signum: int, frame: Any) -> None:
        payload = {"stages": snapshot(), "process_cpu_s": time.process_time()}
        out.write_text(json.dumps(payload, indent=1) + "\n")
        reset()

    signal.signal(signal.SIGUSR1, handler)


def per_request(
    stages: dict[str, dict[str, float]], requests: int
) -> list[tuple[str, float, float, float]]:
    """(stage, calls per request, CPU ms per request, wall ms per request), in pipeline order."""
    order = [
        "authenticate",
        "read",
        "parse/validate",
        "authorize",
        "plan",
        "fetch",
        "shape",
        "mask",
        "audit record",
        "audit write",
        "encode",
        "request",
    ]
    rows = []
    for name in [*order, *sorted(set(stages) - set(order))]:
        found = stages.get(name)
        if found is None or not found["calls"]:
            continue
        rows.append(
            (
                name,
                found["calls"] / requests,
                found["cpu_ms"] / requests,
                found["wall_ms"] / requests,
            )
        )
    return rows


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] != "--":
        print(__doc__.splitlines()[0])
        print("usage: bench/stages.py OUT.json -- <jamajama arguments>", file=sys.stderr)
        return 2
    out = Path(argv[0])
    install()
    dump_on_signal(out)
    from gateway.cli import main as jamajama

    sys.argv = ["jamajama", *argv[2:]]
    return int(jamajama() or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
