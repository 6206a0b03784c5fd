"""Subgraph resilience around any ``SubgraphTransport``: circuit breaker, metrics, header
propagation — small wrappers and hooks, composed by ``build_transport`` from ``[subgraphs]``.

- ``CircuitBreaker``: after ``failure_threshold`` consecutive failures (no answer, timeout, 5xx)
  a subgraph's circuit opens and its fetches fail at once with ``SUBREQUEST_HTTP_ERROR``
  (``extensions.circuit = "open"``) instead of waiting for timeouts; after ``reset_seconds`` one
  trial request goes through (half-open) and its success closes the circuit again.
- ``InstrumentedTransport``: fetch latency and errors by subgraph (metrics), a span per fetch.
- Header propagation: the HTTP layer puts the configured client headers in ``propagated`` for the
  request; the transport adds them to that request's subgraph calls (and de-duplicates only
  calls with the same headers).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

from gateway.errors import SubgraphError
from gateway.executor.config import TlsSection
from gateway.executor.transport import HTTP_ERROR, SubgraphTransport, http_error

#: headers of the client request to copy to its subgraph calls (set by the HTTP layer)
propagated: ContextVar[Mapping[str, str] | None] = ContextVar("jamajama_propagated", default=None)


class _Circuit:
    __slots__ = ("failures", "opened_at", "trial")

    def __init__(self) -> None:
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False


def _is_outage(error: SubgraphError) -> bool:
    """Failures that say the subgraph is down (not a 4xx or a malformed answer)."""
    if error.code != HTTP_ERROR:
        return False
    status = error.extensions.get("http", {}).get("status")
    return status is None or status >= 500


class CircuitBreaker:
    """Fails fast while a subgraph is down; recovers by itself (one trial per reset period)."""

    def __init__(
        self,
        inner: SubgraphTransport,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 10.0,
        on_change: Callable[[str, bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._on_change = on_change
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def is_open(self, subgraph: str) -> bool:
        circuit = self._circuits.get(subgraph)
        return circuit is not None and circuit.opened_at is not None

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        circuit = self._circuits.get(subgraph)
        if circuit is None:
            circuit = self._circuits[subgraph] = _Circuit()
        trial = False
        if circuit.opened_at is not None:
            waited = self._clock() - circuit.opened_at
            if circuit.trial or waited < self.reset_seconds:
                raise http_error(
                    subgraph,
                    "circuit open (the subgraph is failing; calls are refused for a while)",
                    circuit="open",
                )
            circuit.trial = trial = True
        try:
            result = await self.inner.fetch(subgraph, url, body)
        except SubgraphError as error:
            if _is_outage(error):
                self._failure(subgraph, circuit)
            elif trial:
                self._success(subgraph, circuit)
            raise
        except BaseException:
            if trial:
                circuit.trial = False
            raise
        if circuit.failures or circuit.opened_at is not None:
            self._success(subgraph, circuit)
        return result

    def _failure(self, subgraph: str, circuit: _Circuit) -> None:
        circuit.failures += 1
        circuit.trial = False
        if circuit.opened_at is not None or circuit.failures >= self.failure_threshold:
            was_open = circuit.opened_at is not None
            circuit.opened_at = self._clock()
            if not was_open and self._on_change is not None:
                self._on_change(subgraph, True)

    def _success(self, subgraph: str, circuit: _Circuit) -> None:
        was_open = circuit.opened_at is not None
        circuit.failures, circuit.opened_at, circuit.trial = 0, None, False
        if was_open and self._on_change is not None:
            self._on_change(subgraph, False)

    async def aclose(self) -> None:
        await _close(self.inner)


FetchObserver = Callable[[str, float, str | None], None]
SpanFactory = Callable[[str, str], Any]


class InstrumentedTransport:
    """Times every fetch (``observe(subgraph, seconds, error code or None)``) and opens a span
    per fetch (``span(subgraph, url)`` -> a context manager) when tracing is on."""

    def __init__(
        self,
        inner: SubgraphTransport,
        observe: FetchObserver | None = None,
        span: SpanFactory | None = None,
    ) -> None:
        self.inner = inner
        self._observe = observe
        self._span = span

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        if self._span is None:
            return await self._timed(subgraph, url, body)
        with self._span(subgraph, url):
            return await self._timed(subgraph, url, body)

    async def _timed(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            result = await self.inner.fetch(subgraph, url, body)
        except SubgraphError as error:
            if self._observe is not None:
                self._observe(subgraph, time.perf_counter() - started, error.code)
            raise
        if self._observe is not None:
            self._observe(subgraph, time.perf_counter() - started, None)
        return result

    async def aclose(self) -> None:
        await _close(self.inner)


async def _close(transport: Any) -> None:
    close = getattr(transport, "aclose", None)
    if close is not None:
        await close()


def propagated_headers() -> Mapping[str, str] | None:
    return propagated.get()


def tls_context(section: TlsSection) -> ssl.SSLContext | None:
    """The client TLS context for mTLS to subgraphs, or None when not configured."""
    if section.client_cert is None and section.ca_file is None:
        return None
    context = ssl.create_default_context(cafile=str(section.ca_file) if section.ca_file else None)
    if section.client_cert is not None:
        context.load_cert_chain(
            str(section.client_cert), str(section.client_key) if section.client_key else None
        )
    return context
