"""Real HTTP servers for the HTTP tests: fake subgraphs, the gateway app in front of one, a gateway
process started with `jamajama gateway --config` (``serve`` is tests/servers.py's)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.servers import serve as serve

ROOT = Path(__file__).parent.parent.parent
SUPERGRAPH_PATH = ROOT / "tests" / "executor" / "supergraph.graphql"


Answer = Callable[[dict[str, Any]], Any]


@dataclass
class FakeSubgraph:
    """A subgraph over HTTP answering ``answer(body)`` (a dict, or an int HTTP status); records
    every request's body and headers."""

    answer: Answer
    requests: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0

    def app(self) -> Starlette:
        async def graphql(request: Request) -> Response:
            body = orjson.loads(await request.body() or b"{}")
            self.requests.append((body, dict(request.headers)))
            if self.delay:
                import asyncio

                await asyncio.sleep(self.delay)
            answer = self.answer(body)
            if isinstance(answer, int):
                return Response(b"down", status_code=answer)
            return Response(orjson.dumps(answer), media_type="application/json")

        return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def me_answer(body: dict[str, Any]) -> Any:
    return {"data": {"me": {"id": "1", "name": "Ada"}}}


@contextmanager
def gateway_process(
    config: str,
    tmp_path: Path,
    subgraph: str | None = None,
    extra_args: tuple[str, ...] = (),
    **env: str,
) -> Iterator[tuple[str, int]]:
    """`jamajama gateway` with ``config`` (TOML) on the executor tests' supergraph; yields
    (base URL, pid)."""
    path = tmp_path / "jamajama.toml"
    path.write_text(config)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "gateway",
            "--supergraph",
            str(SUPERGRAPH_PATH),
            "--port",
            "0",
            "--config",
            str(path),
            *(
                arg
                for name in ("accounts", "products", "reviews")
                for arg in ("--subgraph-url", f"{name}={subgraph or 'http://127.0.0.1:9'}/graphql")
            ),
            *extra_args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("Jama Jama gateway listening on "):
            process.kill()
            _, stderr = process.communicate(timeout=10)
            raise AssertionError(f"gateway did not start: {line!r} {stderr}")
        yield line.rsplit(" ", 1)[1].strip().removesuffix("/graphql"), process.pid
    finally:
        process.terminate()
        process.communicate(timeout=15)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@dataclass
class RunningGateway:
    url: str
    subgraph: FakeSubgraph
    services: Any
    gateway: Any


@contextmanager
def running_gateway(
    answer: Answer = me_answer,
    settings: dict[str, Any] | None = None,
    *,
    tracing: Any = None,
    guard: Any = None,
    subgraph_app: Callable[[Starlette], ASGIApp] | None = None,
) -> Iterator[RunningGateway]:
    """The gateway app (``Services`` of the composition root from ``settings``) under uvicorn, in
    front of one fake subgraph (every supergraph subgraph routed to it), both over real loopback
    HTTP."""
    from gateway.assembly import Services
    from gateway.config import Settings

    subgraph = FakeSubgraph(answer)
    app = subgraph.app()
    with serve(subgraph_app(app) if subgraph_app else app) as subgraph_url:
        services = Services.from_settings(Settings(**(settings or {})))
        if tracing is not None:
            services = _with_tracing(services, tracing)
        urls = {name: f"{subgraph_url}/graphql" for name in ("accounts", "products", "reviews")}
        gateway = services.open_gateway(SUPERGRAPH_PATH.read_text(), urls)
        with serve(services.app(gateway, guard)) as url:
            yield RunningGateway(url, subgraph, services, gateway)


def _with_tracing(services: Any, tracing: Any) -> Any:
    from dataclasses import replace

    from gateway.assembly import build_transport

    transport, breaker = build_transport(services.settings, services.metrics, tracing)
    return replace(services, transport=transport, breaker=breaker, tracing=tracing)
