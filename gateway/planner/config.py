"""The ``[planner]`` configuration section."""

from __future__ import annotations

from typing import Literal

from gateway.sections import Section


class PlannerSection(Section):
    """How operations are planned."""

    #: the planning engine: "greedy" (the operation walk, first fitting choice by estimate) or
    #: "graph" (the same walk deciding on the query graph: every alternative, cheapest plan)
    engine: Literal["greedy", "graph"] = "graph"
    #: validate every new plan's subgraph operations against each subgraph's schema (a debug
    #: check, once per cached plan; an invalid plan fails with INVALID_SUBGRAPH_OPERATION)
    validate_subgraph_operations: bool = False
