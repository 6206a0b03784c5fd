"""The parts of a subgraph SDL connectors need: object types, fields, and the connect ``@link``
(its version and the local names of ``@connect``/``@source``, renamed imports honoured).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    GraphQLError,
    ListTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeNode,
    parse,
    value_from_ast_untyped,
)
from graphql.language import ConstDirectiveNode

from .mapping import Version
from .model import FieldType
from .problems import SCHEMA_INVALID, ConnectorSchemaError, Problem

CONNECT_SPEC = re.compile(r"^https://specs\.apollo\.dev/connect/v(\d+)\.(\d+)$")
SUPPORTED_VERSIONS: tuple[Version, ...] = ((0, 1), (0, 2), (0, 3))


@dataclass(slots=True)
class ObjectType:
    """An object type of the SDL (definition and extensions merged)."""

    name: str
    fields: dict[str, FieldDefinitionNode] = field(default_factory=dict)
    directives: list[ConstDirectiveNode] = field(default_factory=list)


@dataclass(slots=True)
class SchemaInfo:
    """The parsed SDL as the reader and the validator need it."""

    document: DocumentNode | None
    types: dict[str, ObjectType]
    version: Version
    connect_name: str
    source_name: str
    schema_directives: list[ConstDirectiveNode]


def field_type(node: TypeNode) -> FieldType:
    non_null = isinstance(node, NonNullTypeNode)
    inner = node.type if isinstance(node, NonNullTypeNode) else node
    is_list = isinstance(inner, ListTypeNode)
    named = inner
    while isinstance(named, ListTypeNode | NonNullTypeNode):
        named = named.type
    return FieldType(named.name.value, is_list, non_null)  # type: ignore[attr-defined]


def directive_args(directive: ConstDirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def link_names(args: dict[str, Any]) -> tuple[Version, str, str]:
    """(version, local @connect name, local @source name) of a connect ``@link``'s arguments."""
    match = CONNECT_SPEC.match(str(args.get("url", "")))
    assert match is not None
    version = (int(match.group(1)), int(match.group(2)))
    namespace = str(args.get("as") or "connect")
    # the link spec: the directive named like the spec (`@connect`) is `@<namespace>` unimported
    names = {"@connect": namespace, "@source": f"{namespace}__source"}
    for item in args.get("import") or ():
        if isinstance(item, str) and item in names:
            names[item] = item[1:]
        elif isinstance(item, dict) and item.get("name") in names:
            names[item["name"]] = str(item.get("as") or item["name"]).lstrip("@")
    return version, names["@connect"], names["@source"]


def schema_info(sdl: str) -> SchemaInfo | None:
    """The SDL's types and its connect link, or None when it does not link the connect spec."""
    try:
        document = parse(sdl)
    except GraphQLError as error:
        raise ConnectorSchemaError("?", [Problem(SCHEMA_INVALID, error.message)]) from error
    schema_directives: list[ConstDirectiveNode] = []
    types: dict[str, ObjectType] = {}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            schema_directives.extend(definition.directives or ())
        if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            entry = types.setdefault(definition.name.value, ObjectType(definition.name.value))
            entry.directives.extend(definition.directives or ())
            for node in definition.fields or ():
                entry.fields[node.name.value] = node
    for directive in schema_directives:
        if directive.name.value != "link":
            continue
        args = directive_args(directive)
        if CONNECT_SPEC.match(str(args.get("url", ""))) is None:
            continue
        version, connect_name, source_name = link_names(args)
        return SchemaInfo(document, types, version, connect_name, source_name, schema_directives)
    return None
