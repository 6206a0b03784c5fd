"""The composition root: ``Settings`` in, a gateway ready to serve out. Nothing else wires.

``Services.from_settings`` builds what a process shares, once: logging, metrics and tracing,
the subgraph transport (HTTP client <- circuit breaker <- metrics/spans), the operation limits
and persisted operations. ``Services.open_gateway`` builds one engine generation on a supergraph:
with ``[auth] enabled`` and a supergraph that links the authorization specs it gets access
control (authorization, masking, the audit log); this is the only place ``AccessControl`` is
built. ``assemble`` adds the HTTP guard (tokens, applications, rate limits), a static or
registry-following (hot-reloading) engine, and the ASGI app. With metrics and an audit log, the
DPO's unusual-access alerts (``gateway.audit.alerts``) are published on the gateway's ``/metrics``
(``AlertExport``), where Prometheus scrapes. ``jamajama gateway`` (and through
it ``jamajama dev``), hot reload (each new generation) and the tests all go through here.

A supergraph with connector subgraphs (``@join__directive`` of the connect spec) gets a
connector transport in front of the subgraph transport (``gateway.connectors.serving``): their
fetches are executed by the gateway's HTTP connectors, through one connector HTTP chain per
process (aiohttp <- circuit breaker per source <- metrics and spans), configured by
``[connectors]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from graphql import GraphQLError, parse
from starlette.applications import Starlette

from gateway.access_requests.service import reapply_grants
from gateway.audit.alerts import AlertMetrics, AlertRules, detect
from gateway.audit.log import AuditLog, open_audit_log
from gateway.auth.access import AccessControl
from gateway.auth.applications import create_registry
from gateway.auth.guard import HttpGuard
from gateway.config import Settings
from gateway.connectors.serving import ConnectorServing
from gateway.connectors.supergraph import read_supergraph_connectors
from gateway.connectors.transport import AiohttpConnectorTransport, ConnectorTransport
from gateway.engine import Gateway
from gateway.errors import GatewayError
from gateway.executor.aiohttp_transport import AiohttpTransport
from gateway.executor.config import SubgraphsSection
from gateway.executor.lean_transport import LeanTransport
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
from gateway.ratelimit.client import ClientAddresses
from gateway.ratelimit.limiter import RateLimiter
from gateway.registry.usage import HttpUsageSink, UsageRecorder
from gateway.reload import ReloadingGateway, reloading_gateway_from_registry
from gateway.subscriptions.manager import SubscriptionManager
from gateway.subscriptions.upstream import SubgraphSubscriptions
from gateway.supergraph import load_supergraph
from gateway.supergraph.links import AUTHORIZATION_FEATURES, read_links
from gateway.supergraph.model import Supergraph

logger = logging.getLogger("jamajama.audit")


class AlertExport:
    """The DPO alerts as the gauge ``jamajama_audit_alerts{kind,application}`` on the gateway's
    ``/metrics``: computed by ``gateway.audit.alerts.detect`` (the one definition, the DPO page
    shows the same) over the shared audit log, so every replica reports the whole province's
    window, refreshed every ``interval`` seconds. Several workers each report the same values
    (``max by (kind, application)`` in alerting rules)."""

    def __init__(
        self, metrics: GatewayMetrics, interval: float = 60.0, rules: AlertRules | None = None
    ) -> None:
        registry = None if metrics.multiprocess else metrics.registry
        self.metrics = AlertMetrics(registry)
        self.interval = interval
        self.rules = rules or AlertRules()
        self.audit: AuditLog | None = None
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Recompute the alerts now (a failing audit store keeps the last values, logged)."""
        if self.audit is None:
            return
        try:
            records = await self.audit.store.records()
        except GatewayError as error:
            logger.warning("DPO alerts not refreshed: %s", error.message)
            return
        self.metrics.publish(detect(records, datetime.now(UTC), self.rules))

    async def start(self) -> None:
        async def loop() -> None:
            while True:
                await self.refresh()
                await asyncio.sleep(self.interval)

        self._task = asyncio.create_task(loop())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def links_authorization(sdl: str) -> bool:
    """Whether the supergraph links @authenticated, @requiresScopes or @policy."""
    try:
        features = read_links(parse(sdl, no_location=True))
    except GraphQLError:
        return False
    return any(f.identity in AUTHORIZATION_FEATURES for f in features)


