"""The query graph (gateway/planner/graph): its edges, path search and reachability, on corpus
supergraphs whose subgraph SDLs are next to them (tests/federation/cases)."""

from __future__ import annotations

from functools import cache

from graphql import parse

from gateway.planner.graph import Node, field_paths, query_graph, unsatisfiable
from gateway.supergraph import Supergraph, load_supergraph
from tests.federation.corpus import CASES_DIR


@cache
def _supergraph(case: str) -> Supergraph:
    return load_supergraph((CASES_DIR / case / "supergraph.graphql").read_text())


def _selection(text: str):  # type: ignore[no-untyped-def]
    operation = parse(f"{{ {text} }}").definitions[0]
    return operation.selection_set  # type: ignore[attr-defined]


def test_built_once_per_supergraph() -> None:
    supergraph = _supergraph("provides/basic")
    assert query_graph(supergraph) is query_graph(supergraph)
    other = load_supergraph(supergraph.sdl)
    assert query_graph(other) is not query_graph(supergraph)


def test_an_external_field_is_an_edge_only_under_its_provides() -> None:
    graph = query_graph(_supergraph("provides/basic"))
    plain = Node("reviews", "User")
    assert graph.fields(plain, "name") == []
    (author,) = graph.fields(Node("reviews", "Review"), "author")
    assert author.tail is not None and author.tail.provided is not None
    (provided_name,) = graph.fields(author.tail, "name")
    assert provided_name.entry.external
    # Elsewhere the field is reached by a key jump to its owner.
    (path,) = field_paths(graph, plain, "name")
    assert [hop.tail.graph for hop in path.hops] == ["users"]


def test_casts_are_restricted_to_the_members_the_subgraph_knows() -> None:
    graph = query_graph(_supergraph("abstract/partial-union"))
    music = {cast.tail.type_name for cast in graph.casts(Node("music", "Result"))}
    search = {cast.tail.type_name for cast in graph.casts(Node("search", "Result"))}
    assert music == {"Song", "Book"}
    assert search == {"Book", "Movie"}


def test_override_labels_decide_per_request_which_edge_is_usable() -> None:
    graph = query_graph(_supergraph("override/progressive"))
    products = Node("products", "Product")
    pricing = Node("pricing", "Product")
    assert graph.fields(products, "price") and not graph.fields(pricing, "price")
    labels = frozenset({"percent(0)"})
    assert graph.fields(pricing, "price", labels) and not graph.fields(products, "price", labels)


def test_key_edges_say_whether_the_key_fields_are_local() -> None:
    graph = query_graph(_supergraph("entities/multiple-keys"))
    warehouse = Node("warehouse", "Product")
    edges = {(edge.tail.graph, edge.key.text): edge.local for edge in graph.keys(warehouse)}
    assert edges[("legacy", "sku")] is True
    assert edges[("catalog", "upc")] is False  # upc must be collected from legacy first
    paths = field_paths(graph, warehouse, "name")
    # Every alternative is kept, cheapest first: two local jumps before a collected one.
    assert [[hop.tail.graph for hop in p.hops] for p in paths] == [
        ["legacy", "catalog"],
        ["catalog"],
    ]
    assert paths[1].collected == 1


def test_an_interface_object_is_reached_with_the_interface_name() -> None:
    graph = query_graph(_supergraph("abstract/interface-object"))
    jumps = [edge for edge in graph.keys(Node("media", "Book")) if edge.tail.graph == "ratings"]
    assert [(edge.tail.type_name, edge.typename) for edge in jumps] == [("Media", "Media")]
    assert graph.casts(Node("ratings", "Media")) == []  # it knows no implementation


def test_unsatisfiable_names_the_field_and_why() -> None:
    graph = query_graph(_supergraph("abstract/interface-object-non-resolvable"))
    (root,) = [node for node in graph.roots("query") if graph.field_names(node)][:1]
    assert unsatisfiable(graph, root, _selection("__typename")) is None
    reachable = query_graph(_supergraph("provides/basic"))
    root = Node("reviews", "Query")
    assert unsatisfiable(reachable, root, _selection("reviews { author { name email } }")) is None
    reason = unsatisfiable(reachable, root, _selection("reviews { body nope }"))
    assert reason is not None and "Review.nope" in reason
