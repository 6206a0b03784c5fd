"""The connector transport: subgraph fetches to connector subgraphs are executed here.

:class:`ConnectorServing` is built once per supergraph (engine generation) from the connectors
read back from its ``@join__directive``s. Its :meth:`~ConnectorServing.wrap` puts a
``SubgraphTransport`` in front of the process's subgraph transport: a fetch to a connector
subgraph runs the subgraph operation locally (:mod:`gateway.connectors.operation`), any other
fetch goes on unchanged. The HTTP calls go through the connector HTTP chain the composition root
built once (aiohttp <- circuit breaker per source <- metrics and spans labelled by source).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import GraphQLSchema

from .config import ConnectorsSection
from .model import Connector, ConnectorSubgraph
from .operation import ConnectorOperations
from .runtime import ConnectorContext
from .transport import ConnectorTransport

#: the client headers of the current request (lower-case names), or None
HeaderSource = Callable[[], Mapping[str, str] | None]


class ConnectorServing:
    """The connector subgraphs of one supergraph and how their fetches are executed."""

    def __init__(
        self,
        models: Mapping[str, ConnectorSubgraph],
        schema: GraphQLSchema,
        http: ConnectorTransport,
        section: ConnectorsSection,
        *,
        client_headers: HeaderSource = lambda: None,
        identifier_names: frozenset[str] = frozenset(),
    ) -> None:
        self.models = dict(models)
        self.operations = {name: ConnectorOperations(m, schema) for name, m in models.items()}
        self.http = http
        self._client_headers = client_headers
        self._identifier_names = identifier_names
        self._max_concurrency = section.max_concurrency
        self._config = section.source_config()
        self._base_urls = section.base_urls()
        self._timeouts = section.timeouts()
        self._headers = section.headers()

    def serves(self, subgraph: str) -> bool:
        return subgraph in self.operations

    def contexts(self) -> Callable[[Connector], ConnectorContext]:
        """Context per source for one fetch (the client headers of the current request)."""
        client = self._client_headers() or {}
        made: dict[str, ConnectorContext] = {}

        def context(connector: Connector) -> ConnectorContext:
            key = f"{connector.subgraph}.{connector.source}"
            found = made.get(key)
            if found is None:
                allowed = self._headers.get(key, frozenset())
                headers = {k.lower(): [v] for k, v in client.items() if k.lower() in allowed}
                found = made[key] = ConnectorContext(
                    subgraph=self.models[connector.subgraph],
                    transport=self.http,
                    config=self._config,
                    base_urls=self._base_urls,
                    timeouts=self._timeouts,
                    request_headers=headers,
                    max_concurrency=self._max_concurrency,
                    identifier_names=self._identifier_names,
                )
            return found

        return context

    def describe(self, service: str, operation: str) -> list[str]:
        """How a plan prints a fetch to a connector subgraph: one line per connector it may
        call (``connect GET "/kendaraan/{$args.nopol}" (bapenda.samsat)``); none for others."""
        operations = self.operations.get(service)
        if operations is None:
            return []
        return [_describe(c) for c in operations.connectors_of(operation)]

    def wrap(self, inner: Any) -> ConnectorSubgraphTransport:
        return ConnectorSubgraphTransport(inner, self)


def _describe(connector: Connector) -> str:
    where = f"{connector.subgraph}.{connector.source}" if connector.source else connector.coordinate
    batch = " (batch)" if connector.is_batch else ""
    return f'connect {connector.method} "{connector.url.source}" ({where}){batch}'


class ConnectorSubgraphTransport:
    """A ``SubgraphTransport``: connector subgraphs here, every other subgraph to ``inner``."""

    def __init__(self, inner: Any, serving: ConnectorServing) -> None:
        self.inner = inner
        self.serving = serving

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        operations = self.serving.operations.get(subgraph)
        if operations is None:
            return await self.inner.fetch(subgraph, url, body)
        return await operations.execute(
            body.get("query", ""),
            body.get("variables"),
            body.get("operationName"),
            self.serving.contexts(),
        )

    async def aclose(self) -> None:
        """The shared transports belong to the composition root (closed at shutdown)."""
