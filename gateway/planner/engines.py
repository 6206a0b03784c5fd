"""The planning engines, by the name ``[planner] engine`` gives them (one entry point for both)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

from graphql import DocumentNode

from gateway.planner import builder, graph_engine
from gateway.planner.plan import QueryPlan
from gateway.supergraph.model import Supergraph

Engine = Literal["greedy", "graph"]
DEFAULT_ENGINE: Engine = "graph"
ENGINES: tuple[Engine, ...] = ("greedy", "graph")


def build_query_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
    engine: Engine = DEFAULT_ENGINE,
) -> QueryPlan:
    """Plan ``operation_name`` of ``document`` (validated against ``supergraph.api_schema``)."""
    build = graph_engine.build_graph_plan if engine == "graph" else builder.build_query_plan
    return build(supergraph, document, operation_name, override_labels=override_labels)


def planner_for(engine: Engine) -> Callable[..., QueryPlan]:
    """``build_query_plan`` bound to one engine (what the gateway calls per new plan)."""
    return partial(build_query_plan, engine=engine)
