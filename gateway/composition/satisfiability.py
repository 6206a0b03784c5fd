"""Satisfiability: every field that a query can reach can also be resolved.

Checked on the planner's query graph (``gateway.querygraph``), built from the supergraph just
composed, so the composer and the planner share one model of "what can be reached from where":
key jumps (keys collected over two hops included), ``@interfaceObject``, ``@provides`` contexts,
``@external``, ``@override`` and each subgraph's own field types are the graph's, not this
module's.

A walk over states (a type, and the graph nodes the object may be at there: every subgraph some
choice of plan leads to), starting at the root types in every subgraph. From a state the walk asks
the graph's path search for each field of the type; a field refused by every node of the state
is unsatisfiable on that query path (``unsatisfiable`` says why). The tails of the paths are the
next state; an abstract type goes on to each implementation through the graph's down-casts (an
``@interfaceObject`` first jumps to a subgraph defining the interface, which tells the concrete
type). A field with ``@requires`` counts only where its conditions are reachable in turn.

Override labels are decided per request: the walk runs with no label active and with every label
active (each progressive override is then seen from both of its sides).
"""

from __future__ import annotations

from collections import deque

from graphql import (
    DocumentNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
)

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.errors import SupergraphError
from gateway.querygraph import (
    CastEdge,
    Node,
    QueryGraph,
    build_query_graph,
    field_paths,
    unsatisfiable,
)
from gateway.querygraph.search import Path
from gateway.supergraph import load_supergraph

#: the graph nodes an object may be at on one query path (all of one type)
State = frozenset[Node]
_ROOTS = ("query", "mutation", "subscription")


def check_satisfiability(
    supergraph_sdl: str, parsed: tuple[DocumentNode, GraphQLSchema] | None = None
) -> list[CompositionError]:
    """The satisfiability errors of a composed (valid GraphQL) supergraph.

    Modelled as the gateway models it (whether the gateway can serve its features is not asked
    here); a supergraph that cannot be modelled is refused rather than left unchecked.
    """
    try:
        supergraph = load_supergraph(supergraph_sdl, to_serve=False, parsed=parsed)
    except SupergraphError as exc:
        return [
            error(
                E.SATISFIABILITY_ERROR,
                f"the composed supergraph cannot be checked for satisfiability: {exc}",
            )
        ]
    graph = build_query_graph(supergraph)
    found: list[CompositionError] = []
    reported: set[tuple[str, ...]] = set()
    label_sets = [frozenset[str]()]
    if supergraph.override_labels:
        label_sets.append(supergraph.override_labels)
    for labels in label_sets:
        found.extend(_Walk(graph, labels, reported).run())
    return found


