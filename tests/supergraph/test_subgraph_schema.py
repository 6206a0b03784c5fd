"""Each subgraph's own schema, rebuilt from the supergraph's join metadata."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    parse,
    validate,
    validate_schema,
)

from gateway.errors import SupergraphError
from gateway.supergraph import load_supergraph
from gateway.supergraph.subgraph_schema import build_subgraph_schemas, subgraph_sdl
from tests.federation.corpus import CASES_DIR, discover_cases


def schemas_of(case_id: str) -> dict[str, GraphQLSchema]:
    sdl = (CASES_DIR / case_id / "supergraph.graphql").read_text()
    return build_subgraph_schemas(load_supergraph(sdl))


@pytest.mark.parametrize("case", discover_cases(), ids=lambda case: case.id)
def test_every_corpus_subgraph_schema_is_a_valid_schema(case: object) -> None:
    supergraph = load_supergraph(case.supergraph_path.read_text())  # type: ignore[attr-defined]
    schemas = build_subgraph_schemas(supergraph)
    assert sorted(schemas) == sorted(supergraph.subgraphs)
    for name, schema in schemas.items():
        assert validate_schema(schema) == [], name
        assert "_service" in schema.query_type.fields  # type: ignore[union-attr]


def test_fields_are_those_the_subgraph_resolves() -> None:
    schemas = schemas_of("abstract/interface-distributed")
    vet_cat = schemas["vet"].type_map["Cat"]
    zoo_cat = schemas["zoo"].type_map["Cat"]
    assert isinstance(vet_cat, GraphQLObjectType) and isinstance(zoo_cat, GraphQLObjectType)
    assert sorted(vet_cat.fields) == ["id", "lastCheckup", "lives"]
    assert sorted(zoo_cat.fields) == ["id", "name"]
    # Cat implements Animal only where @join__implements says so.
    assert not vet_cat.interfaces and [i.name for i in zoo_cat.interfaces] == ["Animal"]
    assert "Animal" not in schemas["vet"].type_map
    entity = schemas["vet"].type_map["_Entity"]
    assert isinstance(entity, GraphQLUnionType)
    assert sorted(t.name for t in entity.types) == ["Cat", "Dog"]


def test_union_members_are_those_of_the_subgraph() -> None:
    schemas = schemas_of("abstract/partial-union")
    music = schemas["music"].type_map["Result"]
    search = schemas["search"].type_map["Result"]
    assert isinstance(music, GraphQLUnionType) and isinstance(search, GraphQLUnionType)
    assert sorted(t.name for t in music.types) == ["Book", "Song"]
    assert sorted(t.name for t in search.types) == ["Book", "Movie"]
    fragment_on_movie = parse(
        "{ _entities(representations: []) { ... on Result { ... on Movie { id } } } }"
    )
    assert validate(schemas["music"], fragment_on_movie) != []
    assert validate(schemas["search"], fragment_on_movie) == []


def test_an_interface_object_is_an_object_type_in_its_subgraph() -> None:
    schemas = schemas_of("abstract/interface-object")
    media = schemas["ratings"].type_map["Media"]
    assert isinstance(media, GraphQLObjectType)
    assert sorted(media.fields) == ["id", "rating", "summary", "title"]
    # The interface-object's fields are not the implementations' fields in the other subgraph.
    book = schemas["media"].type_map["Book"]
    assert isinstance(book, GraphQLObjectType) and "rating" not in book.fields


SUPERGRAPH_WITH_OWN_TYPES = """
schema @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION) {
  query: Query
  mutation: Mutation
}
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet,
  type: String, external: Boolean, override: String, usedOverridden: Boolean,
  overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false,
  resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable
  on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable
  on SCHEMA
scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph {
  A @join__graph(name: "a", url: "http://a")
  B @join__graph(name: "b", url: "http://b")
}
type Query @join__type(graph: A) @join__type(graph: B) {
  item(size: Size = SMALL): Item @join__field(graph: A, type: "Item!") @join__field(graph: B)
}
type Mutation @join__type(graph: A) @join__type(graph: B) {
  reset: Boolean @join__field(graph: A)
}
type Item @join__type(graph: A) @join__type(graph: B) {
  name: String @join__field(graph: A, type: "String!") @join__field(graph: B, type: "String")
  size: Size @join__field(graph: B)
}
enum Size @join__type(graph: A) @join__type(graph: B) {
  SMALL @join__enumValue(graph: A) @join__enumValue(graph: B)
  HUGE @join__enumValue(graph: B)
}
"""


def test_field_types_and_enum_values_are_the_subgraphs_own() -> None:
    supergraph = load_supergraph(SUPERGRAPH_WITH_OWN_TYPES)
    schemas = build_subgraph_schemas(supergraph)
    a_query, b_query = schemas["a"].query_type, schemas["b"].query_type
    assert a_query is not None and b_query is not None
    assert str(a_query.fields["item"].type) == "Item!"
    assert str(b_query.fields["item"].type) == "Item"
    a_item, b_item = schemas["a"].type_map["Item"], schemas["b"].type_map["Item"]
    assert isinstance(a_item, GraphQLObjectType) and isinstance(b_item, GraphQLObjectType)
    assert str(a_item.fields["name"].type) == "String!"
    assert sorted(a_item.fields) == ["name"]
    assert "_entities" not in a_query.fields  # no entity in this subgraph
    a_mutation = schemas["a"].mutation_type
    assert a_mutation is not None and list(a_mutation.fields) == ["reset"]
    assert schemas["b"].mutation_type is None  # B resolves no mutation field
    assert "HUGE" not in subgraph_sdl(supergraph, "a") and "HUGE" in subgraph_sdl(supergraph, "b")
    with pytest.raises(SupergraphError, match="no subgraph 'c'"):
        subgraph_sdl(supergraph, "c")
