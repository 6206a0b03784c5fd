"""ResponseShaper: the client's exact shape, null propagation and introspection."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, parse

from gateway import engine
from gateway.executor import response
from gateway.executor.response import ResponseShaper
from gateway.supergraph import Supergraph
from tests.federation.corpus import Case, discover_cases, serve_case
from tests.federation.subgraph_server import SubgraphHost


def _shape(
    supergraph: Supergraph,
    query: str,
    data: dict[str, Any] | None,
    variables: dict[str, Any] | None = None,
    covered: tuple[tuple[str | int, ...], ...] = (),
) -> tuple[Any, list[dict[str, Any]]]:
    """Shape with the compiled fast path, and check the path-tracking walk agrees."""
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    shaper = ResponseShaper(supergraph.api_schema, document, operation)
    reference = ResponseShaper(supergraph.api_schema, document, operation, fast=False)
    result = shaper.shape(data, variables or {}, raw_variables=variables or {}, covered=covered)
    expected = reference.shape(
        data, variables or {}, raw_variables=variables or {}, covered=covered
    )
    assert json.dumps(result) == json.dumps(expected)
    return result


def test_shape_keeps_client_keys_and_order_and_drops_extra_fields(supergraph: Supergraph) -> None:
    query = "{ users { n: name id ...F } me { id } } fragment F on User { username n: name }"
    data = {
        "me": {"id": "9", "name": "x"},
        "users": [
            {"id": "1", "__typename": "User", "_key": 1, "n": "Ada", "username": "ada"},
        ],
        "extra": True,
    }
    result, errors = _shape(supergraph, query, data)
    assert errors == []
    assert list(result) == ["users", "me"]
    assert result == {"users": [{"n": "Ada", "id": "1", "username": "ada"}], "me": {"id": "9"}}
    assert list(result["users"][0]) == ["n", "id", "username"]


def test_typename_is_static_on_objects_dynamic_on_abstract_and_root(
    supergraph: Supergraph,
) -> None:
    query = """{
      __typename
      me { __typename t: __typename }
      media { __typename id ... on Book { pages } ... on Movie { minutes } }
      search { ... on Product { upc } ... on Media { title } }
    }"""
    data = {
        "me": {"__typename": "Media"},
        "media": [
            {"__typename": "Book", "id": "b", "pages": 10, "minutes": 1},
            {"__typename": "Movie", "id": "m", "pages": 2, "minutes": 90},
        ],
        "search": [
            {"__typename": "Product", "upc": "p", "title": "no"},
            {"__typename": "Book", "upc": "no", "title": "T"},
        ],
    }
    result, errors = _shape(supergraph, query, data)
    assert errors == []
    assert result == {
        "__typename": "Query",
        "me": {"__typename": "User", "t": "User"},
        "media": [
            {"__typename": "Book", "id": "b", "pages": 10},
            {"__typename": "Movie", "id": "m", "minutes": 90},
        ],
        "search": [{"upc": "p"}, {"title": "T"}],
    }


def test_skip_and_include_follow_variables_and_literals(supergraph: Supergraph) -> None:
    query = """query($yes: Boolean!, $no: Boolean!) {
      me {
        id @include(if: $yes)
        name @include(if: $no)
        username @skip(if: true)
        ... @skip(if: $no) { status }
        ... on User @include(if: $no) { reviews { body } }
      }
    }"""
    data = {"me": {"id": "1", "name": "n", "username": "u", "status": "ACTIVE", "reviews": []}}
    result, errors = _shape(supergraph, query, data, {"yes": True, "no": False})
    assert errors == []
    assert result == {"me": {"id": "1", "status": "ACTIVE"}}
    flipped, _ = _shape(supergraph, query, data, {"yes": False, "no": True})
    assert flipped == {"me": {"name": "n", "reviews": []}}


def test_same_shaper_serves_different_condition_variables(supergraph: Supergraph) -> None:
    document = parse("query($v: Boolean!) { me { id name @include(if: $v) } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    shaper = ResponseShaper(supergraph.api_schema, document, operation)
    data = {"me": {"id": "1", "name": "n"}}
    assert shaper.shape(data, {"v": True})[0] == {"me": {"id": "1", "name": "n"}}
    assert shaper.shape(data, {"v": False})[0] == {"me": {"id": "1"}}


def test_null_in_non_null_field_nulls_nearest_nullable_parent(supergraph: Supergraph) -> None:
    query = "{ me { id username } users { id } }"
    data = {"me": {"id": "1", "username": None}, "users": []}
    result, errors = _shape(supergraph, query, data)
    assert result == {"me": None, "users": []}
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field User.username.",
            "path": ["me", "username"],
        }
    ]


def test_null_propagates_through_non_null_list_items_to_nullable_list(
    supergraph: Supergraph,
) -> None:
    query = "{ maybeUsers { id } }"
    data = {"maybeUsers": [{"id": "1"}, None, {"id": None}]}
    result, errors = _shape(supergraph, query, data)
    # [User] items are nullable: a null item stays; an item with a null id! becomes null.
    assert result == {"maybeUsers": [{"id": "1"}, None, None]}
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field User.id.",
            "path": ["maybeUsers", 2, "id"],
        }
    ]


def test_null_bubbles_to_data_when_every_parent_is_non_null(supergraph: Supergraph) -> None:
    query = "{ users { id reviews { body } } }"
    data = {"users": [{"id": "1", "reviews": [{"body": "ok"}, {"body": None}]}]}
    result, errors = _shape(supergraph, query, data)
    assert result is None
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field Review.body.",
            "path": ["users", 0, "reviews", 1, "body"],
        }
    ]


def test_missing_field_covered_by_an_earlier_error_adds_no_second_error(
    supergraph: Supergraph,
) -> None:
    query = "{ me { id } users { id reviews { body } } }"
    data = {"me": {"id": "1"}, "users": [{"id": "1"}]}
    result, errors = _shape(supergraph, query, data, covered=(("users", "@"),))
    assert result is None
    assert errors == []
    result, errors = _shape(supergraph, "{ mustMe { id } }", {}, covered=((),))
    assert (result, errors) == (None, [])


def test_enum_value_outside_api_schema_becomes_null_with_error(supergraph: Supergraph) -> None:
    result, errors = _shape(
        supergraph, "{ users { status } }", {"users": [{"status": "ACTIVE"}, {"status": "BANNED"}]}
    )
    assert result == {"users": [{"status": "ACTIVE"}, {"status": None}]}
    assert errors == [
        {"message": "Invalid value found for field User.status.", "path": ["users", 1, "status"]}
    ]


def test_unhashable_or_wrongly_typed_values_become_null_with_error(supergraph: Supergraph) -> None:
    data = {"maybeUsers": [{"status": {"not": "an enum"}}, "not an object"], "me": []}
    result, errors = _shape(supergraph, "{ maybeUsers { status } me { id } }", data)
    assert result == {"maybeUsers": [{"status": None}, None], "me": None}
    assert errors == [
        {
            "message": "Invalid value found for field User.status.",
            "path": ["maybeUsers", 0, "status"],
        },
        {"message": "Invalid value found for field Query.maybeUsers.", "path": ["maybeUsers", 1]},
        {"message": "Invalid value found for field Query.me.", "path": ["me"]},
    ]


def test_impossible_typename_at_abstract_position_is_an_error(supergraph: Supergraph) -> None:
    result, errors = _shape(
        supergraph, "{ search { __typename } }", {"search": [{"__typename": "User"}]}
    )
    assert result is None
    assert errors == [
        {"message": "Invalid value found for field Query.search.", "path": ["search", 0]}
    ]


def test_introspection_is_answered_from_the_api_schema(supergraph: Supergraph) -> None:
    query = """query($name: String!) {
      me { id }
      t: __type(name: $name) { name enumValues { name } }
      ...S
    }
    fragment S on Query { __schema { queryType { name } } }"""
    result, errors = _shape(supergraph, query, {"me": {"id": "1"}}, {"name": "Status"})
    assert errors == []
    assert result == {
        "me": {"id": "1"},
        "t": {"name": "Status", "enumValues": [{"name": "ACTIVE"}]},
        "__schema": {"queryType": {"name": "Query"}},
    }
    hidden, _ = _shape(supergraph, '{ __type(name: "join__Graph") { name } }', None)
    assert hidden == {"__type": None}


def test_only_meta_fields_needs_no_subgraph(supergraph: Supergraph) -> None:
    def shaper(query: str) -> ResponseShaper:
        document = parse(query)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        return ResponseShaper(supergraph.api_schema, document, operation)

    assert shaper("{ __typename __schema { description } }").only_introspection
    assert not shaper("{ __typename me { id } }").only_introspection


def test_a_bug_in_generated_code_surfaces_instead_of_being_reshaped(
    supergraph: Supergraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fields: Any) -> Any:
        def shape(value: Any, intro: Any = None) -> Any:
            raise TypeError("a bug in the generated function")

        return shape

    monkeypatch.setattr(response, "_compile_object", broken)
    document = parse("{ me { id } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    shaper = ResponseShaper(supergraph.api_schema, document, operation)
    with pytest.raises(TypeError, match="generated function"):
        shaper.shape({"me": {"id": "1"}}, {})


def test_an_unhashable_typename_is_an_invalid_value_on_both_paths(supergraph: Supergraph) -> None:
    query = "{ media { id } }"
    result, errors = _shape(supergraph, query, {"media": [{"__typename": ["Book"], "id": "1"}]})
    assert result is None
    assert errors == [
        {"message": "Invalid value found for field Query.media.", "path": ["media", 0]}
    ]


# --- parity: every corpus operation through the fast path and the walk ------------------------


class _ParityShaper(ResponseShaper):
    """Shapes with the fast path and checks the walk alone gives the same bytes."""

    stats: Counter[str] = Counter()

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        super().__init__(schema, document, operation)
        self.reference = ResponseShaper(schema, document, operation, fast=False)

    def shape(self, data: Any, variables: Any, **options: Any) -> Any:
        copied = copy.deepcopy(data)
        before = self.fast_shaped
        result = super().shape(data, variables, **options)
        expected = self.reference.shape(copied, variables, **options)
        assert json.dumps(result) == json.dumps(expected)
        self.stats["fast" if self.fast_shaped > before else "walk"] += 1
        return result


@pytest.fixture(scope="module")
def corpus_host() -> Iterator[SubgraphHost]:
    with SubgraphHost() as host:
        yield host


@pytest.mark.anyio
@pytest.mark.parametrize("case", discover_cases(), ids=lambda case: case.id)
async def test_fast_path_and_walk_agree_on_every_corpus_operation(
    corpus_host: SubgraphHost, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "ResponseShaper", _ParityShaper)
    _ParityShaper.stats.clear()
    with serve_case(corpus_host, case) as running:
        gateway = engine.Gateway.from_supergraph_sdl(
            case.supergraph_path.read_text(), subgraph_urls=running.urls
        )
        try:
            for operation in case.operations:
                before = sum(_ParityShaper.stats.values())
                request = engine.GraphQLRequest(operation.query, operation.variables)
                result = await gateway.process(request)
                # every executed operation went through both paths (and they agreed); an
                # operation refused at plan time is executed (200, data null) but never shaped
                refused = any(
                    error.get("extensions", {}).get("code") == "QUERY_PLANNING_FAILED"
                    for error in result.response.get("errors", ())
                )
                shaped = sum(_ParityShaper.stats.values()) - before
                assert shaped == (1 if result.executed and not refused else 0), operation.name
        finally:
            await gateway.aclose()
