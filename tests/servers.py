"""Real servers for the tests: an ASGI app under uvicorn on a loopback port, in a thread.

The one copy of "start a server in a thread" (the HTTP, auth, subgraph, registry, composition and
federation tests all use it). The socket is bound when the object is made, so the URL is known
before the server starts; start-up waits (at most 10 s) until uvicorn accepts connections.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

START_TIMEOUT_S = 10.0


class ServerThread:
    """``app`` served by uvicorn in a daemon thread; ``config`` overrides uvicorn options."""

    def __init__(self, app: Any, *, port: int = 0, scheme: str = "http", **config: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(512)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        options: dict[str, Any] = {
            "log_level": "error",
            "access_log": False,
            "ws": "none",
            "lifespan": "on",
        }
        self.server = uvicorn.Server(uvicorn.Config(app, **{**options, **config}))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"the test server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serve(app: Any, port: int = 0, **config: Any) -> Iterator[str]:
    """Serve ``app`` on a loopback port (any free one by default); yields its base URL. The
    port is closed when the block ends."""
    with ServerThread(app, port=port, **config) as server:
        yield server.url
