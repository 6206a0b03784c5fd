"""Operation + supergraph -> QueryPlan. Pure: no I/O; plans are frozen data (``plan.py``)."""

from gateway.planner.builder import build_query_plan
from gateway.planner.plan import QueryPlan
from gateway.planner.printer import print_plan

__all__ = ["QueryPlan", "build_query_plan", "print_plan"]
