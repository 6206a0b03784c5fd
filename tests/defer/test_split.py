"""Cutting an operation into its parts' own operations (gateway/planner/defer.py) and a deferred
fragment's response into its ``incremental`` entries (gateway/executor/defer.py)."""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, parse, print_ast

from gateway.executor.defer import active_fragments, has_targets, incremental_entries
from gateway.planner.defer import (
    DeferredOperation,
    deferred_documents,
    deferred_operation,
    has_defer,
    strip_defer,
)


def _deferred(query: str) -> DeferredOperation:
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    deferred = deferred_operation(document, operation)
    assert deferred is not None
    return deferred


def _entries(query: str, response: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    return incremental_entries(_deferred(query), index, response, {})


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_strip_defer_removes_only_defer() -> None:
    document = parse('{ a ... @defer(label: "x") { b @include(if: true) } }')
    assert has_defer(document)
    stripped = strip_defer(document)
    assert not has_defer(stripped)
    assert print_ast(stripped) == "{\n  a\n  ... {\n    b @include(if: true)\n  }\n}"
    assert deferred_operation(stripped, stripped.definitions[0]) is None  # type: ignore[arg-type]


def test_each_part_is_its_own_operation_from_the_root() -> None:
    deferred = _deferred(
        """
        query Q($x: Boolean!) { me { name ...R @defer(label: "r") } other @include(if: $x) { id } }
        fragment R on User { reviews(first: 2) { body ... @defer(label: "a") { author { name } } } }
        """
    )
    documents = deferred_documents(deferred, frozenset({0, 1}))
    assert _flat(documents.primary.text) == (
        "query Q($x: Boolean!) { me { name } other @include(if: $x) { id } }"
    )
    # the fragment: the path to it, __typename beside it (its objects are fetched even when
    # access control refuses all its fields), its own fields without the nested deferred ones
    assert _flat(documents.fragments[0].text) == (
        "query Q($x: Boolean!) { me { __typename ... on User { reviews(first: 2) { body } } } }"
    )
    assert _flat(print_ast(documents.fragments[1].shape)) == (
        "query Q($x: Boolean!) { me { ... on User { reviews(first: 2) { ... { author { name } } }"
        " } } }"
    )
    assert documents.parents == {0: None, 1: 0}
    # the outer fragment inactive: the inner one's parent is the primary part, which selects R
    inner_only = deferred_documents(deferred, frozenset({1}))
    assert inner_only.parents == {1: None}
    assert "fragment R on User" in inner_only.primary.text
    assert "author" not in inner_only.primary.text


def test_a_selection_set_left_empty_is_planned_with_typename_and_shaped_empty() -> None:
    documents = deferred_documents(_deferred("{ u { ... @defer { name } } }"), frozenset({0}))
    assert _flat(documents.primary.text) == "{ u { __typename } }"
    assert _flat(print_ast(documents.primary.shape)) == "{ u {} }"


def test_defer_if_false_or_a_false_variable_does_not_defer() -> None:
    assert active_fragments(_deferred("{ a ... @defer(if: false) { b } }"), {}) == frozenset()
    deferred = _deferred("query($d: Boolean) { a ... @defer(if: $d) { b } }")
    assert active_fragments(deferred, {"d": False}) == frozenset()
    assert active_fragments(deferred, {"d": True}) == {0}
    assert active_fragments(deferred, {}) == {0}  # unset: the default, if: true


def test_list_items_each_get_an_entry_with_their_path() -> None:
    response = {"data": {"xs": [{"b": 2}, {"b": 4}]}}
    assert _entries('{ xs { a ... @defer(label: "L") { b } } }', response) == [
        {"data": {"b": 2}, "path": ["xs", 0], "label": "L"},
        {"data": {"b": 4}, "path": ["xs", 1], "label": "L"},
    ]


def test_objects_outside_the_type_condition_or_null_get_no_entry() -> None:
    query = "{ xs { id ... on Dog @defer { bark } } }"
    response = {"data": {"xs": [{"bark": "woof"}, {}, None]}}
    assert _entries(query, response) == [{"data": {"bark": "woof"}, "path": ["xs", 0]}]
    assert not has_targets(_deferred(query), 0, {"xs": []})
    assert has_targets(_deferred(query), 0, {"xs": [{"id": "1"}]})


def test_an_error_goes_with_the_entry_of_its_object() -> None:
    error = {"message": "boom", "path": ["xs", 1, "slow"], "extensions": {"code": "X"}}
    response = {"errors": [error], "data": {"xs": [{"slow": 1}, {"slow": None}]}}
    assert _entries("{ xs { id ... @defer { slow } } }", response) == [
        {"data": {"slow": 1}, "path": ["xs", 0]},
        {"data": {"slow": None}, "path": ["xs", 1], "errors": [error]},
    ]


def test_an_error_on_the_path_is_not_lost() -> None:
    error = {"message": "down", "path": ["u"], "extensions": {"code": "X"}}
    assert _entries(
        '{ u { id ... @defer(label: "L") { slow } } }', {"errors": [error], "data": {"u": None}}
    ) == [{"data": None, "path": ["u"], "label": "L", "errors": [error]}]
