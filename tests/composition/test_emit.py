"""The printed supergraph: join version, security links, join directives; it loads and plans."""

from __future__ import annotations

from gateway.composition.compose import SubgraphSource, compose, compose_or_raise
from gateway.supergraph import load_supergraph

HEAD = 'extend schema @link(url: "https://specs.apollo.dev/federation/v{v}", import: [{imports}])\n'


def sub(name: str, body: str, version: str = "2.9", imports: str = '"@key"') -> SubgraphSource:
    return SubgraphSource(name, HEAD.format(v=version, imports=imports) + body)


def test_join_version_follows_the_newest_federation_version() -> None:
    for version, join in (("2.3", "v0.3"), ("2.7", "v0.4"), ("2.9", "v0.5")):
        sdl = compose_or_raise([sub("a", "type Query { a: Int }", version)])
        assert f'https://specs.apollo.dev/join/{join}", for: EXECUTION' in sdl
        load_supergraph(sdl)


def test_authorization_directives_get_security_links_and_are_kept() -> None:
    sdl = compose_or_raise(
        [
            sub(
                "a",
                'type Query { a: Int @requiresScopes(scopes: [["a:read"]]) @authenticated '
                '@policy(policies: [["data_pribadi"]]) b: Int @inaccessible c: Int }',
                imports='"@requiresScopes", "@authenticated", "@policy", "@inaccessible"',
            )
        ]
    )
    for feature in (
        "requiresScopes/v0.1",
        "authenticated/v0.1",
        "policy/v0.1",
        "inaccessible/v0.2",
    ):
        assert f'https://specs.apollo.dev/{feature}", for: SECURITY)' in sdl
    assert '@requiresScopes(scopes: [["a:read"]])' in sdl
    supergraph = load_supergraph(sdl, authorization_enforced=True)
    assert "b" not in supergraph.api_schema.query_type.fields  # type: ignore[union-attr]


def test_scopes_of_a_shared_field_are_combined_with_and() -> None:
    imports = '"@shareable", "@requiresScopes"'
    a = sub(
        "a", 'type Query { x: Int @shareable @requiresScopes(scopes: [["s1"]]) }', imports=imports
    )
    b = sub(
        "b", 'type Query { x: Int @shareable @requiresScopes(scopes: [["s2"]]) }', imports=imports
    )
    assert '@requiresScopes(scopes: [["s1", "s2"]])' in compose_or_raise([a, b])


def test_output_field_type_is_the_most_general_and_graphs_keep_their_own() -> None:
    imports = '"@key", "@shareable"'
    a = sub(
        "a",
        'type Query { a: T } type T @key(fields: "id") { id: ID! n: Int! @shareable }',
        imports=imports,
    )
    b = sub(
        "b",
        'type Query { b: T } type T @key(fields: "id") { id: ID! n: Int @shareable }',
        imports=imports,
    )
    sdl = compose_or_raise([a, b])
    assert (
        '  n: Int @join__field(graph: A, type: "Int!") @join__field(graph: B, type: "Int")' in sdl
    )


def test_composition_result_lists_every_error_with_its_place() -> None:
    result = compose(
        [
            sub("a", 'type Query { a: T } type T @key(fields: "idd") { id: ID! }'),
            sub(
                "b",
                'type T @key(fields: "id") { id: ID! x: Int @external }',
                imports='"@key", "@external"',
            ),
        ]
    )
    assert result.supergraph_sdl is None
    assert [(e.code, e.subgraph, e.type) for e in result.errors] == [
        ("KEY_INVALID_FIELDS", "a", "T")
    ]
