"""Masking: values such as the NIK are returned masked unless the caller holds the revealing scope.

``1871011204900001`` becomes ``1871xxxxxxxx0001``: the region prefix and the serial stay, so the
masked value is stable (the same resident always reads the same) and still useful to a dashboard,
but it cannot be used to look the resident up. Masking follows the client's operation (the
operation walk in request mode: fragments resolved, ``@skip``/``@include`` decided like the
shaper decided them) over the shaped response, so aliases, fragments and conditions cannot route
around it; error messages are scrubbed of anything that looks like a full identifier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLNamedType,
    GraphQLSchema,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
)

from gateway.auth.config import MaskingSection
from gateway.operation import Fragment, OperationWalk

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

    def mask_data(self, data: Any, walk: OperationWalk, hidden: frozenset[str]) -> Any:
        """Mask ``data`` (the shaped response data) in place for the ``hidden`` coordinates.

        ``walk`` is the client's operation in request mode: the selections the response holds.
        """
        if not hidden or not isinstance(data, dict):
            return data
        if walk.root is not None:
            self._walk(data, walk, walk.operation.selection_set, walk.root, hidden)
        return data

    def _walk(
        self,
        value: Any,
        walk: OperationWalk,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        hidden: frozenset[str],
    ) -> None:
        if isinstance(value, list):
            for item in value:
                self._walk(item, walk, selection_set, parent, hidden)
            return
        if not isinstance(value, dict):
            return
        for selection in walk.selections(selection_set, parent):
            if isinstance(selection, Fragment):
                # every fragment, whatever the runtime type: masking more is safe, less is not
                target = selection.target if is_composite_type(selection.target) else parent
                assert target is not None
                self._walk(value, walk, selection.selection_set, target, hidden)
                continue
            key, name = selection.key, selection.name
            definition = selection.definition
            if key not in value or definition is None:
                continue
            if self._masked_here(parent.name, name, hidden):
                value[key] = self._mask_any(value[key])
            elif selection.node.selection_set is not None:
                named = get_named_type(definition.type)
                self._walk(value[key], walk, selection.node.selection_set, named, hidden)

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