@dataclass(slots=True)
class Services:
    """What every engine generation of one process shares (built once, closed at shutdown)."""

    settings: Settings
    transport: SubgraphTransport
    limits: OperationLimits
    metrics: GatewayMetrics | None
    tracing: Tracing | None
    persisted: PersistedOperations | None
    breaker: CircuitBreaker | None
    #: the HTTP chain of connector calls (keys are sources: ``bapenda.samsat``)
    connector_http: ConnectorTransport | None = None
    #: opened with the first secured generation (a gateway without auth directives needs none)
    _audit: AuditLog | None = field(default=None, repr=False)
    #: the DPO alerts on ``/metrics`` (with metrics on)
    alerts: AlertExport | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, logs: bool = False) -> Services:
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
        if metrics is not None:
            persisted.on_unavailable = metrics.shared_store_unavailable
        limits = OperationLimits(settings.limits)
        connector_http = build_connector_transport(settings, metrics, tracing)
        alerts = AlertExport(metrics) if metrics is not None else None
        return cls(
            settings,
            transport,
            limits,
            metrics,
            tracing,
            persisted,
            breaker,
            connector_http,
            alerts=alerts,
        )

    def secured(self, sdl: str) -> bool:
        """Whether a generation on ``sdl`` gets access control."""
        return self.settings.auth.enabled and links_authorization(sdl)

    def open_gateway(
        self,
        sdl: str,
        subgraph_urls: Mapping[str, str] | None = None,
        *,
        deduplicate: bool | None = None,
    ) -> Gateway:
        """One engine generation on ``sdl`` (raises ``GatewayError`` if it does not load)."""
        settings = self.settings
        planner = build_query_plan
        if self.tracing is not None:
            planner = self.tracing.traced_planner(planner)
        access = None
        secured = self.secured(sdl)
        supergraph = load_supergraph(sdl, authorization_enforced=secured)
        if secured:
            if self._audit is None and settings.audit.enabled:
                self._audit = open_audit_log(settings.audit)
                if self.metrics is not None:
                    self._audit.on_queue_depth = self.metrics.audit_queue_depth
                    self._audit.on_dropped = self.metrics.audit_record_dropped
                if self.alerts is not None:
                    self.alerts.audit = self._audit
            access = AccessControl(
                supergraph,
                settings.auth,
                self._audit,
                subject_fields=settings.audit.subject_fields,
                fail_closed=settings.audit.fail_closed,
            )
        if deduplicate is None:
            deduplicate = settings.server.deduplicate_requests
        serving = self.connector_serving(sdl, supergraph)
        gateway = Gateway(
            supergraph,
            transport=serving.wrap(self.transport) if serving is not None else self.transport,
            subgraph_urls=subgraph_urls,
            planner=planner,
            access=access,
            limits=self.limits,
            on_plan_cache=self.metrics.plan_cache_lookup if self.metrics is not None else None,
            validate_subgraph_operations=settings.planner.validate_subgraph_operations,
            merge_fetches=settings.planner.merge_fetches,
            # with access control every caller is authorized, masked and audited on its own
            deduplicate_requests=deduplicate and access is None,
        )
        if serving is not None:
            gateway.describe_fetch = serving.describe
        return gateway

    def connector_serving(self, sdl: str, supergraph: Supergraph) -> ConnectorServing | None:
        """The connector subgraphs of ``supergraph`` (None: it has none); raises
        ``ConnectorSchemaError`` (a ``GatewayError``) listing every problem of their SDLs."""
        if "https://specs.apollo.dev/connect" not in supergraph.features:
            return None
        models = read_supergraph_connectors(sdl)
        if not models:
            return None
        if self.connector_http is None:
            self.connector_http = build_connector_transport(self.settings, None, None)
        identifiers = self.settings.auth.identifiers.kinds.values()
        names = {c.rsplit(".", 1)[-1] for kind in identifiers for c in kind.fields + kind.arguments}
        return ConnectorServing(
            models,
            supergraph.schema,
            self.connector_http,
            self.settings.connectors,
            client_headers=propagated_headers,
            identifier_names=frozenset(names),
        )

    def factory(self, subgraph_urls: Mapping[str, str] | None = None) -> Callable[[str], Gateway]:
        """Builds generations for hot reload, each configured like the first."""

        def open_generation(sdl: str) -> Gateway:
            return self.open_gateway(sdl, subgraph_urls)

        return open_generation

    def guard(self) -> HttpGuard:
        """Tokens, consumer applications and rate limits in front of a secured gateway."""
        auth = self.settings.auth
        limit = self.settings.rate_limit
        unavailable = self.metrics.shared_store_unavailable if self.metrics is not None else None
        limiter = RateLimiter(limit, on_unavailable=unavailable) if limit.enabled else None
        addresses = ClientAddresses(limit.trusted_proxies, limit.forwarded_header)
        return HttpGuard(
            auth,
            create_registry(auth.applications),
            limiter,
            addresses=addresses,
            # seeding resets the registry to the configuration; approved access requests go back
            after_seed=lambda registry: reapply_grants(registry, auth.applications),
        )

    def app(self, gateway: Gateway | ReloadingGateway, guard: HttpGuard | None = None) -> Starlette:
        """The ASGI app; at shutdown (after the audit writes are drained) it also closes what
        the generations share: the transport, the audit log and tracing."""

        async def close_shared() -> None:
            if self.alerts is not None:
                await self.alerts.aclose()
            for transport in (self.transport, self.connector_http):
                close = getattr(transport, "aclose", None)
                if close is not None:
                    await close()
            if self.tracing is not None:
                self.tracing.shutdown()
            if self._audit is not None:  # records still being written, then the final checkpoint
                if gateway.access is not None:
                    await gateway.access.drain()
                await self._audit.aclose()

        return create_app(
            gateway,
            guard,
            http=self.settings.http,
            persisted=self.persisted,
            metrics=self.metrics,
            tracing=self.tracing,
            # what subgraphs receive and what connector sources may receive (each filters)
            propagate_headers=sorted(
                {
                    *(h.lower() for h in self.settings.subgraphs.propagate_headers),
                    *self.settings.connectors.all_headers(),
                }
            ),
            catalogue_url=graphiql.catalogue_of(self.settings.registry_poll.url),
            on_startup=[self.alerts.start] if self.alerts is not None else None,
            on_shutdown=[close_shared],
            subscriptions=self.subscriptions(gateway),
        )

    def subscriptions(self, gateway: Gateway | ReloadingGateway) -> SubscriptionManager:
        """Subscriptions (``[subscriptions]``); the subgraph handshakes signed like requests."""
        section = self.settings.subscriptions
        key = self.settings.subgraphs.signing.key
        signer = RequestSigner(key.get_secret_value()) if key is not None else None
        upstream = SubgraphSubscriptions(
            connect_timeout=section.upstream_connect_timeout_seconds,
            signer=signer,
            heartbeat=section.heartbeat_seconds,
        )
        return SubscriptionManager(gateway, section, upstream, self.metrics)


