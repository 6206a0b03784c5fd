"""The root introspection fields of an operation, as a document graphql-core can answer.

The shaper answers ``__schema``/``__type`` from the API schema, access control from the schema
filtered for the caller; both run this reduction. Root fragments become inline fragments that keep
their directives, so graphql-core applies ``@skip``/``@include`` with the request's variables.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    GraphQLNamedType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
)

from gateway.operation.walk import INTROSPECTION_FIELDS, Field, OperationWalk


def introspection_document(walk: OperationWalk) -> DocumentNode | None:
    """The query reduced to its root ``__schema``/``__type`` fields; None when it has none."""
    operation = walk.operation
    if operation.operation != OperationType.QUERY:
        return None
    reduced = _reduce(walk, operation.selection_set, walk.root)
    if reduced is None:
        return None
    reduced_operation = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=reduced,
    )
    return DocumentNode(definitions=(reduced_operation, *walk.fragments.values()))


def only_meta_fields(walk: OperationWalk) -> bool:
    """Whether the root asks only for ``__typename``/``__schema``/``__type`` (no subgraph)."""
    return all(
        field.name == "__typename" or field.name in INTROSPECTION_FIELDS
        for field in walk.root_fields()
    )


def _reduce(
    walk: OperationWalk, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
) -> SelectionSetNode | None:
    kept: list[SelectionNode] = []
    for selection in walk.selections(selection_set, parent):
        if isinstance(selection, Field):
            if selection.name in INTROSPECTION_FIELDS:
                kept.append(selection.node)
            continue
        inner = _reduce(walk, selection.selection_set, selection.target)
        if inner is not None:
            condition = selection.type_condition
            kept.append(
                InlineFragmentNode(
                    type_condition=NamedTypeNode(name=NameNode(value=condition))
                    if condition
                    else None,
                    directives=selection.node.directives,
                    selection_set=inner,
                )
            )
    return SelectionSetNode(selections=tuple(kept)) if kept else None


__all__ = ["introspection_document", "only_meta_fields"]