class _Walk:
    def __init__(
        self, graph: QueryGraph, labels: frozenset[str], reported: set[tuple[str, ...]]
    ) -> None:
        self.graph = graph
        self.sg = graph.supergraph
        self.schema = graph.supergraph.schema
        self.labels = labels
        self.parent: dict[State, tuple[State, str] | None] = {}
        self.queue: deque[State] = deque()
        self.found: list[CompositionError] = []
        self.reported = reported

    def run(self) -> list[CompositionError]:
        for kind in _ROOTS:
            roots = frozenset(self.graph.roots(kind))
            if roots and roots not in self.parent:
                self.parent[roots] = None
                self.queue.append(roots)
        while self.queue:
            self.visit(self.queue.popleft())
        return self.found

    def visit(self, state: State) -> None:
        type_name = next(iter(state)).type_name
        gql_type = self.schema.type_map.get(type_name)
        if isinstance(gql_type, GraphQLInterfaceType | GraphQLUnionType):
            self.push_implementations(state, type_name)
            # An @interfaceObject (no down-casts) resolves the interface's fields itself.
            flat = frozenset(node for node in state if not self.graph.casts(node))
            if isinstance(gql_type, GraphQLInterfaceType) and flat:
                self.push_fields(state, flat, gql_type)
            return
        if isinstance(gql_type, GraphQLObjectType):
            self.push_fields(state, state, gql_type)

    # -- abstract types -------------------------------------------------------------------------

    def push_implementations(self, state: State, type_name: str) -> None:
        by_member: dict[str, set[Node]] = {}
        for node in state:
            casts = self.graph.casts(node)
            if not casts:
                casts = self.interface_owners(state, node)
            for cast in casts:
                by_member.setdefault(cast.tail.type_name, set()).add(cast.tail)
        for member in sorted(by_member):
            self.push(frozenset(by_member[member]), state, f"... on {member}")

    def interface_owners(self, state: State, node: Node) -> list[CastEdge]:
        """The down-casts of the subgraphs defining the interface that ``node`` (an
        ``@interfaceObject``) reaches by a key jump; reports the state when there is none."""
        found = [
            cast
            for hop in self.graph.keys(node)
            if hop.local or unsatisfiable(self.graph, node, hop.key.selection_set) is None
            for cast in self.graph.casts(hop.tail)
        ]
        if not found and ("interfaceObject", node.type_name) not in self.reported:
            self.reported.add(("interfaceObject", node.type_name))
            self.found.append(self.interface_object_error(state, node))
        return found

    # -- fields ---------------------------------------------------------------------------------

    def push_fields(
        self, state: State, asked: State, gql_type: GraphQLObjectType | GraphQLInterfaceType
    ) -> None:
        type_name = gql_type.name
        for field_name in gql_type.fields:
            paths = [
                path
                for node in sorted(asked, key=self.node_order)
                for path in field_paths(self.graph, node, field_name, self.labels)
                if self.conditions_met(path)
            ]
            if not paths:
                key = (type_name, field_name)
                if key not in self.reported:
                    self.reported.add(key)
                    self.found.append(self.field_error(state, asked, type_name, field_name))
                continue
            by_type: dict[str, set[Node]] = {}
            for path in paths:
                tail = path.edge.tail
                if tail is not None:
                    by_type.setdefault(tail.type_name, set()).add(tail)
            for nodes in by_type.values():
                self.push(frozenset(nodes), state, field_name)

    def conditions_met(self, path: Path) -> bool:
        """A ``@requires`` field counts where its conditions can be fetched for the entity."""
        requires = path.edge.entry.requires
        if requires is None:
            return True
        return unsatisfiable(self.graph, path.edge.head, requires, self.labels) is None

    # -- bookkeeping ----------------------------------------------------------------------------

    def push(self, state: State, parent: State, via: str) -> None:
        if state in self.parent:
            return
        self.parent[state] = (parent, via)
        self.queue.append(state)

    def node_order(self, node: Node) -> tuple[int, str]:
        return self.graph.order[node.graph], node.provided or ""

    def query_text(self, state: State, last: str) -> str:
        steps: list[str] = [last]
        current: State | None = state
        while current is not None:
            link = self.parent.get(current)
            if link is None:
                break
            current, via = link
            steps.append(via)
        steps.reverse()
        return "{ " + " { ".join(steps) + " }" * len(steps)

    # -- errors ---------------------------------------------------------------------------------

    def field_error(
        self, state: State, asked: State, type_name: str, field_name: str
    ) -> CompositionError:
        entries = self.sg.graphs_of_field(type_name, field_name)
        owners = sorted(g for g, entry in entries.items() if not entry.external) or sorted(entries)
        where = ", ".join(f"[{g}]" for g in owners)
        graphs = sorted({node.graph for node in asked}, key=self.graph.order.__getitem__)
        here = ", ".join(f"[{g}]" for g in graphs)
        query = self.query_text(state, field_name)
        reached = [
            path
            for node in asked
            for path in field_paths(self.graph, node, field_name, self.labels)
        ]
        if reached:  # every path ends in a @requires whose conditions cannot be fetched
            edge = reached[0].edge
            requires = edge.entry.requires
            assert requires is not None
            why = unsatisfiable(self.graph, edge.head, requires, self.labels)
            message = (
                f"the query {query} cannot be answered: {field_name} is resolved by "
                f'[{edge.head.graph}] only with @requires(fields: "{edge.entry.requires_text}"), '
                f"and those fields cannot be fetched for {type_name} there: {why}."
            )
        else:
            message = (
                f"the query {query} cannot be answered: {here} returns {type_name} there, but "
                f"only {where} resolves {field_name}, and {type_name} has no resolvable @key in "
                f"{where} whose fields {here} can provide. Add such a @key to {type_name} in "
                f"{where}, or resolve {field_name} in {here} too (@shareable)."
            )
        return error(E.SATISFIABILITY_ERROR, message, graphs[0], type_name, field_name)

    def interface_object_error(self, state: State, node: Node) -> CompositionError:
        type_name = node.type_name
        implementations = sorted(self.sg.possible_types.get(type_name, ()))
        last = f"... on {implementations[0]}" if implementations else "__typename"
        io_graphs = sorted(
            {n.graph for n in state if not self.graph.casts(n)}, key=self.graph.order.__getitem__
        )
        here = ", ".join(f"[{g}]" for g in io_graphs)
        return error(
            E.SATISFIABILITY_ERROR,
            f"the query {self.query_text(state, last)} cannot be answered for the "
            f"implementations of {type_name}: {here} knows {type_name} only as an "
            f"@interfaceObject, and no subgraph defining the interface {type_name} can be "
            "reached through a resolvable @key to tell which implementation each object is. "
            "Make the interface's @key resolvable there.",
            io_graphs[0],
            type_name,
        )
