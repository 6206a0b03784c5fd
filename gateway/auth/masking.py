"""Masking: values such as the NIK are returned masked unless the caller holds the revealing scope.

``1871011204900001`` becomes ``1871xxxxxxxx0001``: the region prefix and the serial stay, so the
masked value is stable (the same resident always reads the same) and still useful to a dashboard,
but it cannot be used to look the resident up. Masking follows the client's operation over the
shaped response, so aliases and fragments cannot route around it; error messages are scrubbed of
anything that looks like a full identifier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

from gateway.auth.config import MaskingSection

_LONG_NUMBER = re.compile(r"(?<!\d)\d{16}(?!\d)")


class Masker:
    """Masks configured field coordinates for callers without the revealing scope."""

    def __init__(
        self,
        schema: GraphQLSchema,
        section: MaskingSection,
        possible_types: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._schema = schema
        self._section = section
        self._fields = dict(section.fields)
        self._possible = dict(possible_types or {})

    def mask_value(self, value: str) -> str:
        prefix, suffix = self._section.keep_prefix, self._section.keep_suffix
        if len(value) <= prefix + suffix:
            return self._section.mask_char * len(value)
        middle = self._section.mask_char * (len(value) - prefix - suffix)
        return value[:prefix] + middle + (value[len(value) - suffix :] if suffix else "")

    def hidden(self, scopes: frozenset[str]) -> frozenset[str]:
        """The coordinates masked for a caller holding ``scopes``."""
        return frozenset(c for c, scope in self._fields.items() if scope not in scopes)

    def _masked_here(self, parent: str, field_name: str, hidden: frozenset[str]) -> bool:
        if f"{parent}.{field_name}" in hidden:
            return True
        return any(f"{o}.{field_name}" in hidden for o in self._possible.get(parent, ()))

    def mask_data(
        self,
        data: Any,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        hidden: frozenset[str],
    ) -> Any:
        """Mask ``data`` (the shaped response data) in place for the ``hidden`` coordinates."""
        if not hidden or not isinstance(data, dict):
            return data
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = self._schema.get_root_type(operation.operation)
        if root is not None:
            self._walk(data, operation.selection_set, root, fragments, hidden)
        return data

    def _walk(
        self,
        value: Any,
        selection_set: SelectionSetNode,
        parent: Any,
        fragments: Mapping[str, FragmentDefinitionNode],
        hidden: frozenset[str],
    ) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item, selection_set, parent, fragments, hidden)
            return
        if not isinstance(value, dict):
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                key = selection.alias.value if selection.alias else name
                if key not in value or name.startswith("__"):
                    continue
                if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                if self._masked_here(parent.name, name, hidden):
                    value[key] = self._mask_any(value[key])
                elif selection.selection_set is not None and name in parent.fields:
                    named = get_named_type(parent.fields[name].type)
                    self._walk(value[key], selection.selection_set, named, fragments, hidden)
            else:
                if isinstance(selection, FragmentSpreadNode):
                    fragment = fragments.get(selection.name.value)
                    if fragment is None:
                        continue
                    condition: NamedTypeNode | None = fragment.type_condition
                    inner = fragment.selection_set
                else:
                    assert isinstance(selection, InlineFragmentNode)
                    condition, inner = selection.type_condition, selection.selection_set
                target = parent
                if condition is not None:
                    found = self._schema.get_type(condition.name.value)
                    if isinstance(
                        found, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType
                    ):
                        target = found
                self._walk(value, inner, target, fragments, hidden)

    def _mask_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask_value(value)
        if isinstance(value, list):
            return [self._mask_any(v) for v in value]
        return value

    def scrub_text(self, text: str) -> str:
        """Mask every 16-digit number in a message (NIK and KK numbers share the shape)."""
        return _LONG_NUMBER.sub(lambda m: self.mask_value(m.group(0)), text)

    def scrub_errors(self, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._scrub(error) for error in errors]

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        return value
