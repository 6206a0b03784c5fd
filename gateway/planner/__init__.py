"""Operation + supergraph -> QueryPlan. Pure: no I/O; plans are frozen data (``plan.py``)."""

from gateway.planner.engines import ENGINES, Engine, build_query_plan, planner_for
from gateway.planner.plan import QueryPlan
from gateway.planner.printer import print_plan

__all__ = ["ENGINES", "Engine", "QueryPlan", "build_query_plan", "planner_for", "print_plan"]
