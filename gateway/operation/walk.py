"""One walk over a client operation: fragments resolved and ``@skip``/``@include`` decided once.

Every component that reads an operation (limits, cost, authorization, masking, audit subjects,
response shaping, the planner) iterates its selection sets through an ``OperationWalk``
instead of resolving fragments and conditions on its own, so a corner case is handled in one
place. Like Apollo Router's ``traverse``, the walk gives each selection with what it needs: a
field with the type it is selected on and its definition, a fragment (inline or named) with its
type condition resolved against the schema.

Two modes:
- **document mode** (``variables=None``): blind to variable values; literal conditions are
  applied, variable ones are carried on each selection (``conditions``). For results cached per
  document: cost, the authorization rewrite, the planner. Limits use it ``as_written``
  (literal-excluded selections kept): they bound what validation reads, which is everything.
- **request mode** (``variables`` given, coerced): selections whose conditions fail are not
  yielded. For what depends on the request: masking, audit subjects, shaping.

Spreads of unknown fragments and spreads that close a cycle are never followed (validation
reports both; limits run before validation), so a consumer may recurse without guards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from gateway.operation.conditions import Conditions, all_hold, conditions_of

#: root fields answered from the schema itself
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Field:
    """A field selection, with the type it is selected on (None: unknown to the schema)."""

    node: FieldNode
    parent: GraphQLNamedType | None
    #: the field's variable conditions (document mode; always empty in request mode)
    conditions: Conditions

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def key(self) -> str:
        """The response key (the alias when there is one)."""
        alias = self.node.alias
        return alias.value if alias is not None else self.node.name.value

    @property
    def definition(self) -> GraphQLField | None:
        """The schema field (None for ``__typename``, introspection roots and unknown fields)."""
        parent = self.parent
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition: GraphQLField | None = parent.fields.get(self.node.name.value)
            return definition
        return None


@dataclass(frozen=True, slots=True)
class Fragment:
    """An inline fragment or a spread of a named one, its type condition resolved."""

    node: InlineFragmentNode | FragmentSpreadNode
    #: the named fragment of a spread (None for an inline fragment)
    definition: FragmentDefinitionNode | None
    #: the type its selections are on: the type condition, else the enclosing type
    target: GraphQLNamedType | None
    conditions: Conditions

    @property
    def name(self) -> str | None:
        return self.definition.name.value if self.definition is not None else None

    @property
    def type_condition(self) -> str | None:
        if self.definition is not None:
            return self.definition.type_condition.name.value
        assert isinstance(self.node, InlineFragmentNode)
        condition = self.node.type_condition
        return condition.name.value if condition is not None else None

    @property
    def selection_set(self) -> SelectionSetNode:
        if self.definition is not None:
            return self.definition.selection_set
        assert isinstance(self.node, InlineFragmentNode)
        return self.node.selection_set


Selection = Field | Fragment


class OperationWalk:
    """One operation of a document, walked in document mode or request mode (see the module)."""

    def __init__(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        schema: GraphQLSchema | None = None,
        variables: Mapping[str, Any] | None = None,
        *,
        as_written: bool = False,
    ) -> None:
        self.document = document
        #: document mode that keeps even literal-excluded selections (limits: they guard
        #: validation, which reads the whole document, so they measure it as written)
        self.as_written = as_written and variables is None
        self.operation = operation
        self.schema = schema
        self.variables = variables
        self.fragments = fragment_definitions(document)
        self._back_edges, self._owners = _back_edges(self.fragments)
        self._memo: dict[tuple[int, str | None], tuple[Selection, ...]] = {}
        self.root: GraphQLObjectType | None = (
            schema.get_root_type(operation.operation) if schema is not None else None
        )

    @classmethod
    def of_selection_set(
        cls, selection_set: SelectionSetNode, schema: GraphQLSchema | None = None
    ) -> OperationWalk:
        """A document-mode walk over a bare selection set (a federation field set: ``@key``,
        ``@requires``, ``@provides``), which has no operation and no named fragments."""
        operation = OperationDefinitionNode(
            operation=OperationType.QUERY, selection_set=selection_set
        )
        return cls(DocumentNode(definitions=(operation,)), operation, schema)

    @property
    def request_mode(self) -> bool:
        return self.variables is not None

    def for_request(self, variables: Mapping[str, Any]) -> OperationWalk:
        """The same operation in request mode."""
        return OperationWalk(self.document, self.operation, self.schema, variables)

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> tuple[Selection, ...]:
        """The selections of ``selection_set`` (on ``parent``) this mode keeps, in order.

        Memoised per walk: masking visits the same selection set once per object of a list.
        """
        key = (id(selection_set), parent.name if parent is not None else None)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(self._selections(selection_set, parent))
        return found

    def _selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Iterator[Selection]:
        variables = self.variables
        for node in selection_set.selections:
            conditions = conditions_of(node)
            if conditions is None:
                if not self.as_written:
                    continue
                conditions = ()
            if variables is not None and conditions:
                if not all_hold(conditions, variables):
                    continue
                conditions = ()
            if isinstance(node, FieldNode):
                yield Field(node, parent, conditions)
                continue
            definition = None
            condition: NamedTypeNode | None
            if isinstance(node, FragmentSpreadNode):
                definition = self.fragments.get(node.name.value)
                if definition is None or self._closes_cycle(selection_set, node.name.value):
                    continue
                condition = definition.type_condition
            else:
                assert isinstance(node, InlineFragmentNode)
                condition = node.type_condition
            target = parent if condition is None else self._type(condition.name.value)
            yield Fragment(node, definition, target, conditions)

    def _closes_cycle(self, selection_set: SelectionSetNode, spread: str) -> bool:
        owner = self._owners.get(id(selection_set))
        return owner is not None and (owner, spread) in self._back_edges

    def fields(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        conditions: Conditions = (),
    ) -> Iterator[Field]:
        """Every field at this position, fragments expanded (whatever their type condition).

        Each field carries the type it is selected on and, in document mode, the conditions of
        the fragments around it as well as its own.
        """
        for selection in self.selections(selection_set, parent):
            inherited = (*conditions, *selection.conditions) if conditions else selection.conditions
            if isinstance(selection, Field):
                yield Field(selection.node, parent, inherited) if conditions else selection
            else:
                yield from self.fields(selection.selection_set, selection.target, inherited)

    def collect_fields(
        self,
        runtime: GraphQLObjectType | GraphQLInterfaceType,
        selection_sets: tuple[SelectionSetNode, ...],
    ) -> dict[str, list[FieldNode]]:
        """GraphQL spec CollectFields for an object of type ``runtime``, grouped by response key."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect_into(runtime, selection_set, grouped, visited)
        return grouped

    def _collect_into(
        self,
        runtime: GraphQLObjectType | GraphQLInterfaceType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in self.selections(selection_set, runtime):
            if isinstance(selection, Field):
                grouped.setdefault(selection.key, []).append(selection.node)
                continue
            name = selection.name
            if name is not None:
                if name in visited:
                    continue
                visited.add(name)
            if self.applies(selection.target, runtime):
                self._collect_into(runtime, selection.selection_set, grouped, visited)

    def applies(
        self, condition: GraphQLNamedType | None, runtime: GraphQLObjectType | GraphQLInterfaceType
    ) -> bool:
        """Whether a fragment on ``condition`` applies to an object of type ``runtime``."""
        if condition is runtime:
            return True
        if self.schema is not None and isinstance(
            condition, GraphQLInterfaceType | GraphQLUnionType
        ):
            return self.schema.is_sub_type(condition, runtime)
        return False

    def root_fields(self) -> list[Field]:
        """The operation's root fields, fragments expanded."""
        return list(self.fields(self.operation.selection_set, self.root))

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema is not None else None


def fragment_definitions(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _back_edges(
    fragments: Mapping[str, FragmentDefinitionNode],
) -> tuple[frozenset[tuple[str, str]], dict[int, str]]:
    """The spreads that close a cycle, and which fragment owns each selection set.

    A depth-first search over spreads, fragments in document order (an explicit stack: documents
    may nest deeply); a spread of a fragment still on the search path is a back edge. Without
    back edges the spreads form a DAG, so following the others always ends.
    """
    owners: dict[int, str] = {}
    spreads = {name: _spreads(name, fragment, owners) for name, fragment in fragments.items()}
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the search path, 2: done
    for start in fragments:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(spreads[start]))]
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif child in fragments and state.get(child) == 1:
                back.add((current, child))
            elif child in fragments and child not in state:
                state[child] = 1
                stack.append((child, iter(spreads[child])))
    return frozenset(back), owners


def _spreads(name: str, fragment: FragmentDefinitionNode, owners: dict[int, str]) -> list[str]:
    """The fragments ``fragment`` spreads, in order; records its selection sets' owner."""
    found: list[str] = []
    stack = [fragment.selection_set]
    while stack:
        selection_set = stack.pop()
        owners[id(selection_set)] = name
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                found.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return found
