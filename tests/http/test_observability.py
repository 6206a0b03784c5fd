"""Metrics, traces and logs, checked (not printed): Prometheus text from /metrics over real HTTP,
spans from an in-memory exporter, traceparent at the subgraph, JSON log lines."""

from __future__ import annotations

import io
import logging
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability.config import TracingSection
from gateway.observability.context import request_id
from gateway.observability.logs import JsonFormatter
from gateway.observability.tracing import Tracing
from tests.http.servers import running_gateway


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _answer(body: dict[str, Any]) -> Any:
    if "_entities" in body["query"]:  # the reviews subgraph is down
        return 503
    return {"data": {"me": {"__typename": "User", "id": "1", "name": "Ada"}}}


def test_metrics_count_requests_latency_fetches_and_plan_cache() -> None:
    with running_gateway(_answer) as running, httpx.Client(base_url=running.url) as client:
        for _ in range(3):
            client.post("/graphql", json={"query": "query Me { me { id } }"})
        client.post("/graphql", json={"query": "query Bad { nope }"})
        client.post("/graphql", json={"query": "{ me { reviews { body } } }"})
        client.post("/graphql", content=b"{", headers={"content-type": "application/json"})
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("jamajama_requests_total", (("operation", "Me"), ("outcome", "ok")))] == 3
    assert samples[("jamajama_requests_total", (("operation", "Bad"), ("outcome", "invalid")))] == 1
    assert (
        samples[("jamajama_requests_total", (("operation", "anonymous"), ("outcome", "errors")))]
        == 1
    )
    assert (
        samples[("jamajama_requests_total", (("operation", "anonymous"), ("outcome", "rejected")))]
        == 1
    )
    assert samples[("jamajama_request_duration_seconds_count", (("operation", "Me"),))] == 3
    assert (
        samples[("jamajama_subgraph_fetch_duration_seconds_count", (("subgraph", "accounts"),))]
        == 4
    )
    assert (
        samples[
            (
                "jamajama_subgraph_fetch_errors_total",
                (("code", "SUBREQUEST_HTTP_ERROR"), ("subgraph", "reviews")),
            )
        ]
        == 1
    )
    assert samples[("jamajama_plan_cache_total", (("result", "miss"),))] == 2
    assert samples[("jamajama_plan_cache_total", (("result", "hit"),))] == 2
    assert samples[("jamajama_requests_in_flight", ())] == 0


def test_operation_labels_are_bounded() -> None:
    settings = {"telemetry": {"max_operation_labels": 2}}
    with (
        running_gateway(settings=settings) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        for name in ("A", "B", "C", "D"):
            client.post("/graphql", json={"query": f"query {name} {{ me {{ id }} }}"})
        samples = _samples(client.get("/metrics").text)
    assert samples[("jamajama_requests_total", (("operation", "other"), ("outcome", "ok")))] == 2


def test_spans_per_request_plan_and_fetch_and_traceparent_to_subgraphs() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracing = Tracing(TracingSection(enabled=True, exporter="none"), exporter=exporter)
    client_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{client_trace}-00f067aa0ba902b7-01"
    with running_gateway(tracing=tracing) as running, httpx.Client(base_url=running.url) as c:
        response = c.post(
            "/graphql",
            json={"query": "query Me { me { id } }"},
            headers={"traceparent": traceparent},
        )
        assert response.json() == {"data": {"me": {"id": "1"}}}
        sent = running.subgraph.requests[-1][1]
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"graphql.request", "graphql.plan", "subgraph.fetch"}
    request, plan, fetch = spans["graphql.request"], spans["graphql.plan"], spans["subgraph.fetch"]
    assert f"{request.context.trace_id:032x}" == client_trace
    assert request.parent is not None and f"{request.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert plan.parent is not None and plan.parent.span_id == request.context.span_id
    assert fetch.parent is not None and fetch.parent.span_id == request.context.span_id
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "Me"
    assert fetch.attributes is not None and fetch.attributes["subgraph.name"] == "accounts"
    assert sent["traceparent"] == f"00-{client_trace}-{fetch.context.span_id:016x}-01"


def test_json_logs_carry_the_request_id_and_no_extra_data() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("jamajama.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    token = request_id.set("req-7")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("request failed")
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    entry = orjson.loads(stream.getvalue())
    assert entry["request_id"] == "req-7"
    assert entry["level"] == "error"
    assert entry["message"] == "request failed"
    assert entry["exception"] == "ValueError"
    assert set(entry) == {
        "ts",
        "level",
        "logger",
        "message",
        "request_id",
        "exception",
        "traceback",
    }
