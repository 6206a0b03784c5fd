"""OpenTelemetry tracing (optional: the ``otel`` extra): a span per request, per plan, per
subgraph fetch, and the W3C ``traceparent`` sent to subgraphs.

Spans: ``graphql.request`` (server; continues the client's ``traceparent``), ``graphql.plan``
(when an operation is planned, i.e. on a plan cache miss), ``subgraph.fetch`` (client, one per
subgraph call, ``traceparent`` of this span sent to the subgraph). No query text, variables or
data are recorded: the operation name and subgraph names only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from gateway.observability.config import TracingSection
from gateway.sections import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter


class Tracing:
    """A tracer provider of its own (never the global one) and the spans the gateway makes."""

    def __init__(self, section: TracingSection, exporter: SpanExporter | None = None) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import (
                BatchSpanProcessor,
                ConsoleSpanExporter,
                SimpleSpanProcessor,
            )
            from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
            from opentelemetry.trace.propagation.tracecontext import (
                TraceContextTextMapPropagator,
            )
        except ImportError as error:
            raise ConfigError(
                "telemetry.tracing.enabled needs OpenTelemetry: pip install 'jamajama[otel]'"
            ) from error
        self._trace = trace
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": section.service_name}),
            sampler=ParentBased(TraceIdRatioBased(section.sample_ratio)),
        )
        if exporter is not None:
            self.provider.add_span_processor(SimpleSpanProcessor(exporter))
        elif section.exporter == "console":
            self.provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif section.exporter == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )
            except ImportError as error:
                raise ConfigError(
                    "telemetry.tracing.exporter = 'otlp' needs "
                    "opentelemetry-exporter-otlp-proto-http"
                ) from error
            self.provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=section.otlp_endpoint))
            )
        self.tracer = self.provider.get_tracer("jamajama.gateway")
        self._propagator = TraceContextTextMapPropagator()
        self._server = trace.SpanKind.SERVER
        self._client = trace.SpanKind.CLIENT

    def request(
        self, headers: Mapping[str, str], operation: str | None
    ) -> AbstractContextManager[Any]:
        """The span of one GraphQL request, continuing the client's trace if it sent one."""
        parent = self._propagator.extract(headers) if "traceparent" in headers else None
        attributes = {"graphql.operation.name": operation} if operation else {}
        return self.tracer.start_as_current_span(
            "graphql.request", context=parent, kind=self._server, attributes=attributes
        )

    def fetch(self, subgraph: str, url: str) -> AbstractContextManager[Any]:
        return self.tracer.start_as_current_span(
            "subgraph.fetch", kind=self._client, attributes={"subgraph.name": subgraph}
        )

    def traceparent(self, subgraph: str, body: bytes) -> dict[str, str]:
        """Headers carrying the current span to a subgraph (``traceparent``, ``tracestate``)."""
        carrier: dict[str, str] = {}
        self._propagator.inject(carrier)
        return carrier

    def traced_planner(self, planner: Callable[..., Any]) -> Callable[..., Any]:
        """``planner`` with a ``graphql.plan`` span around each planning."""

        def plan(*args: Any, **kwargs: Any) -> Any:
            with self.tracer.start_as_current_span("graphql.plan"):
                return planner(*args, **kwargs)

        return plan

    def shutdown(self) -> None:
        self.provider.shutdown()


@contextmanager
def no_span() -> Iterator[None]:
    yield
