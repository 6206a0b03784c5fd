"""Generated operations through our gateway, Apollo Gateway and (to break ties) Hive Gateway.

    .venv/bin/python -m tests.federation.differential [--count N] [--seed S] [--hive] [CASE ...]

runs the generated differential test's operations (the same slots as test_generated.py) and prints
every disagreement between our gateway and Apollo's: the operation, both answers, Hive Gateway's
with the Rust planner (``--hive``; needs `npm ci` in bench/) and the `deviations.toml` entry that
explains it, if one does. This is how entries are found and classified.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from functools import cache
from typing import Any

import httpx
from graphql import parse

from gateway import engine
from gateway.errors import GatewayError
from gateway.planner import build_query_plan, print_plan
from gateway.planner.validation import SubgraphOperationValidator
from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import (
    Case,
    RunningCase,
    discover_cases,
    dump_response,
    normalize_urls,
    serve_case,
)
from tests.federation.deviations import deviation_of, load_deviations
from tests.federation.generate import GeneratedOperation, OperationGenerator, spread
from tests.federation.record import apollo_gateways, hive_available, hive_gateways, post
from tests.federation.subgraph_server import SubgraphHost

#: operations per run, over all cases (CI default); `JAMAJAMA_GENERATED_OPS=5000` for more
DEFAULT_TOTAL = 300
DEFAULT_SEED = "0"


def total_from_env() -> int:
    return int(os.environ.get("JAMAJAMA_GENERATED_OPS", DEFAULT_TOTAL))


def seed_from_env() -> str:
    return os.environ.get("JAMAJAMA_GENERATED_SEED", DEFAULT_SEED)


@cache
def generator_for(case: Case, seed: str) -> OperationGenerator:
    return OperationGenerator.for_case(case, seed=seed)


@cache
def _supergraph(case: Case) -> tuple[Supergraph, SubgraphOperationValidator]:
    supergraph = load_supergraph(case.supergraph_path.read_text())
    return supergraph, SubgraphOperationValidator(supergraph)


def our_gateway(case: Case, urls: dict[str, str]) -> engine.Gateway:
    """Our gateway on the case (supergraph loaded once), every plan's fetches validated."""
    supergraph, validator = _supergraph(case)
    gateway = engine.Gateway(supergraph, subgraph_urls=urls)
    gateway.plan_validator = validator
    return gateway


async def ours_answer(running: RunningCase, operation: GeneratedOperation) -> str:
    gateway = our_gateway(running.case, running.urls)
    try:
        running.reset()
        result = await gateway.execute(operation.query, variables=operation.variables)
    finally:
        await gateway.aclose()
    return dump_response(normalize_urls(dict(result), running.urls))


def reference_answer(
    client: httpx.Client, url: str, running: RunningCase, operation: GeneratedOperation
) -> str:
    running.reset()
    response = post(client, url, operation.query, operation.variables)
    return dump_response(normalize_urls(response, running.urls))


def slots(cases: list[Case], total: int) -> list[tuple[Case, int]]:
    return spread(total, cases)


def _report(
    operation: GeneratedOperation, ours: str, apollo: str, hive: str | None, explained: Any
) -> Iterator[str]:
    yield f"=== {operation.id}" + (f" [{explained.kind}]" if explained else " [UNEXPLAINED]")
    if explained:
        yield f"  deviation: {explained.describe()}"
    if hive is not None:
        verdict = (
            "hive = apollo (ours wrong?)"
            if hive == apollo
            else "hive = ours (apollo wrong?)"
            if hive == ours
            else "all three differ"
        )
        yield f"  tie-break: {verdict}"
    yield f"  coordinates: {' '.join(sorted(operation.coordinates))}"
    if operation.variables:
        yield f"  variables: {operation.variables}"
    yield operation.query
    yield "--- ours\n" + ours + "--- apollo\n" + apollo + (f"--- hive\n{hive}" if hive else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="topics or topic/case ids (default: all)")
    parser.add_argument("--count", type=int, default=None, help="total operations (all cases)")
    parser.add_argument("--seed", default=None)
    parser.add_argument("--hive", action="store_true", help="also ask Hive Gateway (Rust planner)")
    parser.add_argument(
        "--query", help="run this operation on the one CASE instead (prints our plan)"
    )
    parser.add_argument("--variables", default=None, help="JSON variables of --query")
    args = parser.parse_args(argv)
    if args.query is not None:
        return _one(args)
    all_cases = [c for c in discover_cases() if not c.hive_oracle]  # Apollo refuses those
    total = args.count if args.count is not None else total_from_env()
    seed = args.seed if args.seed is not None else seed_from_env()
    wanted = {c.id for c in discover_cases(args.cases)} if args.cases else None
    chosen = [(c, i) for c, i in slots(all_cases, total) if wanted is None or c.id in wanted]
    cases = [c for c in all_cases if any(c is s for s, _ in chosen)]
    if args.hive and not hive_available():
        print("Hive Gateway is not installed: `cd bench && npm ci`", file=sys.stderr)
        return 2
    deviations = load_deviations(witnesses=seed == DEFAULT_SEED)
    disagreements = unexplained = 0
    with SubgraphHost() as host, ExitStack() as stack, httpx.Client(timeout=30) as client:
        running = {c.id: stack.enter_context(serve_case(host, c)) for c in cases}
        specs = [(c.supergraph_path, running[c.id].urls) for c in cases]
        apollo = dict(zip(running, stack.enter_context(apollo_gateways(specs)), strict=True))
        hive = (
            dict(zip(running, stack.enter_context(hive_gateways(specs)), strict=True))
            if args.hive
            else None
        )
        for case, index in chosen:
            operation = generator_for(case, seed).operation(index)
            run = running[case.id]
            ours = asyncio.run(ours_answer(run, operation))
            reference = reference_answer(client, apollo[case.id], run, operation)
            if ours == reference:
                continue
            disagreements += 1
            explained = deviation_of(operation, deviations)
            if (
                explained is not None
                and explained.kind == "implementation-defined"
                and json.loads(ours).get("data") != json.loads(reference).get("data")
            ):
                explained = None  # as in test_generated.py: the data must still agree
            unexplained += explained is None
            tie = reference_answer(client, hive[case.id], run, operation) if hive else None
            print("\n".join(_report(operation, ours, reference, tie, explained)))
    print(f"{len(chosen)} operations, {disagreements} disagreements, {unexplained} unexplained")
    return 1 if unexplained else 0


def _one(args: argparse.Namespace) -> int:
    """Run one operation (--query) on one case through every gateway; print our plan too."""
    (case,) = discover_cases(args.cases)
    operation = GeneratedOperation(
        case.id, -1, args.query, json.loads(args.variables) if args.variables else None, frozenset()
    )
    supergraph, _ = _supergraph(case)
    try:
        plan = build_query_plan(supergraph, parse(args.query))
        print(print_plan(plan))
    except GatewayError as error:
        print(f"no plan: {error.message}")
    with SubgraphHost() as host, ExitStack() as stack, httpx.Client(timeout=30) as client:
        run = stack.enter_context(serve_case(host, case))
        specs = [(case.supergraph_path, run.urls)]
        (apollo,) = stack.enter_context(apollo_gateways(specs))
        ours = asyncio.run(ours_answer(run, operation))
        reference = reference_answer(client, apollo, run, operation)
        tie = None
        if args.hive:
            (hive,) = stack.enter_context(hive_gateways(specs))
            tie = reference_answer(client, hive, run, operation)
        print("\n".join(_report(operation, ours, reference, tie, None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
