"""Reading one subgraph: @link imports (renamed, namespaced), Federation 1, root renaming."""

from __future__ import annotations

from gateway.composition.subgraph import read_subgraph


def test_link_imports_may_be_renamed_and_namespaced() -> None:
    sdl = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",
      import: [{name: "@key", as: "@kunci"}, "@shareable"])
    type Query { a: T }
    type T @kunci(fields: "id") { id: ID! x: Int @federation__external y: Int @shareable }
    """
    sub, errors = read_subgraph("a", sdl)
    assert errors == [] and sub is not None
    t = sub.types["T"]
    assert [k.fields for k in t.keys] == ["id"]
    assert t.fields["x"].external and t.fields["y"].shareable
    assert sub.version == (2, 3)


def test_subgraph_without_link_is_federation_1() -> None:
    sub, _ = read_subgraph(
        "a", 'extend type Query { a: Int } type T @key(fields: "id") { id: ID! }'
    )
    assert sub is not None and sub.version == (1, 0) and not sub.fed2
    assert sub.types["T"].keys[0].fields == "id"


def test_unimported_federation_directive_is_an_error_that_says_how_to_fix_it() -> None:
    sdl = """extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    type Query { a: Int @shareable }"""
    _, errors = read_subgraph("kesehatan", sdl)
    assert errors[0].code == "INVALID_GRAPHQL"
    assert errors[0].message == (
        "[kesehatan] Query.a: uses @shareable, which is neither imported nor defined. Add "
        '"@shareable" to the import list of the federation @link.'
    )


def test_renamed_root_types_become_query_and_mutation() -> None:
    sdl = """schema { query: RootQuery mutation: RootMutation }
    type RootQuery { a: Int } type RootMutation { b(x: Int): Int }"""
    sub, _ = read_subgraph("a", sdl)
    assert sub is not None and {"Query", "Mutation"} <= set(sub.types)


def test_service_machinery_is_dropped() -> None:
    sdl = """scalar _Any
    type _Service { sdl: String }
    union _Entity = T
    type Query { _service: _Service! _entities(representations: [_Any!]!): [_Entity]! a: Int }
    type T @key(fields: "id") { id: ID! }"""
    sub, errors = read_subgraph("a", sdl)
    assert errors == [] and sub is not None
    assert set(sub.types) == {"Query", "T"} and set(sub.types["Query"].fields) == {"a"}


def test_reference_to_an_undefined_type_suggests_a_near_name() -> None:
    _, errors = read_subgraph("a", "type Query { w: Wilyah } type Wilayah { kode: ID }")
    assert errors[0].message == (
        '[a] Query.w: refers to type "Wilyah", which this subgraph does not define. '
        'Did you mean "Wilayah"?'
    )
