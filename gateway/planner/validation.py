"""Debug check: every fetch of a plan is a valid operation for the subgraph it is sent to.

A subgraph rejects an operation its own schema does not allow (a field it lacks, a fragment on a
type it does not have there, a same-named field with another type, an empty selection); the
request then fails at run time with the subgraph's message. This check finds such plans at plan
time instead, naming the fetch: it validates each fetch's document, variable definitions included,
against the subgraph's schema rebuilt from the supergraph (``gateway.supergraph.subgraph_schema``).

Plans are cached, so the gateway runs it once per plan when ``[planner]
validate_subgraph_operations`` is on (every corpus and differential test turns it on).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Visitor,
    parse,
    validate,
    visit,
)

from gateway.errors import PlanningError
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from gateway.supergraph.model import Supergraph
from gateway.supergraph.subgraph_schema import build_subgraph_schemas

#: The stable code of a plan that would send a subgraph an operation its schema rejects.
INVALID_SUBGRAPH_OPERATION = "INVALID_SUBGRAPH_OPERATION"


class SubgraphOperationValidator:
    """Validates plans against one supergraph's subgraph schemas (built on first use)."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.supergraph = supergraph
        self._schemas: dict[str, GraphQLSchema] | None = None

    @property
    def schemas(self) -> dict[str, GraphQLSchema]:
        if self._schemas is None:
            self._schemas = build_subgraph_schemas(self.supergraph)
        return self._schemas

    def errors(self, plan: QueryPlan) -> list[str]:
        """One message per invalid fetch (empty when every fetch is valid)."""
        problems: list[str] = []
        for index, fetch in enumerate(fetches(plan.node)):
            schema = self.schemas.get(fetch.service)
            label = f"fetch {index} to subgraph {fetch.service!r}"
            if schema is None:
                problems.append(f"{label}: the supergraph has no such subgraph")
                continue
            try:
                document = parse(fetch.operation)
            except GraphQLError as error:
                problems.append(f"{label} does not parse: {error.message}")
                continue
            reasons = "; ".join(
                [*_empty_selection_sets(document), *(e.message for e in validate(schema, document))]
            )
            if reasons:
                problems.append(f"{label} is invalid against its schema: {reasons}")
        return problems

    def check(self, plan: QueryPlan) -> None:
        """Raise ``PlanningError`` (code ``INVALID_SUBGRAPH_OPERATION``) naming the bad fetches."""
        problems = self.errors(plan)
        if problems:
            raise PlanningError(
                "the query plan would send an invalid subgraph operation: " + " | ".join(problems),
                code=INVALID_SUBGRAPH_OPERATION,
            )


def validate_plan(plan: QueryPlan, supergraph: Supergraph) -> None:
    """Check every fetch of ``plan`` (see the module docstring); raises ``PlanningError``.

    Builds the subgraph schemas each call: callers that check many plans keep a
    ``SubgraphOperationValidator`` instead.
    """
    SubgraphOperationValidator(supergraph).check(plan)


class _EmptySelections(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.selection_set is not None and not node.selection_set.selections:
            self.found.append(f"Field '{node.name.value}' has an empty selection set")

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: object) -> None:
        if not node.selection_set.selections:
            on = f" on {node.type_condition.name.value}" if node.type_condition else ""
            self.found.append(f"Inline fragment{on} has an empty selection set")


def _empty_selection_sets(document: DocumentNode) -> list[str]:
    """graphql-core parses ``{ }``; the GraphQL grammar (and graphql-js subgraphs) do not."""
    visitor = _EmptySelections()
    visit(document, visitor)
    return visitor.found


def fetches(node: PlanNode | None) -> Iterator[FetchNode | MergedFetchNode]:
    """The plan's requests in printing order (depth first); a merged fetch is one document."""
    match node:
        case None:
            return
        case FetchNode() | MergedFetchNode():
            yield node
        case FlattenNode(node=fetch):
            yield fetch
        case SequenceNode(nodes=children) | ParallelNode(nodes=children):
            for child in children:
                yield from fetches(child)
        case ConditionNode(if_clause=if_clause, else_clause=else_clause):
            yield from fetches(if_clause)
            yield from fetches(else_clause)
