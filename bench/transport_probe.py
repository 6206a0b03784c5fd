#!/usr/bin/env python3
"""CPU per subgraph request: the gateway's aiohttp transport against a minimal HTTP/1.1 client.

Issue 15 goal 1's profile puts about a third of our CPU on TestQuery (sharing off) inside
aiohttp's client (``ClientSession._request``: request and response objects, timers, header
multidicts, the stream reader). This probe measures that cost alone, in this process, against
one bench subgraph: ``AiohttpTransport.fetch`` (the gateway's own transport, sharing off) and, for
scale, a keep-alive HTTP/1.1 client on a bare ``asyncio.Protocol`` (Content-Length bodies only:
what the bench subgraphs answer) — the floor a leaner transport could approach. Both send the
same body, ``--concurrency`` at a time, and both answers are checked equal.

    taskset -c 0 .venv/bin/python bench/transport_probe.py --requests 3000 --concurrency 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

#: the largest entity fetch of TestQuery's plan (reviews of five products), as the gateway sends it
BODY = {
    "query": "query($representations:[_Any!]!){_entities(representations:$representations)"
    "{...on Product{reviews{id body author{id username}}}}}",
    "variables": {
        "representations": [{"__typename": "Product", "upc": str(n)} for n in range(1, 6)]
    },
}


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time; Content-Length responses only."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[bytes] | None = None
        self.length = -1
        self.header_end = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.header_end < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.header_end = end + 4
            head = bytes(self.buffer[: end + 2]).lower()
            start = head.find(b"content-length:") + len(b"content-length:")
            self.length = int(head[start : head.find(b"\r\n", start)])
        if len(self.buffer) >= self.header_end + self.length and self.waiter is not None:
            body = bytes(self.buffer[self.header_end : self.header_end + self.length])
            del self.buffer[: self.header_end + self.length]
            self.header_end, self.length = -1, -1
            self.waiter.set_result(body)

    async def post(self, head: bytes, payload: bytes) -> bytes:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(head + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        return await self.waiter


async def _minimal(url: str, requests: int, concurrency: int) -> tuple[float, Any]:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    pool = [
        (await loop.create_connection(_Connection, parts.hostname, parts.port))[1]
        for _ in range(concurrency)
    ]
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: "
    ).encode()

    async def worker(connection: _Connection, count: int) -> Any:
        answer = None
        for _ in range(count):
            answer = orjson.loads(await connection.post(head, orjson.dumps(BODY)))
        return answer

    started = time.process_time()
    answers = await asyncio.gather(*(worker(c, requests // concurrency) for c in pool))
    cpu = time.process_time() - started
    for connection in pool:
        assert connection.transport is not None
        connection.transport.close()
    return cpu, answers[0]


async def _aiohttp(url: str, requests: int, concurrency: int) -> tuple[float, Any]:
    from gateway.executor.aiohttp_transport import AiohttpTransport

    transport = AiohttpTransport(deduplicate=False)

    async def worker(count: int) -> Any:
        answer = None
        for _ in range(count):
            answer = await transport.fetch("reviews", url, BODY)
        return answer

    await asyncio.gather(*(worker(2) for _ in range(concurrency)))  # connections opened
    started = time.process_time()
    answers = await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    cpu = time.process_time() - started
    await transport.aclose()
    return cpu, answers[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    subgraphs = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, str(BENCH / "subgraphs" / "server.py"),
         "--port-base", "0"],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        assert subgraphs.stdout is not None
        url = json.loads(subgraphs.stdout.readline())["ready"]["reviews"]
        import uvloop

        results: dict[str, list[float]] = {"aiohttp": [], "minimal": []}
        for _ in range(args.rounds):
            for name, probe in (("aiohttp", _aiohttp), ("minimal", _minimal)):
                cpu, answer = uvloop.run(probe(url, args.requests, args.concurrency))
                assert answer.get("data", {}).get("_entities"), answer
                results[name].append(1e6 * cpu / args.requests)
        for name, values in results.items():
            shown = ", ".join(f"{v:.0f}" for v in values)
            print(f"{name}: CPU µs per subgraph request (rounds): {shown}; min {min(values):.0f}")
        ratio = min(results["aiohttp"]) / min(results["minimal"])
        print(f"aiohttp / minimal: {ratio:.2f}x")
    finally:
        subgraphs.terminate()
        subgraphs.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
