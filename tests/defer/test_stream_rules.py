"""@stream's validation as the gateway applies it (graphql-core's rules through ``with_defer``):
not on a mutation's or subscription's root field, only on list fields, labels unique with
@defer's; and ``strip_defer`` leaves no ``@stream`` for a subgraph."""

from __future__ import annotations

from graphql import build_schema, parse, print_ast, validate

from gateway.planner.defer import has_defer, strip_defer, with_defer

SCHEMA = with_defer(
    build_schema(
        """
        type Query { items: [Item!]! one: Item }
        type Mutation { add: [Item!]! }
        type Subscription { added: [Item!]! }
        type Item { id: ID! tags: [String!]! }
        """
    )
)


def _errors(query: str) -> list[str]:
    return [error.message for error in validate(SCHEMA, parse(query))]


def test_stream_is_accepted_on_list_fields_of_queries_and_below_mutation_roots() -> None:
    assert _errors('{ items @stream(initialCount: 1, label: "i") { id tags @stream } }') == []
    assert _errors("mutation { add { tags @stream } }") == []


def test_stream_is_refused_where_the_spec_refuses_it() -> None:
    (root_mutation,) = _errors("mutation { add @stream { id } }")
    assert "root mutation type" in root_mutation
    assert _errors("subscription { added @stream { id } }")
    (not_a_list,) = _errors("{ one @stream { id } }")
    assert "non-list field" in not_a_list
    (shared_label,) = _errors(
        '{ items @stream(label: "x") { id } ... @defer(label: "x") { one { id } } }'
    )
    assert "must be unique" in shared_label


def test_stream_is_stripped_before_planning() -> None:
    document = parse("{ items @stream(initialCount: 2) { id tags @stream(if: false) } }")
    assert has_defer(document)
    stripped = strip_defer(document)
    assert "@stream" not in print_ast(stripped)
    assert not has_defer(stripped)
