"""The ``[planner]`` configuration section."""

from __future__ import annotations

from gateway.sections import Section


class PlannerSection(Section):
    """How operations are planned."""

    #: validate every new plan's subgraph operations against each subgraph's schema (a debug
    #: check, once per cached plan; an invalid plan fails with INVALID_SUBGRAPH_OPERATION)
    validate_subgraph_operations: bool = False
    #: send fetches to one subgraph that run at the same time as one request (``merge.py``);
    #: off: one request per fetch, as the planner made them
    merge_fetches: bool = True
