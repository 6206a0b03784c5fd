"""``@defer`` in operations: validated, stripped before planning, its fragments kept for the split.

The API schema itself does not declare ``@defer`` (introspection stays Apollo Gateway's); the
engine validates operations against ``with_defer(api_schema)``, which adds graphql-core's
``@defer`` definition and so its validation rules (static unique labels, not on a mutation's or
subscription's root fields). Then ``strip_defer`` removes the directive, so planning, access control
and response shaping see the plain operation and no subgraph is ever sent ``@defer``; the
``DeferredOperation`` (fragments, their paths and labels) tells gateway/executor/defer.py how to
cut the complete response into incremental-delivery parts. See docs/defer.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLDeferDirective,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    Visitor,
    visit,
)

DEFER = "defer"


def with_defer(schema: GraphQLSchema) -> GraphQLSchema:
    """``schema`` plus the ``@defer`` directive (the same type objects, for validation only)."""
    if schema.get_directive(DEFER) is not None:
        return schema
    return GraphQLSchema(
        query=schema.query_type,
        mutation=schema.mutation_type,
        subscription=schema.subscription_type,
        types=list(schema.type_map.values()),
        directives=[*schema.directives, GraphQLDeferDirective],
        description=schema.description,
        assume_valid=True,
    )


def has_defer(document: DocumentNode) -> bool:
    """Whether any fragment of ``document`` carries ``@defer`` (cheap text-free walk)."""
    found = False

    class _Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            nonlocal found
            if node.name.value == DEFER:
                found = True
                return Visitor.BREAK
            return None

    visit(document, _Find())
    return found


def strip_defer(document: DocumentNode) -> DocumentNode:
    """``document`` without its ``@defer`` directives (locations of everything else kept)."""

    class _Strip(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            return Visitor.REMOVE if node.name.value == DEFER else None

    stripped: DocumentNode = visit(document, _Strip())
    return stripped


@dataclass(frozen=True, slots=True)
class DeferredFragment:
    """One ``@defer`` fragment of an operation: where it applies and what it selects.

    ``path`` is the response keys from the root to the objects the fragment is selected on (lists
    in between are expanded when the response is split); ``selections`` its selection set;
    ``depth`` how many deferred fragments enclose it (0: only the primary result does).
    """

    label: str | None
    path: tuple[str, ...]
    selections: SelectionSetNode
    condition: ValueNode | None
    depth: int


@dataclass(frozen=True, slots=True)
class DeferredOperation:
    """An operation's deferred fragments (document order) and what splitting needs with them."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    deferred: tuple[DeferredFragment, ...]


def deferred_operation(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DeferredOperation | None:
    """The deferred fragments of ``operation`` (``document`` still carrying ``@defer``); None
    when it defers nothing."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: list[DeferredFragment] = []

    def walk(
        selection_set: SelectionSetNode, path: tuple[str, ...], depth: int, seen: frozenset[str]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    key = selection.alias.value if selection.alias else selection.name.value
                    walk(selection.selection_set, (*path, key), depth, seen)
                continue
            if isinstance(selection, InlineFragmentNode):
                inner: SelectionSetNode = selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                name = selection.name.value
                definition = fragments.get(name)
                if definition is None or name in seen:
                    continue
                inner = definition.selection_set
                seen = seen | {name}
            directive = defer_directive(selection)
            if directive is not None:
                found.append(
                    DeferredFragment(
                        _label(directive), path, inner, _argument(directive, "if"), depth
                    )
                )
                walk(inner, path, depth + 1, seen)
            else:
                walk(inner, path, depth, seen)

    walk(operation.selection_set, (), 0, frozenset())
    if not found:
        return None
    return DeferredOperation(operation, fragments, tuple(found))


def defer_directive(node: InlineFragmentNode | FragmentSpreadNode) -> DirectiveNode | None:
    for directive in node.directives or ():
        if directive.name.value == DEFER:
            return directive
    return None


def _argument(directive: DirectiveNode, name: str) -> ValueNode | None:
    for argument in directive.arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def _label(directive: DirectiveNode) -> str | None:
    value = _argument(directive, "label")
    return value.value if isinstance(value, StringValueNode) else None
