"""Path search on the query graph: every way to reach a field from a node, cheapest first.

A path is a chain of key jumps (each one more fetch) ending in the field edge. The search keeps
every alternative up to ``max_hops`` jumps instead of the first one found; a jump whose key
fields the head subgraph lacks counts as usable only when each missing key field can itself be
reached from the head without going through the jump's target (keys collected from elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.planner.graph.model import FieldEdge, KeyEdge, Node
from gateway.planner.graph.query_graph import QueryGraph

MAX_HOPS = 3


@dataclass(frozen=True, slots=True)
class Path:
    """Key jumps then the field edge; ``collected`` jumps need key fields from other subgraphs."""

    hops: tuple[KeyEdge, ...]
    edge: FieldEdge

    @property
    def collected(self) -> int:
        return sum(1 for hop in self.hops if not hop.local)

    def cost(self, order: dict[str, int]) -> tuple[int, int, int]:
        """Fetches added (jumps and the key fields they collect), then the target's order."""
        return (len(self.hops) + self.collected, self.collected, order[self.edge.head.graph])


def field_paths(
    graph: QueryGraph,
    start: Node,
    field_name: str,
    labels: frozenset[str] = frozenset(),
    *,
    max_hops: int = MAX_HOPS,
    avoid: frozenset[str] = frozenset(),
) -> list[Path]:
    """Every path from ``start`` to an edge resolving ``field_name``, cheapest first.

    ``avoid``: subgraphs the path may not enter (used when collecting a jump's key fields).
    """
    found: list[Path] = []
    frontier: list[tuple[Node, tuple[KeyEdge, ...]]] = [(start, ())]
    # A subgraph entered by local jumps only is not entered again by a longer path; one entered
    # by a jump that collects key fields still is (a longer local route may be cheaper).
    settled = {start.graph}
    for hops_taken in range(max_hops + 1):
        entered: set[str] = set()
        next_frontier: list[tuple[Node, tuple[KeyEdge, ...]]] = []
        for node, hops in frontier:
            for edge in graph.fields(node, field_name, labels):
                found.append(Path(hops, edge))
            if hops_taken == max_hops:
                continue
            visited = {start.graph, *(hop.tail.graph for hop in hops)}
            for hop in graph.keys(node):
                target = hop.tail.graph
                if target in settled or target in visited or target in avoid:
                    continue
                if not hop.local and not _collectable(graph, hop, labels, avoid):
                    continue
                if hop.local and all(h.local for h in hops):
                    entered.add(target)
                next_frontier.append((hop.tail, (*hops, hop)))
        settled |= entered
        frontier = next_frontier
        if not frontier:
            break
    found.sort(key=lambda path: path.cost(graph.order))
    return found


def _collectable(
    graph: QueryGraph, hop: KeyEdge, labels: frozenset[str], avoid: frozenset[str]
) -> bool:
    """Whether each key field of ``hop`` can be had from its head (by one jump at most)."""
    blocked = avoid | {hop.tail.graph}
    for selection in hop.key.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return False
        name = selection.name.value
        if name == "__typename":
            continue
        paths = field_paths(graph, hop.head, name, labels, max_hops=1, avoid=blocked)
        if not any(not path.edge.requires for path in paths):
            return False
    return True


def unsatisfiable(
    graph: QueryGraph,
    start: Node,
    selection_set: SelectionSetNode,
    labels: frozenset[str] = frozenset(),
) -> str | None:
    """Why some field of ``selection_set`` cannot be reached from ``start``, or None.

    The composer's satisfiability check and the planner's refusal share this: a field is
    reachable when some path leads to it and everything below it is reachable from there (or
    from another of its paths).
    """
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            targets = [start]
            if condition is not None and condition != start.type_name:
                targets = [c.tail for c in graph.casts(start) if _narrows(graph, c.tail, condition)]
            for target in targets:
                reason = unsatisfiable(graph, target, selection.selection_set, labels)
                if reason is not None:
                    return reason
            continue
        if not isinstance(selection, FieldNode):
            continue
        name = selection.name.value
        if name.startswith("__"):
            continue
        reason = _field_reason(graph, start, selection, labels)
        if reason is not None:
            return reason
    return None


def _field_reason(
    graph: QueryGraph, start: Node, selection: FieldNode, labels: frozenset[str]
) -> str | None:
    name = selection.name.value
    casts = graph.casts(start)
    if casts and not graph.fields(start, name, labels):
        # An abstract position: the field must be reachable for every member the subgraph returns.
        for cast in casts:
            reason = _field_reason(graph, cast.tail, selection, labels)
            if reason is not None:
                return reason
        return None
    paths = field_paths(graph, start, name, labels)
    if not paths:
        return (
            f"{start.type_name}.{name} cannot be reached from subgraph {start.graph}: no subgraph "
            f"that resolves it has a @key of {start.type_name} that can be supplied from there"
        )
    if selection.selection_set is None:
        return None
    # Each sub-selection may come from another path's tail: a value type's fields split across
    # subgraphs are fetched along the whole path from the nearest entity (or root) in each.
    tails = [path.edge.tail for path in paths if path.edge.tail is not None]
    for child in selection.selection_set.selections:
        single = SelectionSetNode(selections=(child,))
        reasons = [unsatisfiable(graph, tail, single, labels) for tail in tails]
        if reasons and all(reason is not None for reason in reasons):
            return reasons[0]
    return None


def _narrows(graph: QueryGraph, node: Node, condition: str) -> bool:
    possible = graph.supergraph.possible_types.get(condition)
    return node.type_name == condition or (possible is not None and node.type_name in possible)