@dataclass(slots=True)
class Assembly:
    """A gateway ready to serve: its services, engine, guard and ASGI app."""

    services: Services
    gateway: Gateway | ReloadingGateway
    guard: HttpGuard | None
    app: Starlette


def assemble(
    settings: Settings,
    *,
    supergraph_sdl: str | None = None,
    subgraph_urls: Mapping[str, str] | None = None,
    deduplicate: bool | None = None,
    logs: bool = False,
) -> Assembly:
    """The gateway of ``settings``: on ``supergraph_sdl``, or (when it is None) following the
    registry at ``[registry_poll] url``. Raises ``GatewayError`` when nothing can be served."""
    services = Services.from_settings(settings, logs=logs)
    guard: HttpGuard | None = None
    gateway: Gateway | ReloadingGateway
    if supergraph_sdl is not None:
        gateway = services.open_gateway(supergraph_sdl, subgraph_urls, deduplicate=deduplicate)
        if gateway.access is not None:
            guard = services.guard()
    else:
        poll = settings.registry_poll
        usage = None
        if poll.url is not None and poll.usage_token is not None:
            usage = UsageRecorder(HttpUsageSink(poll.url, poll.usage_token.get_secret_value()))
        gateway = reloading_gateway_from_registry(
            services.factory(subgraph_urls), poll, usage=usage
        )
        if settings.auth.enabled:
            guard = services.guard()
    return Assembly(services, gateway, guard, services.app(gateway, guard))


