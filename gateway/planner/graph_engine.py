"""The ``graph`` planning engine: the operation walk of ``builder.py``, deciding on the query graph.

Where the walk must choose, this engine asks the query graph (``gateway.planner.graph``) for
every alternative instead of taking the first one, and picks by cost:

- a root field served by several subgraphs: each candidate subgraph is planned on trial (the
  field's whole subtree, with its jumps) and the cheapest plan wins — fewest fetches (a root
  fetch already opened for that subgraph is free), then shortest sequence, then fewest fields
  asked; ties keep subgraph order;
- an entity jump: the key routes come from the graph's key edges, shortest first, a route whose
  key fields must be collected from other subgraphs last; the target subgraph is the one with
  the cheapest estimate, fields asked directly of an interface included (the walk's estimate
  skips them, so it would jump to a subgraph lacking them and then jump again);
- the candidates of a field are the graph's field edges: ``@external`` only under ``@provides``,
  ``@override`` per request labels, ``@interfaceObject`` targets included.

It plans subscriptions too: one root fetch (kind ``subscription``) to the subgraph that owns the
field, then entity fetches as for a query. Plans use the same data model, fetch assembly,
aliasing and printer as the greedy engine.
"""

from __future__ import annotations

from graphql import DocumentNode

from gateway.errors import PlanningError
from gateway.planner.builder import FetchGroup, WalkPlanner, _direct_fields, _Hop, plan_with
from gateway.planner.graph import Node, QueryGraph, field_paths, query_graph
from gateway.planner.graph.model import KeyEdge
from gateway.planner.plan import QueryPlan
from gateway.planner.provides import Provided, provided_child
from gateway.planner.selections import Field, Selection
from gateway.supergraph.model import FieldInSubgraph, Supergraph

_MAX_ROUTE = 3
_UNPLANNABLE = (1 << 30, 0, 0)


def build_graph_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
) -> QueryPlan:
    """Plan ``operation_name`` of ``document`` with the query-graph engine."""
    return plan_with(GraphPlanner, supergraph, document, operation_name, override_labels)


