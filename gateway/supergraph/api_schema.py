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
    api_filter = _ApiFilter(document, features)
    definitions = [
        kept
        for definition in document.definitions
        if (kept := api_filter.definition(definition)) is not None
    ]
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


class _ApiFilter:
    """What of the supergraph document a client sees: no machinery, nothing ``@inaccessible``."""

    def __init__(self, document: DocumentNode, features: Sequence[LinkedFeature]) -> None:
        self._features = features
        self._inaccessible = next(
            (f.directive("inaccessible") for f in features if f.spec_name == "inaccessible"), None
        )
        self._hidden_types = {
            d.name.value
            for d in document.definitions
            if isinstance(d, TypeDefinitionNode | TypeExtensionNode)
            and (self._hidden(d) or self._is_machinery(d.name.value))
        }

    def definition(self, definition: DefinitionNode) -> DefinitionNode | None:
        """The definition as clients see it, or None when they do not see it at all."""
        if isinstance(definition, DirectiveDefinitionNode):
            if self._is_machinery(definition.name.value):
                return None
            return _replace(definition, arguments=self._clean_args(definition.arguments))
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            return _replace(definition, directives=self._keep_directives(definition))
        if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            return None
        if definition.name.value in self._hidden_types:
            return None
        return _replace(definition, **self._type_changes(definition))

    def _type_changes(self, definition: TypeDefinitionNode | TypeExtensionNode) -> dict[str, Any]:
        changes: dict[str, Any] = {"directives": self._keep_directives(definition)}
        if isinstance(definition, _FIELDED):
            changes["fields"] = tuple(
                _replace(
                    f, directives=self._keep_directives(f), arguments=self._clean_args(f.arguments)
                )
                for f in definition.fields or ()
                if not self._hidden(f) and _type_name(f) not in self._hidden_types
            )
            changes["interfaces"] = self._visible_named(definition.interfaces)
        elif isinstance(definition, _INPUTS):
            changes["fields"] = self._clean_args(definition.fields)
        elif isinstance(definition, _ENUMS):
            changes["values"] = tuple(
                _replace(v, directives=self._keep_directives(v))
                for v in definition.values or ()
                if not self._hidden(v)
            )
        elif isinstance(definition, _UNIONS):
            changes["types"] = self._visible_named(definition.types)
        return changes

    def _is_machinery(self, name: str) -> bool:
        return any(feature.owns(name) for feature in self._features)

    def _hidden(self, node: Any) -> bool:
        return self._inaccessible is not None and any(
            d.name.value == self._inaccessible for d in node.directives or ()
        )

    def _keep_directives(self, node: Any) -> tuple[ConstDirectiveNode, ...]:
        return tuple(d for d in node.directives or () if not self._is_machinery(d.name.value))

    def _visible_named(self, nodes: Sequence[NamedTypeNode] | None) -> tuple[NamedTypeNode, ...]:
        return tuple(n for n in nodes or () if n.name.value not in self._hidden_types)

    def _clean_args(self, args: Sequence[InputValueDefinitionNode] | None) -> tuple[Any, ...]:
        return tuple(
            _replace(a, directives=self._keep_directives(a))
            for a in args or ()
            if not self._hidden(a)
        )


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
