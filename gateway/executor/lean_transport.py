"""A lean subgraph transport: keep-alive HTTP/1.1 on an ``asyncio.Protocol`` with llhttp parsing.

``[subgraphs] transport = "lean"``. ``bench/transport_probe.py`` measured aiohttp's client at
4.7-5.3x the CPU of a bare keep-alive client per subgraph request (its per-request request and
response objects, header multidicts, timers and stream reader); a gateway sends a dozen subgraph
requests per operation. This client keeps what the gateway needs and nothing else: one POST with
a prepared head, the response parsed by ``httptools`` (llhttp: Content-Length, chunked and
read-until-close bodies), pooled keep-alive connections per origin with the same limits
(``max_connections`` in use, ``max_connections_per_host``, ``keepalive_expiry``), one total
timeout per request (connect to last byte), the body cap checked against ``Content-Length`` and
while the body arrives, TLS through ``ssl_context``. De-duplication, header hooks and error codes
are ``AiohttpTransport``'s (this class only replaces its ``_send``).

A connection goes back to the pool only after a complete response that allows keep-alive; a
request that fails, times out or is cancelled closes its connection (never reused half-read).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

from gateway.executor.aiohttp_transport import _REQUEST_HEADERS, AiohttpTransport
from gateway.executor.transport import http_error, response_too_large

_Origin = tuple[str, int, bool]


class _Disconnected(ConnectionError):
    """The subgraph closed the connection before its response was complete."""


class _BadResponse(ConnectionError):
    """The subgraph's bytes are not an HTTP/1.1 response."""


class _TooLarge(Exception):
    """The response body passed the cap."""


