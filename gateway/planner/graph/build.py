"""Build the query graph of a supergraph (once; ``query_graph`` caches it on the supergraph)."""

from __future__ import annotations

from itertools import permutations

from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
)

from gateway.planner.graph.model import CastEdge, Edges, FieldEdge, KeyEdge, Node, RootEdge
from gateway.planner.graph.query_graph import QueryGraph
from gateway.planner.provides import Provided, provided_child, provided_from, provides_field
from gateway.supergraph.model import Supergraph

_CACHE_KEY = "query_graph"


def query_graph(supergraph: Supergraph) -> QueryGraph:
    """The supergraph's query graph, built on first use and kept with the supergraph."""
    cached = supergraph.derived.get(_CACHE_KEY)
    if isinstance(cached, QueryGraph):
        return cached
    built = build_query_graph(supergraph)
    supergraph.derived[_CACHE_KEY] = built
    return built


def build_query_graph(supergraph: Supergraph) -> QueryGraph:
    return _Builder(supergraph).build()


class _Builder:
    def __init__(self, supergraph: Supergraph) -> None:
        self.sg = supergraph
        self.schema = supergraph.schema
        self.edges: dict[Node, Edges] = {}
        self.provided: dict[Node, Provided] = {}
        self.order = {name: i for i, name in enumerate(supergraph.subgraphs)}

    def build(self) -> QueryGraph:
        for type_name, per_graph in self.sg.type_graphs.items():
            if not self._composite(type_name):
                continue
            for graph in sorted(per_graph, key=self.order.__getitem__):
                self._node(Node(graph, type_name), None)
        for node in list(self.edges):
            self._add_keys(node)
        roots: dict[str, list[Node]] = {}
        for kind, root in (
            ("query", self.schema.query_type),
            ("mutation", self.schema.mutation_type),
            ("subscription", self.schema.subscription_type),
        ):
            if root is None:
                continue
            nodes = [Node(g, root.name) for g in self.sg.graphs_of_type(root.name)]
            nodes = [n for n in nodes if n in self.edges]
            nodes.sort(key=lambda n: self.order[n.graph])
            roots[kind] = nodes
            for head, tail in permutations(nodes, 2):
                self.edges[head].roots.append(RootEdge(head, tail))
        return QueryGraph(self.sg, self.edges, roots, self.order)

    # -- nodes and field edges ------------------------------------------------------------------

    def _node(self, node: Node, provided: Provided | None) -> Node:
        if node in self.edges:
            return node
        edges = self.edges[node] = Edges()
        if provided:
            self.provided[node] = provided
        gql_type = self.schema.type_map[node.type_name]
        info = self.sg.graphs_of_type(node.type_name).get(node.graph)
        object_like = isinstance(gql_type, GraphQLObjectType) or (
            info is not None and info.is_interface_object
        )
        if not object_like:
            members = self.sg.runtime_types(node.type_name, node.graph)
            for member in sorted(members, key=self._type_order):
                member_node = self._node(Node(node.graph, member, node.provided), provided)
                edges.casts.append(CastEdge(node, member_node))
        if isinstance(gql_type, GraphQLUnionType):
            return node
        assert isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType)
        for field_name, definition in gql_type.fields.items():
            entry = self.sg.graphs_of_field(node.type_name, field_name).get(node.graph)
            if entry is None:
                continue
            if entry.external and not provides_field(provided, node.type_name, field_name, self.sg):
                continue  # never read an @external field outside a @provides
            named, depth = _unwrap(definition.type)
            if entry.type_text:
                own = entry.type_text.strip("[]!")
                named = own if own in self.schema.type_map else named
            tail: Node | None = None
            if self._composite(named):
                child = provided_child(provided, node.type_name, field_name, self.sg)
                if entry.provides is not None:
                    child = provided_from(entry.provides, child)
                context = None
                if child:
                    context = f"{node.provided or ''}/{node.type_name}.{field_name}"
                tail = self._node(Node(node.graph, named, context), child)
            edges.fields.setdefault(field_name, []).append(
                FieldEdge(node, field_name, entry, tail, depth)
            )
        return node

    # -- key edges ------------------------------------------------------------------------------

    def _add_keys(self, node: Node) -> None:
        type_name = node.type_name
        targets: list[tuple[str, str, bool]] = [
            (graph, type_name, info.is_interface_object)
            for graph, info in self.sg.graphs_of_type(type_name).items()
        ]
        gql_type = self.schema.type_map[type_name]
        if isinstance(gql_type, GraphQLObjectType):
            for interface in gql_type.interfaces:
                for graph, info in self.sg.graphs_of_type(interface.name).items():
                    if info.is_interface_object:
                        targets.append((graph, interface.name, True))
        provided = self.provided.get(node)
        for graph, target_type, interface_object in sorted(targets, key=lambda t: self.order[t[0]]):
            if graph == node.graph and target_type != type_name:
                continue  # a jump back into the same subgraph (for a @requires) keeps the type
            info = self.sg.graphs_of_type(target_type)[graph]
            tail = Node(graph, target_type)
            if tail not in self.edges:
                continue
            typename = target_type if interface_object else None
            for key in info.resolvable_keys:
                local = self._supplies(node.graph, type_name, key.selection_set, provided)
                self.edges[node].keys.append(KeyEdge(node, tail, key, local, typename))

    def _supplies(
        self, graph: str, type_name: str, selection_set: SelectionSetNode, provided: Provided | None
    ) -> bool:
        """Whether ``graph`` returns every field of a key field set itself (at this node)."""
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else type_name
                )
                if not self._supplies(graph, condition, selection.selection_set, provided):
                    return False
                continue
            if not isinstance(selection, FieldNode):
                return False
            name = selection.name.value
            if name == "__typename":
                continue
            entry = self.sg.graphs_of_field(type_name, name).get(graph)
            if entry is None:
                return False
            if entry.external and not provides_field(provided, type_name, name, self.sg):
                return False
            if selection.selection_set is not None:
                definition = getattr(self.schema.type_map[type_name], "fields", {}).get(name)
                if definition is None:
                    return False
                child_type, _ = _unwrap(definition.type)
                child = provided_child(provided, type_name, name, self.sg)
                if not self._supplies(graph, child_type, selection.selection_set, child):
                    return False
        return True

    # -- helpers --------------------------------------------------------------------------------

    def _composite(self, type_name: str) -> bool:
        return isinstance(
            self.schema.type_map.get(type_name),
            GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        )

    def _type_order(self, type_name: str) -> int:
        return list(self.schema.type_map).index(type_name)


def _unwrap(gql_type: object) -> tuple[str, int]:
    depth = 0
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        if isinstance(gql_type, GraphQLList):
            depth += 1
        gql_type = gql_type.of_type
    return str(getattr(gql_type, "name", "")), depth