class GraphPlanner(WalkPlanner):
    plans_subscriptions = True

    def __init__(self, supergraph: Supergraph, labels: frozenset[str]) -> None:
        super().__init__(supergraph, labels)
        self.graph: QueryGraph = query_graph(supergraph)
        #: a trial plan (costing one alternative) decides the rest without nested trials
        self.trial = False
        self._forced_root: str | None = None

    # -- root fields: every candidate subgraph planned on trial ---------------------------------

    def _root_group_for(
        self,
        root: str,
        root_field: Field,
        candidates: list[tuple[str, FieldInSubgraph]],
        kind: str,
    ) -> FetchGroup:
        graphs = [g for g, _ in candidates]
        if kind == "mutation" and self.root_groups and self.root_groups[-1].service in graphs:
            return self.root_groups[-1]  # mutation root fields run in order: stay in one fetch
        existing = {} if kind == "mutation" else {g.service: g for g in self.root_groups}
        forced, self._forced_root = self._forced_root, None
        if forced in graphs:
            chosen = forced
        elif len(graphs) == 1 or self.trial:
            return super()._root_group_for(root, root_field, candidates, kind)
        else:
            costs = {g: self._trial_cost(root_field, g, kind, g in existing) for g in graphs}
            chosen = min(
                graphs,
                key=lambda g: (costs[g], 0 if g in existing else 1, self._graph_order[g]),
            )
        if chosen in existing:
            return existing[chosen]
        group = self._new_group(chosen, (), False, None)
        self.root_groups.append(group)
        return group

    def _trial_cost(
        self, root_field: Field, graph: str, kind: str, reuses_root: bool
    ) -> tuple[int, int, int]:
        """(fetches, sequence depth, fields asked) of ``root_field`` planned from ``graph``."""
        trial = GraphPlanner(self.sg, self.labels)
        trial.trial = True
        trial._forced_root = graph
        try:
            trial.plan_root([root_field], kind)
        except PlanningError:
            return _UNPLANNABLE
        live = [g for g in trial.groups if g.selections]
        fetches = len(live) - (1 if reuses_root else 0)
        depths: dict[int, int] = {}

        def depth(group: FetchGroup) -> int:
            if group.id not in depths:
                depths[group.id] = 0
                depths[group.id] = 1 + max((depth(p) for p in group.parents), default=0)
            return depths[group.id]

        deepest = max((depth(g) for g in live), default=0)
        return (fetches, deepest, sum(_size(g.selections) for g in live))

    # -- the estimate of a jump target: fields asked of an interface count too --------------------

    def _estimate_set(
        self,
        graph: str,
        type_name: str,
        selections: list[Selection],
        provided: Provided | None,
        depth: int,
    ) -> int:
        """The walk's estimate, plus the fields asked directly of an abstract position: one more
        fetch when ``graph`` does not resolve one of them for every member it returns there."""
        cost = super()._estimate_set(graph, type_name, selections, provided, depth)
        if not self._is_abstract(type_name):
            return cost
        runtime = self._returned(graph, type_name)
        missing = False
        for fld in _direct_fields(selections, type_name, self.sg):
            if fld.name.startswith("__"):
                continue
            if not self._resolves_for_all(graph, type_name, runtime, fld.name, provided):
                missing = True
                continue
            child = provided_child(provided, type_name, fld.name, self.sg)
            cost += self._estimate_field(graph, type_name, fld, child, depth)
        return cost + (1 if missing else 0)

    def _resolves_for_all(
        self,
        graph: str,
        abstract: str,
        runtime: frozenset[str],
        field_name: str,
        provided: Provided | None,
    ) -> bool:
        if self._resolving_entry(graph, abstract, field_name, provided) is None:
            return False
        return all(
            self._resolving_entry(graph, member, field_name, provided) is not None
            for member in runtime
            if (member, field_name) in self.sg.field_graphs
        )

    # -- candidates and key routes from the query graph -----------------------------------------

    def _candidates(
        self, type_name: str, field_name: str
    ) -> list[tuple[str, str, FieldInSubgraph]]:
        found: list[tuple[str, str, FieldInSubgraph]] = []
        nodes = list(self.graph.nodes_of(type_name))
        gql_type = self.schema.type_map.get(type_name)
        for interface in getattr(gql_type, "interfaces", ()):
            nodes += [
                n
                for n in self.graph.nodes_of(interface.name)
                if self.sg.graphs_of_type(interface.name)[n.graph].is_interface_object
            ]
        for node in nodes:
            for edge in self.graph.fields(node, field_name, self.labels):
                if not edge.entry.external:
                    found.append((node.graph, node.type_name, edge.entry))
        found.sort(key=lambda c: self._graph_order[c[0]])
        return found

    def _route(
        self, source: str, type_name: str, target: str, target_type: str, provided: Provided | None
    ) -> list[_Hop] | None:
        start = self.graph.node(source, type_name)
        if provided or start is None:
            # Under @provides the position is a context node the walk tracks as a tree.
            return super()._route(source, type_name, target, target_type, provided)
        goal = Node(target, target_type)
        best: tuple[tuple[int, int], list[KeyEdge]] | None = None
        for hops in self._key_routes(start, goal):
            collected = sum(1 for hop in hops if not hop.local)
            if collected and (hops[-1].local or len(hops) > 1):
                continue  # key fields are collected for the last (only) jump, as the walk plans
            if collected and (type_name, target) in self._collecting:
                continue
            cost = (len(hops) + collected, collected)
            if best is None or cost < best[0]:
                best = (cost, hops)
        if best is None:
            return None
        return [
            _Hop(h.tail.graph, h.tail.type_name, h.key, h.typename, collected=not h.local)
            for h in best[1]
        ]

    def _key_routes(self, start: Node, goal: Node) -> list[list[KeyEdge]]:
        """Chains of key edges from ``start`` to ``goal`` (intermediate hops keep the type)."""
        routes: list[list[KeyEdge]] = []
        frontier: list[tuple[Node, list[KeyEdge]]] = [(start, [])]
        seen = {start.graph}
        for _ in range(_MAX_ROUTE):
            next_frontier: list[tuple[Node, list[KeyEdge]]] = []
            for node, hops in frontier:
                for hop in self.graph.keys(node):
                    if hop.tail == goal:
                        if hop.local or self._collectable(hop):
                            routes.append([*hops, hop])
                        continue
                    if (
                        hop.local
                        and hop.tail.type_name == start.type_name
                        and hop.tail.graph not in seen
                        and hop.tail.graph != goal.graph
                    ):
                        seen.add(hop.tail.graph)
                        next_frontier.append((hop.tail, [*hops, hop]))
            if any(all(hop.local for hop in route) for route in routes):
                break  # a longer route cannot be cheaper than a local one
            frontier = next_frontier
        return routes

    def _collectable(self, hop: KeyEdge) -> bool:
        """Whether the key fields ``hop``'s head lacks can be had by a jump from it first."""
        for selection in hop.key.selection_set.selections:
            name = getattr(getattr(selection, "name", None), "value", None)
            if name is None:
                return False
            if name == "__typename":
                continue
            paths = field_paths(
                self.graph,
                hop.head,
                name,
                self.labels,
                max_hops=1,
                avoid=frozenset({hop.tail.graph}),
            )
            if not any(not p.edge.requires and not p.edge.entry.external for p in paths):
                return False
        return True


def _size(selections: list[Selection]) -> int:
    return sum((1 if isinstance(s, Field) else 0) + _size(s.selections) for s in selections)
