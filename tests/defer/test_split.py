"""Cutting an operation into its parts' own operations (gateway/planner/defer.py), a deferred
fragment's response into its ``incremental`` entries (gateway/executor/defer.py), and the printed
plan of a deferring operation (gateway/planner/printer.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, parse, print_ast

from gateway.engine import Gateway
from gateway.executor.defer import (
    active_fragments,
    has_targets,
    incremental_entries,
    split_whole,
)
from gateway.planner.defer import (
    DeferredOperation,
    deferred_documents,
    deferred_operation,
    has_defer,
    strip_defer,
)
from gateway.planner.plan import DeferPlan
from gateway.planner.printer import print_plan

SUPERGRAPH = Path(__file__).resolve().parents[2] / "schema" / "supergraph.graphql"


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


def _whole(query: str, response: dict[str, Any]) -> list[dict[str, Any]]:
    deferred = _deferred(query)
    return split_whole(response, deferred, active_fragments(deferred, {}), {})


def test_a_mutation_response_is_cut_once_whole_parent_part_first() -> None:
    query = """
    mutation { record { id ...R @defer(label: "r") } }
    fragment R on Record { items { body ... @defer(label: "a") { author { name } } } }
    """
    error = {"message": "boom", "path": ["record", "items", 0, "author"]}
    response = {
        "errors": [error],
        "data": {"record": {"id": "1", "items": [{"body": "x", "author": None}]}},
    }
    assert _whole(query, response) == [
        {"data": {"record": {"id": "1"}}, "hasNext": True},
        {
            "incremental": [{"data": {"items": [{"body": "x"}]}, "path": ["record"], "label": "r"}],
            "hasNext": True,
        },
        {
            "incremental": [
                {
                    "data": {"author": None},
                    "path": ["record", "items", 0],
                    "label": "a",
                    "errors": [error],
                }
            ],
            "hasNext": False,
        },
    ]


def test_a_mutation_with_nothing_to_cut_is_one_plain_part() -> None:
    response = {"errors": [{"message": "no"}], "data": None}
    assert _whole("mutation { a { ... @defer { b } } }", response) == [response]
    assert _whole("mutation { a { ... @defer { b } } }", {"data": {"a": None}}) == [
        {"data": {"a": None}}
    ]


def test_the_plan_of_a_deferring_operation_is_printed_as_its_parts() -> None:
    gateway = Gateway.from_supergraph_sdl(SUPERGRAPH.read_text(), authorization_enforced=True)
    query = (
        "query K($kk: String!) { keluarga(noKk: $kk) { noKk "
        '... @defer(label: "desil") { desilKesejahteraan } } }'
    )
    plan = gateway.query_plan(query)
    assert isinstance(plan, DeferPlan)
    printed = print_plan(plan)
    # the primary part asks kependudukan only (the key `noKk` it fetches anyway); the deferred
    # fragment is an entity fetch to sosial on the primary's objects, as Apollo plans it
    assert printed.startswith(
        "QueryPlan {\n  Defer {\n    Primary {\n      {\n        keluarga(noKk: $kk) {\n"
        '          noKk\n        }\n      }:\n      Fetch(service: "kependudukan") {'
    )
    deferred = printed[printed.index("}, [") :]
    assert deferred.startswith(
        '}, [\n      Deferred(depends: [Primary], path: "keluarga", label: "desil") {\n'
        "        {\n          desilKesejahteraan\n        }:\n"
        '        Flatten(path: "keluarga") {\n          Fetch(service: "sosial") {\n'
        "            {\n              ... on Keluarga { __typename noKk }\n            } =>\n"
    )
    assert "kependudukan" not in deferred
    assert "sosial" not in printed[: printed.index("}, [")]
    # without @defer the plan is the plain one
    plain = gateway.query_plan(query.replace('@defer(label: "desil")', ""))
    assert plain is not None and not isinstance(plain, DeferPlan)


def test_a_deferred_fragment_on_an_entity_starts_from_the_primarys_keys() -> None:
    """Fields of two subgraphs deferred on an entity: both entity fetches take the key the
    primary part fetched (in parallel, the primary not shown it); a fragment at the root
    re-reads from the root (nothing to start from)."""
    gateway = Gateway.from_supergraph_sdl(SUPERGRAPH.read_text(), authorization_enforced=True)
    query = (
        "query K($kk: String!) { keluarga(noKk: $kk) { alamat "
        "... @defer { desilKesejahteraan kepalaKeluarga { nama } } } "
        "... @defer { provinsi { nama } } }"
    )
    plan = gateway.query_plan(query)
    assert isinstance(plan, DeferPlan)
    printed = print_plan(plan)
    primary, deferred = printed.split("}, [\n", 1)
    # the primary asks the key beside what the client asked, and shows the client only that
    shown = "      {\n        keluarga(noKk: $kk) {\n          alamat\n        }\n      }:"
    assert shown in primary
    assert "          keluarga(noKk: $kk) {\n            alamat\n            noKk\n" in primary
    on_entity, at_root = deferred.split("      Deferred(depends: [], ", 1)
    assert on_entity.startswith('      Deferred(depends: [Primary], path: "keluarga") {')
    assert "keluarga(" not in on_entity  # no root read again
    assert on_entity.count('Flatten(path: "keluarga")') == 2
    assert on_entity.count("... on Keluarga { __typename noKk }") == 2
    assert "Parallel {" in on_entity and "Sequence" not in on_entity
    assert at_root.startswith('path: "") {') and 'Fetch(service: "wilayah")' in at_root


def test_a_key_name_aliased_by_the_client_keeps_the_root_read() -> None:
    """The primary could not fetch the key under its own name: that fragment re-reads its path."""
    gateway = Gateway.from_supergraph_sdl(SUPERGRAPH.read_text(), authorization_enforced=True)
    query = (
        "query K($kk: String!) { keluarga(noKk: $kk) { noKk: alamat "
        "... @defer { desilKesejahteraan } } }"
    )
    printed = print_plan(gateway.query_plan(query))
    deferred = printed[printed.index("}, [") :]
    assert '      Deferred(depends: [], path: "keluarga") {' in deferred
    assert 'Fetch(service: "kependudukan")' in deferred  # the path, from the root
