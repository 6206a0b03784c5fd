"""The planner's working form of selections, for client operations and subgraph fetches alike.

A client operation is read through the one operation walk (``gateway.operation``) in document
mode: it resolves named fragments, applies literal ``@skip``/``@include`` and carries variable
ones as ``Condition``s, so plans stay cached per document and condition semantics live in one
place. This module copies what the walk yields into mutable structures, which then accumulate
what each fetch group asks its subgraph and print as its document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    print_ast,
)

from gateway.errors import PlanningError
from gateway.operation import Condition, Conditions, OperationWalk
from gateway.operation import Field as WalkedField


@dataclass(slots=True, eq=False)
class Field:
    response_key: str
    name: str
    arguments: tuple[ArgumentNode, ...] = ()
    conditions: Conditions = ()
    selections: list[Selection] = field(default_factory=list)
    arguments_text: str = ""

    def same_field(self, other: Field) -> bool:
        return (
            self.response_key == other.response_key
            and self.name == other.name
            and self.arguments_text == other.arguments_text
            and self.conditions == other.conditions
        )


@dataclass(slots=True, eq=False)
class Fragment:
    type_condition: str | None
    conditions: Conditions = ()
    selections: list[Selection] = field(default_factory=list)


Selection = Field | Fragment


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to plan: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        for operation in operations:
            if operation.name is not None and operation.name.value == operation_name:
                return operation
        raise PlanningError(f'unknown operation named "{operation_name}"', code="BAD_USER_INPUT")
    if len(operations) != 1:
        raise PlanningError(
            "the document holds several operations: say which with operationName",
            code="BAD_USER_INPUT",
        )
    return operations[0]


def normalize(document: DocumentNode, operation: OperationDefinitionNode) -> list[Selection]:
    """The operation's root selections, as the walk's document mode yields them."""
    walk = OperationWalk(document, operation)
    return _copied(walk, operation.selection_set)


def _copied(walk: OperationWalk, selection_set: SelectionSetNode) -> list[Selection]:
    """Fresh mutable copies of the walked selections (a fragment spread twice is copied twice:
    the planner edits them in place)."""
    result: list[Selection] = []
    for selection in walk.selections(selection_set, None):
        if isinstance(selection, WalkedField):
            node = selection.node
            arguments = tuple(node.arguments) if node.arguments else ()
            sub = node.selection_set
            name = node.name.value
            result.append(
                Field(
                    response_key=node.alias.value if node.alias else name,
                    name=name,
                    arguments=arguments,
                    conditions=selection.conditions,
                    selections=_copied(walk, sub) if sub is not None else [],
                    arguments_text=arguments_text(arguments),
                )
            )
        else:
            result.append(
                Fragment(
                    type_condition=selection.type_condition,
                    conditions=selection.conditions,
                    selections=_copied(walk, selection.selection_set),
                )
            )
    return result


def arguments_text(arguments: tuple[ArgumentNode, ...]) -> str:
    return ", ".join(print_ast(a) for a in arguments)


def field_set_walk() -> OperationWalk:
    """A document-mode walk for the federation field sets (key, requires, provides) of one plan.

    Field sets have no named fragments, so one walk serves them all; its memo then reads each
    supergraph field set once per plan (they live as long as the supergraph).
    """
    return OperationWalk.of_selection_set(SelectionSetNode(selections=()))


def fields_from_selection_set(
    selection_set: SelectionSetNode, walk: OperationWalk
) -> list[Selection]:
    """A federation field set as planner selections, read through ``walk`` (``field_set_walk``)."""
    return _copied(walk, selection_set)


def add_field(target: list[Selection], template: Field) -> Field:
    """Add ``template`` (without its sub-selections) to ``target``, merging with an equal field."""
    for existing in target:
        if isinstance(existing, Field) and existing.same_field(template):
            return existing
    added = Field(
        response_key=template.response_key,
        name=template.name,
        arguments=template.arguments,
        conditions=template.conditions,
        arguments_text=template.arguments_text,
    )
    target.append(added)
    return added


def add_fragment(
    target: list[Selection], type_condition: str | None, conditions: Conditions = ()
) -> Fragment:
    for existing in target:
        if (
            isinstance(existing, Fragment)
            and existing.type_condition == type_condition
            and existing.conditions == conditions
        ):
            return existing
    added = Fragment(type_condition=type_condition, conditions=conditions)
    target.append(added)
    return added


def add_typename(target: list[Selection]) -> None:
    """Ensure an unconditional ``__typename`` heads ``target``."""
    for existing in target:
        if (
            isinstance(existing, Field)
            and existing.name == "__typename"
            and not existing.conditions
        ) and existing.response_key == "__typename":
            return
    target.insert(0, Field(response_key="__typename", name="__typename"))


def to_selection_set(selections: list[Selection]) -> SelectionSetNode:
    """Selections as a graphql-core AST selection set, for printing a subgraph document.

    Never prints an empty selection set (invalid GraphQL): a fragment left empty is dropped (it
    asks nothing), and an object field whose selections all dropped asks ``__typename``.
    """
    nodes: list[SelectionNode] = []
    for selection in selections:
        conditions, extra = _one_of_each(selection.conditions)
        directives = tuple(_directive(c) for c in conditions)
        if extra:  # a second @skip (or @include) goes on an inline fragment around the rest
            inner_selection = _copy_with_conditions(selection, conditions)
            wrapped = Fragment(None, extra, [inner_selection])
            nodes.extend(to_selection_set([wrapped]).selections)
            continue
        if isinstance(selection, Field):
            sub = None
            if selection.selections:
                sub = to_selection_set(selection.selections)
                if not sub.selections:
                    sub = SelectionSetNode(
                        selections=(FieldNode(name=NameNode(value="__typename")),)
                    )
            nodes.append(
                FieldNode(
                    alias=NameNode(value=selection.response_key)
                    if selection.response_key != selection.name
                    else None,
                    name=NameNode(value=selection.name),
                    arguments=selection.arguments,
                    directives=directives,
                    selection_set=sub,
                )
            )
            continue
        inner = to_selection_set(selection.selections)
        if inner.selections:
            nodes.append(
                InlineFragmentNode(
                    type_condition=NamedTypeNode(name=NameNode(value=selection.type_condition))
                    if selection.type_condition
                    else None,
                    directives=directives,
                    selection_set=inner,
                )
            )
    return SelectionSetNode(selections=tuple(nodes))


def _one_of_each(conditions: Conditions) -> tuple[Conditions, Conditions]:
    """At most one ``@skip`` and one ``@include`` per selection (a directive may not repeat):
    the conditions that fit on the selection, and the others."""
    kept: list[Condition] = []
    extra: list[Condition] = []
    for condition in conditions:
        clash = any(c.passes_when == condition.passes_when for c in kept)
        (extra if clash else kept).append(condition)
    return tuple(kept), tuple(extra)


def _copy_with_conditions(selection: Selection, conditions: Conditions) -> Selection:
    if isinstance(selection, Field):
        return Field(
            selection.response_key,
            selection.name,
            selection.arguments,
            conditions,
            selection.selections,
            selection.arguments_text,
        )
    return Fragment(selection.type_condition, conditions, selection.selections)


def _directive(condition: Condition) -> DirectiveNode:
    return DirectiveNode(
        name=NameNode(value="include" if condition.passes_when else "skip"),
        arguments=(
            ArgumentNode(
                name=NameNode(value="if"),
                value=VariableNode(name=NameNode(value=condition.variable)),
            ),
        ),
    )
