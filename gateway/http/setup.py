"""Everything around the engine that the configuration switches on, built once at start.

``HttpServices.from_settings`` builds the subgraph transport (aiohttp with pool limits, timeouts,
mTLS, signing, traceparent and header propagation; wrapped by the circuit breaker and the
metrics/tracing layer), the operation limits, metrics, tracing and persisted operations;
``configure`` applies them to each ``Gateway`` (generation) and ``app`` builds the ASGI app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from gateway.config import Settings
from gateway.engine import Gateway
from gateway.executor.aiohttp_transport import AiohttpTransport
from gateway.executor.resilience import (
    CircuitBreaker,
    InstrumentedTransport,
    propagated_headers,
    tls_context,
)
from gateway.executor.signing import RequestSigner
from gateway.executor.transport import SubgraphTransport
from gateway.http import graphiql
from gateway.http.app import create_app
from gateway.http.persisted import PersistedOperations
from gateway.limits import OperationLimits
from gateway.observability.logs import configure_logging
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.tracing import Tracing
from gateway.planner import build_query_plan

if TYPE_CHECKING:
    from gateway.auth.guard import HttpGuard
    from gateway.reload import ReloadingGateway


@dataclass(slots=True)
class HttpServices:
    settings: Settings
    transport: SubgraphTransport
    limits: OperationLimits
    metrics: GatewayMetrics | None
    tracing: Tracing | None
    persisted: PersistedOperations | None
    breaker: CircuitBreaker | None

    @classmethod
    def from_settings(cls, settings: Settings, *, logs: bool = False) -> HttpServices:
        """Build the services; ``logs`` also installs the JSON log handler."""
        telemetry = settings.telemetry
        if logs:
            configure_logging(telemetry.log_format, telemetry.log_level)
        metrics = (
            GatewayMetrics(max_operation_labels=telemetry.max_operation_labels)
            if telemetry.metrics
            else None
        )
        tracing = Tracing(telemetry.tracing) if telemetry.tracing.enabled else None
        transport, breaker = build_transport(settings, metrics, tracing)
        # Always present: with APQ off a persisted query gets PERSISTED_QUERY_NOT_SUPPORTED.
        persisted = PersistedOperations.from_section(settings.persisted_queries)
        return cls(
            settings,
            transport,
            OperationLimits(settings.limits),
            metrics,
            tracing,
            persisted,
            breaker,
        )

    def gateway_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Gateway(...)``: transport, limits, planner, metrics hook."""
        options: dict[str, Any] = {"transport": self.transport, "limits": self.limits}
        if self.metrics is not None:
            options["on_plan_cache"] = self.metrics.plan_cache_lookup
        if self.tracing is not None:
            options["planner"] = self.tracing.traced_planner(build_query_plan)
        return options

    def configure(self, gateway: Gateway) -> Gateway:
        """Apply limits, the plan-cache hook and the traced planner to a gateway built elsewhere
        (its transport must be ``self.transport``)."""
        gateway.limits = self.limits
        if self.metrics is not None:
            gateway.on_plan_cache = self.metrics.plan_cache_lookup
        if self.tracing is not None:
            gateway._planner = self.tracing.traced_planner(gateway._planner)
        return gateway

    def factory(self, make: Callable[[str], Gateway]) -> Callable[[str], Gateway]:
        """A gateway factory (hot reload) whose generations are configured like the first."""

        def configured(sdl: str) -> Gateway:
            return self.configure(make(sdl))

        return configured

    def app(self, gateway: Gateway | ReloadingGateway, guard: HttpGuard | None = None) -> Starlette:
        async def close_transport() -> None:
            close = getattr(self.transport, "aclose", None)
            if close is not None:
                await close()
            if self.tracing is not None:
                self.tracing.shutdown()

        return create_app(
            gateway,
            guard,
            http=self.settings.http,
            persisted=self.persisted,
            metrics=self.metrics,
            tracing=self.tracing,
            propagate_headers=self.settings.subgraphs.propagate_headers,
            catalogue_url=graphiql.catalogue_of(self.settings.registry_poll.url),
            on_shutdown=[close_transport],
        )


def build_transport(
    settings: Settings, metrics: GatewayMetrics | None, tracing: Tracing | None
) -> tuple[SubgraphTransport, CircuitBreaker | None]:
    """aiohttp (options from ``[subgraphs]``) <- circuit breaker <- metrics and spans."""
    section = settings.subgraphs
    send: list[Callable[[str, bytes], Mapping[str, str]]] = []
    if section.signing.key is not None:
        send.append(RequestSigner(section.signing.key.get_secret_value()))
    if tracing is not None:
        send.append(tracing.traceparent)
    send_headers = None
    if len(send) == 1:
        send_headers = send[0]
    elif send:

        def send_headers(subgraph: str, body: bytes) -> Mapping[str, str]:
            headers: dict[str, str] = {}
            for hook in send:
                headers.update(hook(subgraph, body))
            return headers

    transport: SubgraphTransport = AiohttpTransport(
        timeout=section.timeout,
        timeouts=section.timeouts,
        max_connections=section.max_connections,
        max_connections_per_host=section.max_connections_per_host,
        keepalive_expiry=section.keepalive_seconds,
        deduplicate=section.deduplicate,
        request_headers=propagated_headers if section.propagate_headers else None,
        send_headers=send_headers,
        ssl_context=tls_context(section.tls),
    )
    breaker = None
    if section.circuit_breaker.enabled:
        breaker = CircuitBreaker(
            transport,
            failure_threshold=section.circuit_breaker.failure_threshold,
            reset_seconds=section.circuit_breaker.reset_seconds,
            on_change=metrics.circuit if metrics is not None else None,
        )
        transport = breaker
    if metrics is not None or tracing is not None:
        transport = InstrumentedTransport(
            transport,
            observe=metrics.observe_fetch if metrics is not None else None,
            span=tracing.fetch if tracing is not None else None,
        )
    return transport, breaker
