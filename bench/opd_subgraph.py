#!/usr/bin/env python3
"""`jamajama subgraph serve ...` with a request counter, for the benchmarks that report subgraph
requests per operation over the OPD subgraphs (bench/varied.py).

The same server as ``jamajama subgraph serve`` (same app, same data); the app is wrapped so that
every HTTP request other than ``GET /stats`` is counted, and ``GET /stats`` answers
``{"requests": N}``. Arguments are those of ``jamajama subgraph``::

    .venv/bin/python bench/opd_subgraph.py subgraph serve kependudukan --port 4101 --scale 0.001
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson


class Counting:
    """An ASGI app counting the requests it passes to ``app``; ``GET /stats`` tells the count."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if scope["method"] == "GET" and scope["path"] == "/stats":
                body = orjson.dumps({"requests": self.requests})
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            self.requests += 1
        await self.app(scope, receive, send)


def main(argv: list[str]) -> int:
    # bench/subgraphs (the reference workload's) must not shadow the OPD `subgraphs` package
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in (here, "")]
    from gateway.cli import main as jamajama
    from subgraphs.kit import app

    build = app.build_app
    app.build_app = lambda *args, **kwargs: Counting(build(*args, **kwargs))  # type: ignore[assignment]
    return jamajama(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
