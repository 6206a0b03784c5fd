"""The query graph of a supergraph: one model of "what can be reached from where".

Built once per supergraph and cached with it (``query_graph(supergraph)``). Per subgraph there is
a node for each composite type it returns (``Node(graph, type_name)``), and another node for a
type under a ``@provides`` field (``Node.provided`` names that context), where the subgraph also
returns the provided ``@external`` fields. Edges:

- field edges (``FieldEdge``): a field the subgraph resolves at that node, leading to the node of
  the subgraph's own type of the field (``@join__field(type:)``); ``@external`` fields only in a
  ``@provides`` context; ``@override`` is decided per request (``usable(labels)``, progressive
  labels included); a ``@requires`` field is marked (its conditions are a sub-plan);
- key edges (``KeyEdge``): entity jumps to every subgraph with a resolvable ``@key`` of the type,
  also to an ``@interfaceObject`` of one of its interfaces; ``local`` says whether the head's
  subgraph returns the key fields itself, otherwise they are collected from elsewhere first;
- cast edges (``CastEdge``): an abstract type's members that this subgraph knows;
- root edges: between the subgraphs' root types (a root field may start in any subgraph).

Public API (for the planner, and for the composer's satisfiability check to come):

    graph = query_graph(supergraph)           # cached; build_query_graph() builds afresh
    graph.roots("query")                      # root nodes per subgraph
    graph.fields(node, "name", labels)        # field edges usable under these override labels
    graph.keys(node), graph.casts(node)
    field_paths(graph, node, "name", labels)  # every path (key jumps + field edge), cheapest first
    unsatisfiable(graph, node, selection_set, labels)  # None, or why a field cannot be reached

The package reads only the supergraph model (and the planner's ``@provides`` trees), so it can
move below the planner if the composer (a lower layer) is to use it.
"""

from gateway.planner.graph.build import build_query_graph, query_graph
from gateway.planner.graph.model import CastEdge, FieldEdge, KeyEdge, Node, RootEdge
from gateway.planner.graph.query_graph import QueryGraph
from gateway.planner.graph.search import Path, field_paths, unsatisfiable

__all__ = [
    "CastEdge",
    "FieldEdge",
    "KeyEdge",
    "Node",
    "Path",
    "QueryGraph",
    "RootEdge",
    "build_query_graph",
    "field_paths",
    "query_graph",
    "unsatisfiable",
]
