"""The operation walk's corner cases, in document mode and in request mode.

A small schema with an interface, a union and lists; every test reads which fields the walk
yields (with the type they are selected on and the conditions it carries) or collects.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, OperationDefinitionNode, build_schema, parse
from hypothesis import given
from hypothesis import strategies as st

from gateway.operation import Condition, OperationWalk, condition_variables
from gateway.operation.introspection import introspection_document, only_meta_fields

SCHEMA = build_schema(
    """
    type Query { animals: [Animal!]! things: [Thing!]! me: Dog }
    interface Animal { id: ID! name: String! }
    type Dog implements Animal { id: ID! name: String! breed: String }
    type Cat implements Animal { id: ID! name: String! lives: Int }
    type Toy { label: String }
    union Thing = Dog | Toy
    """
)


def walk(query: str, variables: dict[str, Any] | None = None) -> OperationWalk:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return OperationWalk(document, operation, SCHEMA, variables)


def flat(w: OperationWalk, root_field: str = "animals") -> list[tuple[str, str, str]]:
    """(type selected on, response key, conditions) of every field under ``root_field``."""
    root = next(f for f in w.root_fields() if f.name == root_field)
    assert root.node.selection_set is not None and root.definition is not None
    parent = root.definition.type
    while hasattr(parent, "of_type"):
        parent = parent.of_type
    out = []
    for field in w.fields(root.node.selection_set, parent):
        conditions = ",".join(
            f"{'' if c.passes_when else '!'}{c.variable}" for c in field.conditions
        )
        out.append((field.parent.name if field.parent else "?", field.key, conditions))
    return out


def collected(w: OperationWalk, type_name: str, root_field: str = "animals") -> list[str]:
    root = next(f for f in w.root_fields() if f.name == root_field)
    assert root.node.selection_set is not None
    runtime = SCHEMA.get_type(type_name)
    assert isinstance(runtime, GraphQLObjectType)
    return list(w.collect_fields(runtime, (root.node.selection_set,)))


NESTED = """
query($v: Boolean!) { animals { ...A } }
fragment A on Animal { id ...B @include(if: $v) }
fragment B on Animal { name ... on Dog { breed } }
"""


def test_nested_named_fragments_are_resolved_with_their_types_and_conditions() -> None:
    assert flat(walk(NESTED)) == [
        ("Animal", "id", ""),
        ("Animal", "name", "v"),
        ("Dog", "breed", "v"),
    ]


def test_request_mode_decides_conditions_with_the_variables() -> None:
    assert flat(walk(NESTED, {"v": True})) == [
        ("Animal", "id", ""),
        ("Animal", "name", ""),
        ("Dog", "breed", ""),
    ]
    assert flat(walk(NESTED, {"v": False})) == [("Animal", "id", "")]


def test_literal_conditions_apply_in_both_modes() -> None:
    query = (
        "{ animals { id @skip(if: true) name @include(if: true) ... @include(if: false) { id } } }"
    )
    assert flat(walk(query)) == [("Animal", "name", "")]
    assert flat(walk(query, {})) == [("Animal", "name", "")]


def test_skip_and_include_together_need_both() -> None:
    query = "query($a: Boolean!, $b: Boolean!) { animals { id @skip(if: $a) @include(if: $b) } }"
    assert flat(walk(query)) == [("Animal", "id", "!a,b")]
    assert flat(walk(query, {"a": False, "b": True})) == [("Animal", "id", "")]
    assert flat(walk(query, {"a": True, "b": True})) == []
    assert flat(walk(query, {"a": False, "b": False})) == []


def test_a_repeated_fragment_is_collected_once_per_spec() -> None:
    query = "{ animals { ...A ...A id } } fragment A on Animal { name id }"
    w = walk(query, {})
    assert collected(w, "Dog") == ["name", "id"]
    # fields() expands every spread (what limits and cost count)
    assert [key for _, key, _ in flat(w)] == ["name", "id", "name", "id", "id"]


def test_aliases_are_response_keys_and_typename_has_no_definition() -> None:
    w = walk("{ animals { handle: name __typename kind: __typename } }", {})
    root = w.root_fields()[0]
    assert root.node.selection_set is not None
    animal = SCHEMA.get_type("Animal")
    fields = list(w.fields(root.node.selection_set, animal))  # type: ignore[arg-type]
    assert [(f.key, f.name) for f in fields] == [
        ("handle", "name"),
        ("__typename", "__typename"),
        ("kind", "__typename"),
    ]
    assert fields[0].definition is not None and fields[1].definition is None


def test_abstract_type_conditions_apply_by_runtime_type() -> None:
    query = """{
      animals { id ... on Dog { breed } ... on Cat { lives } }
      things { ... on Animal { name } ... on Toy { label } }
    }"""
    w = walk(query, {})
    assert collected(w, "Dog") == ["id", "breed"]
    assert collected(w, "Cat") == ["id", "lives"]
    # an interface condition inside a union applies to its implementations only
    assert collected(w, "Dog", "things") == ["name"]
    assert collected(w, "Toy", "things") == ["label"]


def test_defaults_are_the_coerced_values_the_request_mode_sees() -> None:
    # The engine coerces variables (defaults included) before walking in request mode.
    query = "query($v: Boolean = false) { animals { id name @include(if: $v) } }"
    assert flat(walk(query, {"v": False})) == [("Animal", "id", "")]
    # a value that is not a boolean (impossible after validation) keeps the selection
    assert flat(walk(query, {})) == [("Animal", "id", ""), ("Animal", "name", "")]


def test_unknown_fragments_are_skipped_and_cycles_cut_where_they_close() -> None:
    # before validation (limits run there), a consumer may recurse without guards
    query = """
    { animals { ...A ...Missing ...C } }
    fragment A on Animal { ...B id }
    fragment B on Animal { name ...A }
    fragment C on Animal { name }
    """
    # A -> B is followed, B -> A closes the cycle and is not
    assert flat(walk(query)) == [
        ("Animal", "name", ""),
        ("Animal", "id", ""),
        ("Animal", "name", ""),
    ]
    assert flat(walk("{ animals { ...S } } fragment S on Animal { id ...S }")) == [
        ("Animal", "id", "")
    ]


def test_as_written_keeps_literal_exclusions_for_the_limits() -> None:
    document = parse("{ animals @skip(if: true) { a: id b: id } me @include(if: false) { id } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    as_written = OperationWalk(document, operation, SCHEMA, as_written=True)
    assert [f.key for f in as_written.root_fields()] == ["animals", "me"]
    assert OperationWalk(document, operation, SCHEMA).root_fields() == []


def test_condition_variables_and_conditions_match_the_planners_shape() -> None:
    document = parse(NESTED + "query Other($w: Boolean!) { me { id @skip(if: $w) } }")
    assert condition_variables(document) == {"v", "w"}
    assert Condition("v", True).holds({"v": True}) and not Condition("v", False).holds({"v": True})


def test_introspection_document_keeps_root_fragments_and_their_conditions() -> None:
    query = """
    query($v: Boolean!) { __typename ...R @include(if: $v) animals { id } }
    fragment R on Query { __schema { queryType { name } } }
    """
    w = walk(query)
    document = introspection_document(w)
    assert document is not None
    from graphql import print_ast

    printed = print_ast(document)
    assert "... on Query @include(if: $v) {\n    __schema" in printed
    assert not only_meta_fields(w)
    assert only_meta_fields(walk("{ __typename animals @skip(if: true) { id } }"))


@pytest.mark.parametrize("mode", [None, {"v": True}])
def test_the_same_walk_gives_the_same_fragment_targets(mode: dict[str, Any] | None) -> None:
    w = walk(
        "query($v: Boolean!) { things { ... on Dog { id } ...T } } fragment T on Toy { label }",
        mode,
    )
    root = w.root_fields()[0]
    assert root.node.selection_set is not None
    thing = SCHEMA.get_type("Thing")
    targets = [
        s.target.name
        for s in w.selections(root.node.selection_set, thing)  # type: ignore[arg-type]
    ]
    assert targets == ["Dog", "Toy"]


CONDITIONAL = """
query($a: Boolean!, $b: Boolean!, $c: Boolean!) {
  animals {
    id @skip(if: $a)
    ...N @include(if: $b)
    ... on Dog @skip(if: $c) { breed @include(if: $a) name }
  }
}
fragment N on Animal { name @skip(if: $c) ... on Cat @include(if: $a) { lives } }
"""


@given(a=st.booleans(), b=st.booleans(), c=st.booleans())
def test_request_mode_equals_document_mode_with_the_values_written_in(
    a: bool, b: bool, c: bool
) -> None:
    variables = {"a": a, "b": b, "c": c}
    literal = CONDITIONAL
    for name, value in variables.items():
        literal = literal.replace(f"${name})", f"{str(value).lower()})")
    in_request = flat(walk(CONDITIONAL, variables))
    assert in_request == flat(walk(literal))
    # and document mode carries exactly the conditions that decide it
    carried = [
        (parent, key)
        for parent, key, conditions in flat(walk(CONDITIONAL))
        if all(
            variables[c.lstrip("!")] is (not c.startswith("!")) for c in conditions.split(",") if c
        )
    ]
    assert [(parent, key) for parent, key, _ in in_request] == carried


def test_a_bare_field_set_walks_in_document_mode() -> None:
    # what the planner needs for @key/@requires/@provides field sets
    selection_set = parse("{ id reviews { body } }").definitions[0].selection_set  # type: ignore[attr-defined]
    w = OperationWalk.of_selection_set(selection_set)
    assert not w.request_mode
    assert [(s.key, s.conditions) for s in w.selections(selection_set, None)] == [
        ("id", ()),
        ("reviews", ()),
    ]
