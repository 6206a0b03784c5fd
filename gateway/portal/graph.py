"""The portal's one way to the data: the gateway's public GraphQL endpoint, with the dashboard
application's token (configured; in development a token minted for ``dasbor-gubernur``).

A failure is data, not an exception: an unreachable gateway or a partial answer (one subgraph
down) comes back as a ``GraphResult`` with errors, and the page shows what it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.portal.config import PortalSettings

#: a development dashboard token lives this long (the portal mints one at start)
DEV_TOKEN_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class GraphResult:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: the gateway could not be reached or did not answer GraphQL
    unreachable: bool = False

    def failed_paths(self) -> set[str]:
        """Dotted paths of the errors, list indexes dropped (``kabupatenKota.cakupanJkn``)."""
        out = set()
        for error in self.errors:
            path = [p for p in error.get("path") or [] if isinstance(p, str)]
            if path:
                out.add(".".join(path))
        return out


def dashboard_token(settings: PortalSettings) -> str:
    """The configured dashboard token; in development, one minted for ``dasbor-gubernur``."""
    if settings.dashboard_token or not settings.dev:
        return settings.dashboard_token
    from gateway.auth.cli import mint_token

    return mint_token(
        "dasbor-gubernur", user="portal@lampungprov.go.id", ttl_seconds=DEV_TOKEN_TTL_S
    )


class GraphClient:
    """POSTs operations to ``settings.graphql`` with the dashboard token."""

    def __init__(self, settings: PortalSettings, timeout_s: float = 10.0) -> None:
        self.url = settings.graphql
        token = dashboard_token(settings)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout_s = timeout_s

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, operation: str | None = None
    ) -> GraphResult:
        body = {"query": query, "variables": variables or {}, "operationName": operation}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(self.url, json=body, headers=self.headers)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return GraphResult(None, [{"message": str(error)}], unreachable=True)
        if not isinstance(answer, dict):
            return GraphResult(None, [{"message": "jawaban bukan GraphQL"}], unreachable=True)
        return GraphResult(answer.get("data"), list(answer.get("errors") or []))
