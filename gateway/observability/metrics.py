"""Prometheus metrics of the gateway, correct with several worker processes.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before the gateway starts), every worker writes its values
to that directory and ``/metrics`` aggregates all workers (prometheus_client's multiprocess mode;
the in-flight gauge sums live workers). Label children are cached, so recording a request is a few
dictionary lookups and additions.
"""

from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OTHER = "other"
ANONYMOUS = "anonymous"
_OPERATION_NAME = re.compile(r"\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def operation_name_of(query: str) -> str | None:
    """The name of the document's first operation when it is written first (cheap: no parse)."""
    match = _OPERATION_NAME.match(query)
    return match.group(1) if match else None


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class GatewayMetrics:
    """The gateway's metrics; one per process (``registry`` is where single-process mode keeps
    them; tests pass a fresh one)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(
        self, registry: CollectorRegistry | None = None, max_operation_labels: int = 200
    ) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = registry if registry is not None else CollectorRegistry()
        target = None if self.multiprocess else self.registry
        self.requests = Counter(
            "jamajama_requests",
            "GraphQL operations served, by operation name and outcome "
            "(ok, errors, invalid, rejected)",
            ["operation", "outcome"],
            registry=target,
        )
        self.latency = Histogram(
            "jamajama_request_duration_seconds",
            "Time to serve a GraphQL operation, by operation name",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.in_flight = Gauge(
            "jamajama_requests_in_flight",
            "HTTP requests to /graphql being served",
            registry=target,
            multiprocess_mode="livesum",
        )
        self.subgraph_latency = Histogram(
            "jamajama_subgraph_fetch_duration_seconds",
            "Time of one subgraph fetch, by subgraph",
            ["subgraph"],
            buckets=LATENCY_BUCKETS,
            registry=target,
        )
        self.subgraph_errors = Counter(
            "jamajama_subgraph_fetch_errors",
            "Failed subgraph fetches, by subgraph and error code",
            ["subgraph", "code"],
            registry=target,
        )
        self.plan_cache = Counter(
            "jamajama_plan_cache",
            "Query plan cache lookups, by result (hit, miss)",
            ["result"],
            registry=target,
        )
        self.circuit_open = Gauge(
            "jamajama_subgraph_circuit_open",
            "1 while the circuit breaker of a subgraph is open",
            ["subgraph"],
            registry=target,
            multiprocess_mode="livemax",
        )
        self.audit_queue = Gauge(
            "jamajama_audit_queue_depth",
            "Audit records of operations without personal data waiting to be written",
            registry=target,
            multiprocess_mode="livesum",
        )
        self.audit_dropped = Counter(
            "jamajama_audit_records_dropped",
            "Audit records of operations without personal data not written, by reason "
            "(queue_full, unavailable)",
            ["reason"],
            registry=target,
        )
        self.shed = Counter(
            "jamajama_requests_shed",
            "GraphQL requests answered 503 by overload protection, by reason "
            "(OVERLOADED, DEADLINE_EXCEEDED)",
            ["reason"],
            registry=target,
        )
        self.store_unavailable = Counter(
            "jamajama_shared_store_unavailable",
            "Failed calls to a shared store (Redis), by store (apq, rate_limit)",
            ["store"],
            registry=target,
        )
        self.subscriptions_open = Gauge(
            "jamajama_subscriptions_open",
            "Subscriptions open, by client transport (sse, websocket)",
            ["transport"],
            registry=target,
            multiprocess_mode="livesum",
        )
        self.subscription_events = Counter(
            "jamajama_subscription_events",
            "Subscription events handed to clients, by client transport (sse, websocket)",
            ["transport"],
            registry=target,
        )
        self.subscription_events_audited = Counter(
            "jamajama_subscription_events_audited",
            "Subscription events carrying personal data whose audit record was written before "
            "they were sent",
            registry=target,
        )
        self.subscriptions_refused = Counter(
            "jamajama_subscriptions_refused",
            "Subscriptions refused before they started, by error code",
            ["code"],
            registry=target,
        )
        self.subscription_upstream_failures = Counter(
            "jamajama_subscription_upstream_failures",
            "Subgraph subscription connections that failed or closed before completing, "
            "by subgraph",
            ["subgraph"],
            registry=target,
        )
        self._max_operations = max_operation_labels
        self._operations: set[str] = set()
        self._request_children: dict[tuple[str, str], Any] = {}
        self._latency_children: dict[str, Any] = {}
        self._subgraph_children: dict[str, Any] = {}
        self._hit = self.plan_cache.labels("hit")
        self._miss = self.plan_cache.labels("miss")

    def operation_label(self, name: str | None, query: str | None = None) -> str:
        """``name`` (else the name of the query's first operation) as a label value, bounded:
        names beyond the first N seen count as ``other``."""
        if not name and query:
            name = operation_name_of(query)
        if not name:
            return ANONYMOUS
        if name in self._operations:
            return name
        if len(self._operations) >= self._max_operations or len(name) > 100:
            return OTHER
        self._operations.add(name)
        return name

    def observe_request(self, operation: str, outcome: str, seconds: float) -> None:
        key = (operation, outcome)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(operation, outcome)
        counter.inc()
        histogram = self._latency_children.get(operation)
        if histogram is None:
            histogram = self._latency_children[operation] = self.latency.labels(operation)
        histogram.observe(seconds)

    def observe_fetch(self, subgraph: str, seconds: float, error_code: str | None) -> None:
        histogram = self._subgraph_children.get(subgraph)
        if histogram is None:
            histogram = self._subgraph_children[subgraph] = self.subgraph_latency.labels(subgraph)
        histogram.observe(seconds)
        if error_code is not None:
            self.subgraph_errors.labels(subgraph, error_code).inc()

    def plan_cache_lookup(self, hit: bool) -> None:
        (self._hit if hit else self._miss).inc()

    def circuit(self, subgraph: str, is_open: bool) -> None:
        self.circuit_open.labels(subgraph).set(1 if is_open else 0)

    def shared_store_unavailable(self, store: str) -> None:
        self.store_unavailable.labels(store).inc()

    def request_shed(self, reason: str) -> None:
        self.shed.labels(reason).inc()

    def audit_queue_depth(self, depth: int) -> None:
        self.audit_queue.set(depth)

    def audit_record_dropped(self, reason: str) -> None:
        self.audit_dropped.labels(reason).inc()

    def subscription_opened(self, transport: str) -> None:
        self.subscriptions_open.labels(transport).inc()

    def subscription_closed(self, transport: str) -> None:
        self.subscriptions_open.labels(transport).dec()

    def subscription_event(self, transport: str) -> None:
        self.subscription_events.labels(transport).inc()

    def subscription_event_audited(self) -> None:
        self.subscription_events_audited.inc()

    def subscription_refused(self, code: str) -> None:
        self.subscriptions_refused.labels(code).inc()

    def subscription_upstream_failed(self, subgraph: str) -> None:
        self.subscription_upstream_failures.labels(subgraph).inc()

    def exposition(self) -> bytes:
        """The text exposition of every worker's metrics (multi-process) or this process's."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (call from the process that supervises workers)."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
