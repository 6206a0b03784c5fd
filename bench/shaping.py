#!/usr/bin/env python3
"""Does the shaper's compiled fast path still pay? (issue 11, finding 3)

Shapes the same merged data with ``ResponseShaper`` twice: the compiled fast path (the default)
and the path-tracking walk alone (``fast=False``, the reference the parity test compares it with).
Workloads: the reference ``TestQuery`` answer (87,599 bytes, ``/work/shared/bench``) on
``bench/supergraph.graphql``, and a synthetic page of 500 users with 5 reviews each on the
executor tests' supergraph (an interface-free, list-heavy shape). Median of ``--repeat`` runs after
a warm-up, in microseconds per response.

    .venv/bin/python bench/shaping.py
    .venv/bin/python bench/shaping.py --repeat 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from graphql import OperationDefinitionNode, parse  # noqa: E402
from planning import find_shared  # noqa: E402

from gateway.executor.response import ResponseShaper  # noqa: E402
from gateway.supergraph import load_supergraph  # noqa: E402

USERS_QUERY = """
{ users { id name username status reviews { body stars product { upc name price } } } }
"""


def synthetic_users(count: int = 500) -> dict[str, Any]:
    return {
        "users": [
            {
                "__typename": "User",
                "id": str(i),
                "name": f"User {i}",
                "username": f"user{i}",
                "status": "ACTIVE",
                "reviews": [
                    {
                        "body": "Lorem ipsum " * 4,
                        "stars": j,
                        "product": {"upc": f"p{j}", "name": f"Product {j}", "price": 10 * j},
                    }
                    for j in range(5)
                ],
            }
            for i in range(count)
        ]
    }


def median_us(shaper: ResponseShaper, data: dict[str, Any], repeat: int) -> float:
    shaper.shape(data, {})
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        shaper.shape(data, {})
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def measure(label: str, sdl: str, query: str, data: dict[str, Any], repeat: int) -> dict[str, Any]:
    schema = load_supergraph(sdl).api_schema
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fast = ResponseShaper(schema, document, operation)
    walk = ResponseShaper(schema, document, operation, fast=False)
    assert json.dumps(fast.shape(data, {})) == json.dumps(walk.shape(data, {}))
    assert fast.fast_shaped == 1, "the workload must take the fast path"
    fast_us, walk_us = median_us(fast, data, repeat), median_us(walk, data, repeat)
    return {
        "workload": label,
        "fast_us": round(fast_us, 1),
        "walk_us": round(walk_us, 1),
        "walk_over_fast": round(walk_us / fast_us, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed runs each (default 200)")
    args = parser.parse_args(argv)
    reference = find_shared()
    test_query = json.loads((reference / "query.json").read_text())["query"]
    test_data = json.loads((reference / "expected.json").read_text())["data"]
    rows = [
        measure(
            "TestQuery answer (87,599 bytes)",
            (BENCH / "supergraph.graphql").read_text(),
            test_query,
            test_data,
            args.repeat,
        ),
        measure(
            "500 users x 5 reviews",
            (REPO / "tests" / "executor" / "supergraph.graphql").read_text(),
            USERS_QUERY,
            synthetic_users(),
            args.repeat,
        ),
    ]
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
