"""One request for an entity fetch with ``@fromContext`` values that differ between objects.

Objects under ancestors with different context values need different argument values, so
their representations cannot share one ``_entities`` selection. As Apollo Router does, the
fetch is sent once with ``_entities`` aliased per distinct set of values: ``_0: _entities(
representations: $representations_0) { ... f(arg: $contextualArgument_1_0_0) }``, ``_1: ...``.
The rewritten document is cached per (operation, number of value sets).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

REPRESENTATIONS = "representations"


def alias(index: int) -> str:
    """The response key of the ``index``-th value set's ``_entities``."""
    return f"_{index}"


def variable(name: str, index: int) -> str:
    """The ``index``-th value set's copy of variable ``name``."""
    return f"{name}_{index}"


class _Renamer(Visitor):
    def __init__(self, renamed: frozenset[str], index: int) -> None:
        super().__init__()
        self.renamed = renamed
        self.index = index

    def enter_variable(self, node: VariableNode, *_: Any) -> VariableNode | None:
        if node.name.value not in self.renamed:
            return None
        return VariableNode(name=NameNode(value=variable(node.name.value, self.index)))


@lru_cache(maxsize=256)
def batched_operation(operation: str, contextual: tuple[str, ...], count: int) -> str:
    """``operation`` (an entity fetch) asking ``_entities`` ``count`` times, each copy with its
    own representations and ``contextual`` variables (suffixed ``_<index>``)."""
    document = parse(operation, no_location=True)
    definition = document.definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    renamed = frozenset((REPRESENTATIONS, *contextual))
    kept: list[VariableDefinitionNode] = []
    copied: list[VariableDefinitionNode] = []
    for definition_node in definition.variable_definitions or ():
        if definition_node.variable.name.value not in renamed:
            kept.append(definition_node)
    selections: list[FieldNode] = []
    for index in range(count):
        renamer = _Renamer(renamed, index)
        for definition_node in definition.variable_definitions or ():
            if definition_node.variable.name.value in renamed:
                copied.append(visit(definition_node, renamer))
        for selection in definition.selection_set.selections:
            assert isinstance(selection, FieldNode)
            field = visit(selection, renamer)
            selections.append(
                FieldNode(
                    alias=NameNode(value=alias(index)),
                    name=field.name,
                    arguments=field.arguments,
                    directives=field.directives,
                    selection_set=field.selection_set,
                )
            )
    batched = OperationDefinitionNode(
        operation=definition.operation,
        name=definition.name,
        variable_definitions=(*kept, *copied),
        directives=definition.directives,
        selection_set=SelectionSetNode(selections=tuple(selections)),
    )
    return print_ast(DocumentNode(definitions=(batched,)))
