"""The planner's working form of selections, for client operations and subgraph fetches alike.

A client operation is normalised once: named fragments are inlined, static ``@skip``/``@include``
are applied, variable-driven ones become ``Condition``s carried by the selection. The same mutable
structures then accumulate what each fetch group asks its subgraph, and print as its document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
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


@dataclass(frozen=True, slots=True)
class Condition:
    """``@include(if: $variable)`` (``passes_when=True``) or ``@skip(if: $variable)`` (False)."""

    variable: str
    passes_when: bool


Conditions = tuple[Condition, ...]


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
    """The operation's root selections with fragments inlined and static conditions applied."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _selections(operation.selection_set, fragments)


def _selections(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> list[Selection]:
    result: list[Selection] = []
    for node in selection_set.selections if selection_set else ():
        conditions = _conditions(node)
        if conditions is None:
            continue  # statically skipped
        if isinstance(node, FieldNode):
            arguments = tuple(node.arguments or ())
            result.append(
                Field(
                    response_key=node.alias.value if node.alias else node.name.value,
                    name=node.name.value,
                    arguments=arguments,
                    conditions=conditions,
                    selections=_selections(node.selection_set, fragments),
                    arguments_text=arguments_text(arguments),
                )
            )
        elif isinstance(node, InlineFragmentNode):
            result.append(
                Fragment(
                    type_condition=node.type_condition.name.value if node.type_condition else None,
                    conditions=conditions,
                    selections=_selections(node.selection_set, fragments),
                )
            )
        elif isinstance(node, FragmentSpreadNode):
            definition = fragments[node.name.value]
            result.append(
                Fragment(
                    type_condition=definition.type_condition.name.value,
                    conditions=conditions,
                    selections=_selections(definition.selection_set, fragments),
                )
            )
    return result


def _conditions(node: SelectionNode) -> Conditions | None:
    """Variable conditions of a selection, or None when a literal condition excludes it."""
    conditions: list[Condition] = []
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        value = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        passes_when = name == "include"
        if isinstance(value, BooleanValueNode):
            if value.value != passes_when:
                return None
        elif isinstance(value, VariableNode):
            conditions.append(Condition(value.name.value, passes_when))
    return tuple(conditions)


def arguments_text(arguments: tuple[ArgumentNode, ...]) -> str:
    return ", ".join(print_ast(a) for a in arguments)


def fields_from_selection_set(selection_set: SelectionSetNode) -> list[Selection]:
    """A federation field set (key, requires, provides) as planner selections."""
    return _selections(selection_set, {})


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
        directives = tuple(_directive(c) for c in selection.conditions)
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
