"""Reading the connectors of every subgraph out of a supergraph (``@join__directive``).

The composer carries ``@link``/``@source``/``@connect`` as ``@join__directive(graphs:, name:,
args:)`` (schema-level for link and source, on types and fields for connect; ``name`` is the
subgraph-local name, e.g. ``"rest"`` for an import renamed ``@rest``). The JS composer does not
validate connectors, so the gateway parses and validates them here, per subgraph, with that
subgraph's own connect version — the same reader and rules as for a subgraph SDL.
"""

from __future__ import annotations

from collections import defaultdict

from graphql import (
    ConstArgumentNode,
    ConstDirectiveNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLError,
    NameNode,
    ObjectTypeDefinitionNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    parse,
    value_from_ast_untyped,
)

from .model import ConnectorSubgraph
from .problems import SCHEMA_INVALID, VERSION_UNSUPPORTED, ConnectorSchemaError, Problem
from .schema import (
    CONNECT_SPEC,
    SUPPORTED_VERSIONS,
    ObjectType,
    SchemaInfo,
    directive_args,
    link_names,
)
from .sdl import build_model

Per = dict[str, list[ConstDirectiveNode]]


def _graphs(directive: ConstDirectiveNode) -> list[str]:
    for argument in directive.arguments or ():
        if argument.name.value == "graphs":
            return [str(v) for v in value_from_ast_untyped(argument.value) or ()]
    return []


def _as_directive(directive: ConstDirectiveNode, local: str) -> ConstDirectiveNode:
    """``@join__directive(name: "connect", args: {…})`` -> ``@connect(…)`` (local name)."""
    for argument in directive.arguments or ():
        if argument.name.value == "args" and isinstance(argument.value, ObjectValueNode):
            arguments = tuple(
                ConstArgumentNode(name=f.name, value=f.value) for f in argument.value.fields
            )
            return ConstDirectiveNode(name=NameNode(value=local), arguments=arguments)
    return ConstDirectiveNode(name=NameNode(value=local), arguments=())


def _joins(nodes: tuple[ConstDirectiveNode, ...] | None, kind: str) -> list[ConstDirectiveNode]:
    return [d for d in nodes or () if d.name.value == kind]


def read_supergraph_connectors(supergraph: str) -> dict[str, ConnectorSubgraph]:
    """Subgraph name -> its connectors, for every subgraph linking the connect spec.

    Raises :class:`ConnectorSchemaError` listing the problems of every subgraph.
    """
    try:
        document = parse(supergraph)
    except GraphQLError as error:
        raise ConnectorSchemaError(
            "supergraph", [Problem(SCHEMA_INVALID, error.message)]
        ) from error
    names: dict[str, str] = {}
    schema: list[ConstDirectiveNode] = []
    objects: list[ObjectTypeDefinitionNode] = []
    for definition in document.definitions:
        if (
            isinstance(definition, EnumTypeDefinitionNode)
            and definition.name.value == "join__Graph"
        ):
            names.update(_graph_names(definition))
        elif isinstance(definition, SchemaDefinitionNode):
            schema.extend(definition.directives or ())
        elif isinstance(definition, ObjectTypeDefinitionNode):
            objects.append(definition)
    links, schema_joins = _schema_joins(schema)
    models: dict[str, ConnectorSubgraph] = {}
    problems: list[Problem] = []
    for graph, link in links.items():
        name = names.get(graph, graph.lower())
        try:
            models[name] = _subgraph(name, graph, link, schema_joins[graph], objects)
        except ConnectorSchemaError as error:
            problems += error.problems
    if problems:
        raise ConnectorSchemaError("supergraph", problems)
    return models


def _graph_names(definition: EnumTypeDefinitionNode) -> dict[str, str]:
    """``join__Graph`` value -> subgraph name."""
    names: dict[str, str] = {}
    for value in definition.values or ():
        for join in _joins(value.directives, "join__graph"):
            names[value.name.value] = str(directive_args(join).get("name"))
    return names


def _schema_joins(
    schema: list[ConstDirectiveNode],
) -> tuple[dict[str, dict[str, object]], Per]:
    """The connect-spec ``@link`` arguments per graph, and the graph's other schema-level joined
    directives (its sources, under whatever local name the graph's link gives ``@source``)."""
    links: dict[str, dict[str, object]] = {}
    others: Per = defaultdict(list)
    for join in _joins(tuple(schema), "join__directive"):
        kind = str(directive_args(join).get("name"))
        for graph in _graphs(join):
            if kind == "link":
                args = directive_args(join).get("args") or {}
                if CONNECT_SPEC.match(str(args.get("url", ""))):
                    links[graph] = args
            else:
                others[graph].append(join)
    return links, others


def _subgraph(
    name: str,
    graph: str,
    link: dict[str, object],
    schema_joins: list[ConstDirectiveNode],
    objects: list[ObjectTypeDefinitionNode],
) -> ConnectorSubgraph:
    version, connect_name, source_name = link_names(link)
    sources = [j for j in schema_joins if directive_args(j).get("name") == source_name]
    if version not in SUPPORTED_VERSIONS:
        raise ConnectorSchemaError(
            name, [Problem(VERSION_UNSUPPORTED, f"connect v{version[0]}.{version[1]}", name)]
        )
    schema_directives = [_as_directive(s, source_name) for s in sources]
    types: dict[str, ObjectType] = {}
    for node in objects:
        if not any(
            directive_args(j).get("graph") == graph for j in _joins(node.directives, "join__type")
        ):
            continue
        entry = types.setdefault(node.name.value, ObjectType(node.name.value))
        entry.directives.extend(_connects(node.directives, graph, connect_name))
        for field in node.fields or ():
            owners = [
                directive_args(j).get("graph") for j in _joins(field.directives, "join__field")
            ]
            if owners and graph not in owners:
                continue
            entry.fields[field.name.value] = FieldDefinitionNode(
                name=field.name,
                arguments=field.arguments,
                type=field.type,
                directives=tuple(_connects(field.directives, graph, connect_name)),
            )
    info = SchemaInfo(None, types, version, connect_name, source_name, schema_directives)
    return build_model(name, info)


def _connects(
    nodes: tuple[ConstDirectiveNode, ...] | None, graph: str, local: str
) -> list[ConstDirectiveNode]:
    out: list[ConstDirectiveNode] = []
    for join in _joins(nodes, "join__directive"):
        if directive_args(join).get("name") == local and graph in _graphs(join):
            out.append(_as_directive(join, local))
    return out
