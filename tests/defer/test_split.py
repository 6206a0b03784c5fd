"""Splitting a complete response into incremental-delivery parts (gateway/executor/defer.py)."""

from __future__ import annotations

from typing import Any

from graphql import OperationDefinitionNode, parse, print_ast

from gateway.executor.defer import split_response
from gateway.planner.defer import deferred_operation, has_defer, strip_defer


def _split(
    query: str, response: dict[str, Any], variables: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    document = parse(query)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    deferred = deferred_operation(document, operation)
    assert deferred is not None
    return split_response(response, deferred, variables)


def test_strip_defer_removes_only_defer() -> None:
    document = parse('{ a ... @defer(label: "x") { b @include(if: true) } }')
    assert has_defer(document)
    stripped = strip_defer(document)
    assert not has_defer(stripped)
    assert print_ast(stripped) == "{\n  a\n  ... {\n    b @include(if: true)\n  }\n}"
    assert deferred_operation(stripped, stripped.definitions[0]) is None  # type: ignore[arg-type]


def test_list_items_each_get_an_entry_with_their_path() -> None:
    response = {"data": {"xs": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}}
    parts = _split('{ xs { a ... @defer(label: "L") { b } } }', response)
    assert parts == [
        {"data": {"xs": [{"a": 1}, {"a": 3}]}, "hasNext": True},
        {
            "incremental": [
                {"data": {"b": 2}, "path": ["xs", 0], "label": "L"},
                {"data": {"b": 4}, "path": ["xs", 1], "label": "L"},
            ],
            "hasNext": False,
        },
    ]


def test_a_field_in_both_parts_is_in_both_with_its_own_subselection() -> None:
    response = {"data": {"u": {"id": "1", "name": "Ada"}, "x": 9}}
    parts = _split("{ u { id } ... @defer { u { name } } x }", response)
    assert parts[0] == {"data": {"u": {"id": "1"}, "x": 9}, "hasNext": True}
    assert parts[1]["incremental"] == [{"data": {"u": {"name": "Ada"}}, "path": []}]


def test_an_error_inside_a_deferred_fragment_goes_with_that_entry_only() -> None:
    error = {"message": "boom", "path": ["u", "slow"], "extensions": {"code": "X"}}
    top = {"message": "top", "path": ["v"]}
    response = {"errors": [error, top], "data": {"u": {"id": "1", "slow": None}, "v": None}}
    primary, rest = _split("{ u { id ... @defer { slow } } v }", response)
    assert primary == {"errors": [top], "data": {"u": {"id": "1"}, "v": None}, "hasNext": True}
    assert rest["incremental"] == [{"data": {"slow": None}, "path": ["u"], "errors": [error]}]


def test_defer_if_false_or_a_false_variable_does_not_defer() -> None:
    response = {"data": {"a": 1, "b": 2}}
    assert _split("{ a ... @defer(if: false) { b } }", response) == [response]
    query = "query($d: Boolean) { a ... @defer(if: $d) { b } }"
    assert _split(query, response, {"d": False}) == [response]
    assert len(_split(query, response, {"d": True})) == 2
    assert len(_split(query, response, {})) == 2  # unset: the default, if: true


def test_nothing_to_defer_on_a_null_parent_is_one_plain_response() -> None:
    response = {"data": {"u": None}}
    assert _split("{ u { ... @defer { name } } }", response) == [response]


def test_nested_defers_come_one_level_per_part_and_named_fragments_count() -> None:
    query = """
    query { me { name ...R @defer(label: "r") } }
    fragment R on User { reviews { body ... @defer(label: "a") { author { name } } } }
    """
    response = {
        "data": {
            "me": {
                "name": "Ada",
                "reviews": [{"body": "x", "author": {"name": "Ada"}}],
            }
        }
    }
    primary, first, second = _split(query, response)
    assert primary == {"data": {"me": {"name": "Ada"}}, "hasNext": True}
    assert first == {
        "incremental": [{"data": {"reviews": [{"body": "x"}]}, "path": ["me"], "label": "r"}],
        "hasNext": True,
    }
    assert second == {
        "incremental": [
            {"data": {"author": {"name": "Ada"}}, "path": ["me", "reviews", 0], "label": "a"}
        ],
        "hasNext": False,
    }


def test_a_response_without_data_is_not_split() -> None:
    response = {"errors": [{"message": "no"}], "data": None}
    assert _split("{ a ... @defer { b } }", response) == [response]
