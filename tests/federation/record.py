"""Record the corpus' expected answers from Apollo Gateway (the reference router).

    .venv/bin/python -m tests.federation.record [--no-compose] [--fetches] [TOPIC | TOPIC/CASE ...]

For each case: compose `subgraphs/*.graphql` into `supergraph.graphql` with
tools/reference/compose.mjs, serve the data-driven subgraphs on loopback, start
tools/reference/apollo-gateway.mjs on the supergraph with the routing URLs pointed at them, post
every operation (fresh data each time) and write `<op>.expected.json`. Prints the number of
subgraph requests Apollo made per operation; `--fetches` also writes them to `<op>.fetches.json`
(review them: keep only optimal counts).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.federation.corpus import (
    Case,
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


@contextmanager
def apollo_gateway(supergraph: Path, urls: dict[str, str]) -> Iterator[str]:
    """Run Apollo Gateway on an ephemeral port; yields its URL."""
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            [
                "node",
                str(REFERENCE_DIR / "apollo-gateway.mjs"),
                "--supergraph",
                str(supergraph),
                "--port",
                "0",
                "--urls",
                json.dumps(urls),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "NODE_ENV": "production", "APOLLO_TELEMETRY_DISABLED": "1"},
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("READY "):
                stderr.seek(0)
                raise RuntimeError(f"apollo-gateway.mjs did not start: {line}{stderr.read()}")
            yield line.split()[1]
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def post(client: httpx.Client, url: str, query: str, variables: object) -> dict[str, object]:
    body: dict[str, object] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = client.post(url, json=body, headers={"apollo-require-preflight": "true"})
    return response.json()  # type: ignore[no-any-return]


def record_case(host: SubgraphHost, case: Case, *, write_fetches: bool) -> None:
    with (
        serve_case(host, case) as running,
        apollo_gateway(case.supergraph_path, running.urls) as url,
        httpx.Client(timeout=30) as client,
    ):
        for operation in case.operations:
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
    with SubgraphHost() as host:
        for case in cases:
            print(case.id)
            if not args.no_compose and not (case.path / "supergraph.manual").exists():
                compose(case)
            record_case(host, case, write_fetches=args.fetches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