def build_transport(
    settings: Settings, metrics: GatewayMetrics | None, tracing: Tracing | None
) -> tuple[SubgraphTransport, CircuitBreaker | None]:
    """The HTTP client (``subgraph_client``) <- circuit breaker <- metrics and spans."""
    section = settings.subgraphs
    send: list[Callable[[str, str, bytes], Mapping[str, str]]] = []
    if section.signing.key is not None:
        send.append(RequestSigner(section.signing.key.get_secret_value()))
    if tracing is not None:
        traceparent = tracing.traceparent
        send.append(lambda subgraph, url, body: traceparent(subgraph, body))
    send_headers = None
    if len(send) == 1:
        send_headers = send[0]
    elif send:

        def send_headers(subgraph: str, url: str, body: bytes) -> Mapping[str, str]:
            headers: dict[str, str] = {}
            for hook in send:
                headers.update(hook(subgraph, url, body))
            return headers

    transport: SubgraphTransport = subgraph_client(section, send_headers)
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


def subgraph_client(
    section: SubgraphsSection,
    send_headers: Callable[[str, str, bytes], Mapping[str, str]] | None = None,
) -> AiohttpTransport:
    """The HTTP client ``[subgraphs] transport`` names, with the section's pools, timeouts, caps,
    TLS and propagated headers: the one place it is built (tests build theirs here too)."""
    client = LeanTransport if section.transport == "lean" else AiohttpTransport
    return client(
        timeout=section.timeout,
        timeouts=section.timeouts,
        max_connections=section.max_connections,
        max_connections_per_host=section.max_connections_per_host,
        keepalive_expiry=section.keepalive_seconds,
        deduplicate=section.deduplicate,
        request_headers=_only(section.propagate_headers) if section.propagate_headers else None,
        send_headers=send_headers,
        ssl_context=tls_context(section.tls),
        max_response_bytes=section.max_response_bytes,
        max_response_bytes_by_subgraph=section.max_response_bytes_by_subgraph,
    )


def _only(names: list[str]) -> Callable[[], Mapping[str, str] | None]:
    """The propagated client headers a subgraph receives (connector sources may see others)."""
    wanted = frozenset(h.lower() for h in names)

    def headers() -> Mapping[str, str] | None:
        found = propagated_headers()
        if not found:
            return None
        return {k: v for k, v in found.items() if k in wanted} or None

    return headers


def build_connector_transport(
    settings: Settings, metrics: GatewayMetrics | None, tracing: Tracing | None
) -> ConnectorTransport:
    """aiohttp (``[connectors]``) <- circuit breaker per source (``[subgraphs.circuit_breaker]``)
    <- metrics and spans labelled by source (never by URL: it may carry arguments)."""
    section = settings.connectors
    transport: ConnectorTransport = AiohttpConnectorTransport(
        timeout=section.timeout, max_response_bytes=section.max_response_bytes
    )
    breaker = settings.subgraphs.circuit_breaker
    if breaker.enabled:
        transport = CircuitBreaker(
            transport,
            failure_threshold=breaker.failure_threshold,
            reset_seconds=breaker.reset_seconds,
            on_change=metrics.circuit if metrics is not None else None,
        )
    if metrics is not None or tracing is not None:
        transport = InstrumentedTransport(
            transport,
            observe=metrics.observe_fetch if metrics is not None else None,
            span=tracing.fetch if tracing is not None else None,
        )
    return transport
