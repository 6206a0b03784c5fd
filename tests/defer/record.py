"""Record Hive Gateway 2.15.1's multipart answers (JavaScript planner) to tests/defer/cases.

    .venv/bin/python -m tests.defer.record [name ...]

For each ``cases/<name>.graphql`` (or only those named; run against the corpus case named on
its first line, ``# case: topic/case``) writes ``cases/<name>.hive.txt``: the raw multipart body
Hive sent with ``Accept: multipart/mixed`` (and checks that Hive refuses it, 406, with only
``Accept: application/json``, when its answer was incremental: an operation whose ``@stream``
lists are all within ``initialCount`` is answered whole, as JSON, by Hive). These recordings are
the oracle of test_corpus.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from tests.federation.corpus import discover_cases, serve_case
from tests.federation.record import hive_available, hive_gateways
from tests.federation.subgraph_server import SubgraphHost

CASES = Path(__file__).parent / "cases"


def case_of(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# case: "), path
    return first.removeprefix("# case: ").strip()


def main() -> int:
    if not hive_available():
        print("Hive Gateway is not installed: `cd bench && npm ci`", file=sys.stderr)
        return 2
    # read by tools/reference/hive-gateway.mjs: @defer on, and Hive's JavaScript planner (its
    # Rust planner accepts @defer but answers in one part, without deferring anything)
    os.environ["HIVE_DEFER_STREAM"] = "1"
    os.environ["HIVE_JS_PLANNER"] = "1"
    names = set(sys.argv[1:])
    operations = [p for p in sorted(CASES.glob("*.graphql")) if not names or p.stem in names]
    for operation in operations:
        (case,) = discover_cases([case_of(operation)])
        with (
            SubgraphHost() as host,
            serve_case(host, case) as running,
            hive_gateways([(case.supergraph_path, running.urls)]) as (url,),
            httpx.Client(timeout=30) as client,
        ):
            body = {"query": operation.read_text()}
            multipart = client.post(url, json=body, headers={"accept": "multipart/mixed"})
            content_type = multipart.headers["content-type"]
            operation.with_suffix(".hive.txt").write_bytes(
                f"content-type: {content_type}\n\n".encode() + multipart.content
            )
            running.reset()
            plain = client.post(url, json=body, headers={"accept": "application/json"})
            if b'"hasNext"' in multipart.content:  # Hive refuses incremental delivery as JSON
                assert plain.status_code == 406, plain
            print(operation.name, content_type, len(multipart.content))
    return 0


if __name__ == "__main__":
    sys.exit(main())
