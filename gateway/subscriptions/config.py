"""The ``[subscriptions]`` section: GraphQL subscriptions over SSE and WebSocket."""

from __future__ import annotations

from pydantic import Field

from gateway.sections import Section


class SubscriptionsSection(Section):
    """Limits and timing of subscriptions (docs/subscriptions.md)."""

    #: serve subscriptions at all (SSE on POST /graphql, WebSocket on /graphql)
    enabled: bool = True
    #: open subscriptions per client (an authenticated application, else the peer address);
    #: one more is refused with ``SUBSCRIPTION_LIMIT_EXCEEDED``
    max_per_client: int = Field(default=10, ge=1)
    #: open subscriptions in this process, all clients together
    max_total: int = Field(default=1000, ge=1)
    #: seconds between heartbeats when no event was sent (SSE comment, WebSocket ping); also
    #: the interval of WebSocket pings to subgraphs (no pong within half of it: the link failed)
    heartbeat_seconds: float = Field(default=15.0, gt=0)
    #: seconds a WebSocket client has to send ``connection_init`` (then closed with 4408)
    connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    #: seconds to open the subgraph's WebSocket and have its ``connection_ack``
    upstream_connect_timeout_seconds: float = Field(default=10.0, gt=0)
