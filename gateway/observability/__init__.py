"""Observability: request ids, structured logs, Prometheus metrics, OpenTelemetry tracing."""
