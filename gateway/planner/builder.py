"""Planning entry point (work in progress)."""

from __future__ import annotations

from graphql import DocumentNode

from gateway.planner.plan import QueryPlan
from gateway.supergraph.model import Supergraph


def build_query_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
) -> QueryPlan:
    """Plan ``operation_name`` of ``document`` (validated against ``supergraph.api_schema``)."""
    raise NotImplementedError
