"""The client-facing API schema: the supergraph minus join/link machinery and ``@inaccessible``.

Apollo Federation's rule (https://specs.apollo.dev/inaccessible/v0.2): an ``@inaccessible`` element
(type, field, argument, enum value, input field) does not exist for clients: an operation using it
fails validation exactly as if it had never been declared. Descriptions are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import (
    ConstDirectiveNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    NamedTypeNode,
    Node,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
)

from gateway.supergraph.links import LinkedFeature

N = TypeVar("N", bound=Node)

_FIELDED = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
)
_INPUTS = (InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode)
_ENUMS = (EnumTypeDefinitionNode, EnumTypeExtensionNode)
_UNIONS = (UnionTypeDefinitionNode, UnionTypeExtensionNode)


def build_api_schema(document: DocumentNode, features: Sequence[LinkedFeature]) -> GraphQLSchema:
    """Build the API schema from the supergraph document."""
    inaccessible = next(
        (f.directive("inaccessible") for f in features if f.spec_name == "inaccessible"), None
    )

    def is_machinery(name: str) -> bool:
        return any(feature.owns(name) for feature in features)

    def hidden(node: Any) -> bool:
        return inaccessible is not None and any(
            d.name.value == inaccessible for d in node.directives or ()
        )

    hidden_types = {
        d.name.value
        for d in document.definitions
        if isinstance(d, TypeDefinitionNode | TypeExtensionNode)
        and (hidden(d) or is_machinery(d.name.value))
    }

    def keep_directives(node: Any) -> tuple[ConstDirectiveNode, ...]:
        return tuple(d for d in node.directives or () if not is_machinery(d.name.value))

    def visible_named(nodes: Sequence[NamedTypeNode] | None) -> tuple[NamedTypeNode, ...]:
        return tuple(n for n in nodes or () if n.name.value not in hidden_types)

    def clean_args(args: Sequence[InputValueDefinitionNode] | None) -> tuple[Any, ...]:
        return tuple(
            _replace(a, directives=keep_directives(a)) for a in args or () if not hidden(a)
        )

    definitions: list[DefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, DirectiveDefinitionNode):
            if not is_machinery(definition.name.value):
                definitions.append(_replace(definition, arguments=clean_args(definition.arguments)))
            continue
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            definitions.append(_replace(definition, directives=keep_directives(definition)))
            continue
        if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            continue
        if definition.name.value in hidden_types:
            continue
        changes: dict[str, Any] = {"directives": keep_directives(definition)}
        if isinstance(definition, _FIELDED):
            changes["fields"] = tuple(
                _replace(f, directives=keep_directives(f), arguments=clean_args(f.arguments))
                for f in definition.fields or ()
                if not hidden(f) and _type_name(f) not in hidden_types
            )
            changes["interfaces"] = visible_named(definition.interfaces)
        elif isinstance(definition, _INPUTS):
            changes["fields"] = clean_args(definition.fields)
        elif isinstance(definition, _ENUMS):
            changes["values"] = tuple(
                _replace(v, directives=keep_directives(v))
                for v in definition.values or ()
                if not hidden(v)
            )
        elif isinstance(definition, _UNIONS):
            changes["types"] = visible_named(definition.types)
        definitions.append(_replace(definition, **changes))
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def _type_name(field: FieldDefinitionNode) -> str:
    type_node: Any = field.type
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    return type_node.name.value


def _replace(node: N, **changes: Any) -> N:
    """A shallow copy of an AST node with some attributes replaced (AST nodes are shared)."""
    values = {key: getattr(node, key, None) for key in node.keys}
    values.update(changes)
    factory: Callable[..., N] = type(node)
    return factory(**values)
