#!/usr/bin/env python3
"""Planning time of deep cross-subgraph operations, cold and from the gateway's caches (issue 3).

For each operation: the time to parse and validate it against the API schema, to build its query
plan with `build_query_plan` (no cache: the planner is a pure function, called afresh each time),
and the time of the cached path a repeated request takes in `Gateway` (document cache hit, then
plan cache hit). Median of `--repeat` runs after one warm-up, in microseconds per plan.

Operations: the reference `TestQuery` on `bench/supergraph.graphql`, and on the OPD supergraph
(`schema/supergraph.graphql`) the README's case query (one resident, four agencies) and the
entity-heavy case query of `bench/opd.py` (a page of residents with their families).

    .venv/bin/python bench/planning.py
    .venv/bin/python bench/planning.py --repeat 500
    .venv/bin/python bench/planning.py --cpu   # CPU time (process_time), for a busy machine
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from graphql import parse, validate  # noqa: E402
from opd import CASE_QUERY, RESIDENT_QUERY  # noqa: E402
from run import find_shared  # noqa: E402

from gateway.engine import Gateway  # noqa: E402
from gateway.planner import build_query_plan  # noqa: E402
from gateway.planner.printer import print_plan  # noqa: E402
from gateway.supergraph import load_supergraph  # noqa: E402

#: the clock of `median_us`: wall time, or the process's CPU time (`--cpu`)
CLOCK = time.perf_counter_ns


def median_us(call: Callable[[], object], repeat: int) -> float:
    """Median time of `call` in microseconds (by `CLOCK`), after one untimed call."""
    call()
    times = []
    for _ in range(repeat):
        started = CLOCK()
        call()
        times.append(CLOCK() - started)
    return statistics.median(times) / 1000


def measure(label: str, sdl: str, query: str, name: str | None, repeat: int) -> dict[str, Any]:
    # The OPD supergraph links the authorization features: load it as the secured gateway does.
    supergraph = load_supergraph(sdl, authorization_enforced=True)
    document = parse(query)
    errors = validate(supergraph.api_schema, document)
    if errors:
        raise SystemExit(f"{label}: invalid against the API schema: {errors[0].message}")
    plan = build_query_plan(supergraph, document, name)
    printed = print_plan(plan)
    gateway = Gateway(supergraph)
    # The cached path of a repeated request: the engine's document and plan caches (private
    # methods: this script follows them if the engine changes).
    prepared = gateway._prepare_document(query)
    operation = gateway._prepare_operation(prepared, name)
    assert prepared.document is not None

    def cached() -> object:
        again = gateway._prepare_document(query)
        assert again.document is not None
        return gateway._plan(query, again.document, name, operation.node)

    return {
        "operation": label,
        "fetches": printed.count("Fetch("),
        "parse_validate_us": median_us(
            lambda: validate(supergraph.api_schema, parse(query)), repeat
        ),
        "plan_us": median_us(lambda: build_query_plan(supergraph, document, name), repeat),
        "cached_us": median_us(cached, repeat),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs each (default 200)")
    parser.add_argument(
        "--cpu", action="store_true", help="CPU time of this process instead of wall time"
    )
    args = parser.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time_ns
    reference = find_shared()
    import json

    test_query = json.loads((reference / "query.json").read_text())["query"]
    bench_sdl = (BENCH / "supergraph.graphql").read_text()
    opd_sdl = (REPO / "schema" / "supergraph.graphql").read_text()
    rows = [
        measure("TestQuery (bench)", bench_sdl, test_query, "TestQuery", args.repeat),
        measure("OPD resident case (README)", opd_sdl, RESIDENT_QUERY, None, args.repeat),
        measure("OPD page of families (opd.py)", opd_sdl, CASE_QUERY, None, args.repeat),
    ]
    print(f"python {' '.join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])])}")
    print(
        "| operation | fetch nodes | parse + validate µs | build_query_plan µs (cold) "
        "| cached path µs (document + plan cache hit) |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['operation']} | {r['fetches']} | {r['parse_validate_us']:,.0f} "
            f"| {r['plan_us']:,.0f} | {r['cached_us']:,.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