class _Expired(Exception):
    """The request's deadline passed before its response was complete."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, the response collected by llhttp."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, str, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = 0
        self.reason = ""
        self.status = 0
        self.framed = False  # Content-Length or chunked: the end is known without EOF
        self.keep_alive = False
        self.closed = False
        self.idle_since = 0.0
        self.lost: asyncio.Future[None] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.lost = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.close()  # bytes nobody asked for: the connection's state is unknown
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(_BadResponse(str(error)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.status and not self.framed:  # body delimited by the end of the connection
                waiter.set_result((self.status, self.reason, b"".join(self.chunks)))
            else:
                waiter.set_exception(_Disconnected("the subgraph closed the connection"))

    # llhttp callbacks
    def on_message_begin(self) -> None:
        if self.waiter is None or self.waiter.done():  # a second answer to one request
            self.close()

    def on_status(self, reason: bytes) -> None:
        self.reason += reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-length":
            self.framed = True
            if self.limit > 0 and int(value) > self.limit:
                self._fail(_TooLarge())
        elif lowered == b"transfer-encoding":
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.limit > 0 and self.size > self.limit:
            self._fail(_TooLarge())
            return
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, self.reason, b"".join(self.chunks)))

    # the transport's side
    def request(self, data: bytes, limit: int) -> asyncio.Future[tuple[int, str, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.chunks = []
        self.size = 0
        self.limit = limit
        self.reason = ""
        self.status = 0
        self.framed = False
        self.keep_alive = False
        self.transport.write(data)
        return self.waiter

    def expire(self) -> None:
        """The deadline timer: fails the request in flight and closes the connection."""
        self._fail(_Expired())

    def reusable(self) -> bool:
        return self.keep_alive and not self.closed

    def _fail(self, error: Exception) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LeanTransport(AiohttpTransport):
    """``AiohttpTransport``'s behaviour (sharing, headers, caps, errors) on a lean HTTP client."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._timeout_seconds: float = options.get("timeout", 30.0)
        self._timeout_by_subgraph: dict[str, float] = dict(options.get("timeouts") or {})
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._heads: dict[str, tuple[_Origin, bytes]] = {}
        self._in_use: asyncio.Semaphore | None = None
        self._per_origin: dict[_Origin, asyncio.Semaphore] = {}
        self._open: set[_Connection] = set()
        self._ssl_default: ssl.SSLContext | None = None

    def _head(self, url: str) -> tuple[_Origin, bytes]:
        """The origin and the request head up to the headers, prepared once per URL."""
        prepared = self._heads.get(url)
        if prepared is None:
            parts = urlsplit(url)
            secure = parts.scheme == "https"
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("not an http(s) URL")
            port = parts.port or (443 if secure else 80)
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            head = (
                f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/json\r\n"
                "Accept: application/graphql-response+json, application/json\r\n"
            ).encode("latin-1")
            prepared = ((parts.hostname, port, secure), head)
            self._heads[url] = prepared
        return prepared

    async def _connect(self, origin: _Origin) -> _Connection:
        host, port, secure = origin
        context: ssl.SSLContext | None = None
        if secure:
            context = self._ssl
            if context is None:
                if self._ssl_default is None:
                    self._ssl_default = ssl.create_default_context()
                context = self._ssl_default
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, host, port, ssl=context)
        self._open.add(connection)
        return connection

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        oldest = asyncio.get_running_loop().time() - self._keepalive_expiry
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.idle_since >= oldest:
                return connection
            self._discard(connection)
        return None

    def _release(self, origin: _Origin, connection: _Connection) -> None:
        if connection.reusable():
            connection.waiter = None
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault(origin, []).append(connection)
        else:
            self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    def _limits(self, origin: _Origin) -> tuple[asyncio.Semaphore, asyncio.Semaphore | None]:
        if self._in_use is None:
            self._in_use = asyncio.Semaphore(self._max_connections)
        per_origin = None
        if self._per_host > 0:
            per_origin = self._per_origin.get(origin)
            if per_origin is None:
                per_origin = self._per_origin[origin] = asyncio.Semaphore(self._per_host)
        return self._in_use, per_origin

    async def _send(
        self, subgraph: str, url: str, payload: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, bytes]:
        try:
            origin, head = self._head(url)
        except ValueError as error:
            raise http_error(subgraph, "could not connect") from error
        data = head
        if headers is not _REQUEST_HEADERS:
            try:
                data += _extra_headers(headers)
            except ValueError as error:
                raise http_error(subgraph, "invalid request header") from error
        data += b"Content-Length: %d\r\n\r\n" % len(payload) + payload
        limit = self._max_bytes_by_subgraph.get(subgraph, self._max_bytes)
        timeout = self._timeout_by_subgraph.get(subgraph, self._timeout_seconds)
        in_use, per_origin = self._limits(origin)
        if not in_use.locked() and (per_origin is None or not per_origin.locked()):
            connection = self._idle_connection(origin)
            if connection is not None:
                return await self._on_idle(subgraph, origin, connection, data, limit, timeout)
        try:
            async with asyncio.timeout(timeout):
                async with in_use:
                    if per_origin is None:
                        return await self._exchange(subgraph, origin, data, limit)
                    async with per_origin:
                        return await self._exchange(subgraph, origin, data, limit)
        except TimeoutError as error:
            raise http_error(subgraph, "request timed out") from error

    async def _on_idle(
        self,
        subgraph: str,
        origin: _Origin,
        connection: _Connection,
        data: bytes,
        limit: int,
        timeout: float,
    ) -> tuple[int, str, bytes]:
        """The common case: a free slot (checked just before, so taking it does not wait) and an
        idle kept-alive connection. Only the answer is waited for, so the deadline is a timer
        that fails the connection's request (about 1.4 µs against 3.3 µs for
        ``asyncio.timeout``, which the other path needs to bound its waits for a slot and a
        connection)."""
        in_use, per_origin = self._limits(origin)
        await in_use.acquire()
        if per_origin is not None:
            await per_origin.acquire()
        deadline = asyncio.get_running_loop().call_later(timeout, connection.expire)
        try:
            return await self._over(subgraph, origin, connection, data, limit)
        finally:
            deadline.cancel()
            if per_origin is not None:
                per_origin.release()
            in_use.release()

    async def _exchange(
        self, subgraph: str, origin: _Origin, data: bytes, limit: int
    ) -> tuple[int, str, bytes]:
        connection = self._idle_connection(origin)
        if connection is None:
            try:
                connection = await self._connect(origin)
            except OSError as error:
                # The subgraph's address stays in the gateway's logs, not in client responses.
                raise http_error(subgraph, "could not connect") from error
        return await self._over(subgraph, origin, connection, data, limit)

    async def _over(
        self, subgraph: str, origin: _Origin, connection: _Connection, data: bytes, limit: int
    ) -> tuple[int, str, bytes]:
        """One request on ``connection``; back to the pool only after a complete answer."""
        try:
            answer = await connection.request(data, limit)
        except _TooLarge as error:
            self._discard(connection)
            raise response_too_large(subgraph, limit) from error
        except _Expired as error:
            self._discard(connection)
            raise http_error(subgraph, "request timed out") from error
        except ConnectionError as error:
            self._discard(connection)
            name = "ServerDisconnectedError" if isinstance(error, _Disconnected) else "BadResponse"
            raise http_error(subgraph, f"connection failed ({name})") from error
        except BaseException:  # cancelled or timed out mid-response: never reuse it
            self._discard(connection)
            raise
        self._release(origin, connection)
        return answer

    async def aclose(self) -> None:
        """Drops every connection and waits until they are gone: a TLS connection still shutting
        down when the event loop closes would keep the loop busy."""
        lost = [c.lost for c in self._open if c.lost is not None and not c.lost.done()]
        for connection in list(self._open):
            connection.closed = True
            if connection.transport is not None:
                connection.transport.abort()
        self._open.clear()
        self._idle.clear()
        if lost:
            await asyncio.wait(lost, timeout=5.0)
        await super().aclose()


def _extra_headers(headers: Mapping[str, str]) -> bytes:
    """Headers beyond the prepared ones; a CR or LF in a header would split the request."""
    lines = []
    for name, value in headers.items():
        if name.lower() in _PREPARED:
            continue
        if _UNSAFE.intersection(name) or _UNSAFE.intersection(value):
            raise ValueError("a header contains a line break")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1")


_UNSAFE = frozenset("\r\n\0")
_PREPARED = frozenset(("content-type", "accept", "host", "content-length"))
