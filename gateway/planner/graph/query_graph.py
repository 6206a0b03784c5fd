"""The query graph: what can be reached from where, per subgraph (read-only after ``build.py``)."""

from __future__ import annotations

from gateway.planner.graph.model import CastEdge, Edges, FieldEdge, KeyEdge, Node
from gateway.supergraph.model import Supergraph

_NO_EDGES = Edges()


class QueryGraph:
    """Nodes (a type as a subgraph returns it) with their field, key, cast and root edges."""

    def __init__(
        self,
        supergraph: Supergraph,
        edges: dict[Node, Edges],
        roots: dict[str, list[Node]],
        order: dict[str, int],
    ) -> None:
        self.supergraph = supergraph
        self._edges = edges
        self._roots = roots
        self.order = order

    def __contains__(self, node: object) -> bool:
        return node in self._edges

    @property
    def nodes(self) -> list[Node]:
        return list(self._edges)

    def roots(self, kind: str) -> list[Node]:
        """The root nodes (one per subgraph with that root type) of ``query``, ``mutation`` or
        ``subscription``, in subgraph order."""
        return self._roots.get(kind, [])

    def node(self, graph: str, type_name: str) -> Node | None:
        """The plain node (no ``@provides`` context) of ``type_name`` in ``graph``, if any."""
        node = Node(graph, type_name)
        return node if node in self._edges else None

    def nodes_of(self, type_name: str) -> list[Node]:
        """The plain nodes of ``type_name``, in subgraph order."""
        found = [Node(g, type_name) for g in self.supergraph.graphs_of_type(type_name)]
        return sorted((n for n in found if n in self._edges), key=lambda n: self.order[n.graph])

    def fields(
        self, node: Node, field_name: str, labels: frozenset[str] = frozenset()
    ) -> list[FieldEdge]:
        """The edges resolving ``field_name`` at ``node`` under these override labels."""
        edges = self._edges.get(node, _NO_EDGES).fields.get(field_name, [])
        return [edge for edge in edges if edge.usable(labels)]

    def field_names(self, node: Node) -> list[str]:
        return list(self._edges.get(node, _NO_EDGES).fields)

    def keys(self, node: Node) -> list[KeyEdge]:
        return self._edges.get(node, _NO_EDGES).keys

    def casts(self, node: Node) -> list[CastEdge]:
        return self._edges.get(node, _NO_EDGES).casts

    def root_jumps(self, node: Node) -> list[Node]:
        return [edge.tail for edge in self._edges.get(node, _NO_EDGES).roots]
