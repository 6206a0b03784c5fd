"""The ``[telemetry]`` configuration section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gateway.sections import Section


class TracingSection(Section):
    """OpenTelemetry tracing (needs the ``otel`` extra: ``pip install 'jamajama[otel]'``)."""

    enabled: bool = False
    #: ``otlp`` (HTTP/protobuf to ``otlp_endpoint``; needs opentelemetry-exporter-otlp-proto-http),
    #: ``console`` (stderr), ``none`` (spans made and propagated, not exported)
    exporter: Literal["otlp", "console", "none"] = "otlp"
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "jamajama-gateway"
    #: fraction of new traces sampled (a sampled ``traceparent`` from the client is followed)
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)


class TelemetrySection(Section):
    """Metrics, logs and traces."""

    #: serve Prometheus metrics at ``GET /metrics`` (multi-process: set PROMETHEUS_MULTIPROC_DIR)
    metrics: bool = True
    #: distinct operation names kept as metric labels; further names count as ``other``
    max_operation_labels: int = Field(default=200, ge=1)
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    tracing: TracingSection = TracingSection()
