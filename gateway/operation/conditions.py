"""``@skip``/``@include``: read once per selection, decided with or without the request's variables.

A literal condition (``@skip(if: true)``) is known from the document alone, so both walk modes
apply it. A variable condition (``@include(if: $v)``) is a ``Condition``: the document mode
carries it (results that are cached per document must not depend on variable values), the
request mode decides it with the request's coerced variables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)


@dataclass(frozen=True, slots=True)
class Condition:
    """``@include(if: $variable)`` (``passes_when=True``) or ``@skip(if: $variable)`` (False)."""

    variable: str
    passes_when: bool

    def holds(self, variables: Mapping[str, Any]) -> bool:
        """Whether the selection stays for these (coerced) variables.

        A value that is not a boolean (validation makes that impossible) keeps the selection: a
        security control then sees more, never less.
        """
        value = variables.get(self.variable)
        return not isinstance(value, bool) or value is self.passes_when


Conditions = tuple[Condition, ...]


def conditions_of(node: SelectionNode) -> Conditions | None:
    """The variable conditions of a selection, or None when a literal condition excludes it."""
    directives = node.directives
    if not directives:
        return ()
    found: list[Condition] = []
    for directive in directives:
        name = directive.name.value
        if name != "skip" and name != "include":
            continue
        value = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        passes_when = name == "include"
        if isinstance(value, BooleanValueNode):
            if value.value is not passes_when:
                return None
        elif isinstance(value, VariableNode):
            found.append(Condition(value.name.value, passes_when))
    return tuple(found)


def all_hold(conditions: Iterable[Condition], variables: Mapping[str, Any]) -> bool:
    return all(condition.holds(variables) for condition in conditions)


def condition_variables(document: DocumentNode) -> frozenset[str]:
    """Variables used by ``@skip``/``@include`` anywhere in the document (a cache key's parts)."""
    names: set[str] = set()
    stack: list[SelectionSetNode] = [
        d.selection_set
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            for condition in conditions_of(selection) or ():
                names.add(condition.variable)
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return frozenset(names)
