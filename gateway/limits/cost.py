"""Static cost of an operation from ``@cost`` and ``@listSize`` (demand control).

Follows the IBM GraphQL Cost Directive specification as Apollo Federation uses it
(https://ibm.github.io/graphql-specs/cost-spec.html): a field costs its ``@cost(weight:)``, else
its type's, else 1 for an object, interface or union and 0 for a scalar or enum (10 for a mutation
root field). A list field multiplies what it contains by its size: the literal value of one of its
``@listSize(slicingArguments:)`` (a variable counts as ``assumedSize``), else ``assumedSize``, else
the configured default. ``sizedFields`` apply the size to the named child fields instead (the
connection pattern). Each named fragment is costed once (memoised) unless sized fields apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    is_composite_type,
)

from gateway.limits.config import CostSection
from gateway.operation import Field, Fragment, OperationWalk

MUTATION_WEIGHT = 10


@dataclass(frozen=True, slots=True)
class _ListSize:
    assumed_size: int | None
    slicing_arguments: tuple[str, ...]
    sized_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _FieldCost:
    weight: int | None
    list_size: _ListSize | None


def _local(name: str) -> str:
    """``federation__cost`` and ``cost__cost`` (renamed imports) -> ``cost``."""
    return name.rsplit("__", 1)[-1]


def _argument(directive: ConstDirectiveNode, name: str) -> ValueNode | None:
    for argument in directive.arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def _int(node: ValueNode | None) -> int | None:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, StringValueNode):  # @cost(weight: "5") in older composers
        try:
            return int(node.value)
        except ValueError:
            return None
    return None


def _strings(node: ValueNode | None) -> tuple[str, ...]:
    if isinstance(node, ListValueNode):
        return tuple(v.value for v in node.values if isinstance(v, StringValueNode))
    if isinstance(node, StringValueNode):
        return (node.value,)
    return ()


def _directives_of(
    directives: tuple[ConstDirectiveNode, ...] | list[ConstDirectiveNode],
) -> _FieldCost:
    weight: int | None = None
    list_size: _ListSize | None = None
    for directive in directives:
        name = _local(directive.name.value)
        if name == "cost":
            weight = _int(_argument(directive, "weight"))
        elif name == "listSize":
            list_size = _ListSize(
                assumed_size=_int(_argument(directive, "assumedSize")),
                slicing_arguments=_strings(_argument(directive, "slicingArguments")),
                sized_fields=_strings(_argument(directive, "sizedFields")),
            )
    return _FieldCost(weight, list_size)


class _SchemaCosts:
    """``@cost``/``@listSize`` of one schema's fields and types, read on first use."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._fields: dict[tuple[str, str], _FieldCost] = {}
        self._types: dict[str, int | None] = {}

    def field(self, parent: str, name: str, definition: GraphQLField) -> _FieldCost:
        key = (parent, name)
        cost = self._fields.get(key)
        if cost is None:
            node = definition.ast_node
            cost = (
                _directives_of(node.directives or ())
                if node is not None
                else _FieldCost(None, None)
            )
            self._fields[key] = cost
        return cost

    def type_weight(self, named: GraphQLNamedType) -> int | None:
        if named.name not in self._types:
            nodes = [named.ast_node, *(named.extension_ast_nodes or ())]
            weight = None
            for node in nodes:
                if node is not None:
                    found = _directives_of(node.directives or ()).weight
                    weight = found if found is not None else weight
            self._types[named.name] = weight
        return self._types[named.name]


class CostEstimator:
    """Estimates operation costs; keeps what it read from each schema (weakly, per schema)."""

    def __init__(self, section: CostSection) -> None:
        self.section = section
        self._schemas: WeakKeyDictionary[GraphQLSchema, _SchemaCosts] = WeakKeyDictionary()

    def estimate(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> int:
        """The operation's cost; blind to variable values (the walk's document mode), so a
        selection under a variable ``@skip``/``@include`` counts and a literal-skipped one not."""
        costs = self._schemas.get(schema)
        if costs is None:
            costs = self._schemas[schema] = _SchemaCosts(schema)
        walk = OperationWalk(document, operation, schema)
        if walk.root is None:
            return 0
        cost = _Cost(costs, walk, self.section.default_list_size)
        mutation = operation.operation == OperationType.MUTATION
        return cost.selection_set(operation.selection_set, walk.root, {}, root_mutation=mutation)


class _Cost:
    """One estimate: the walk's selections costed recursively, fragments memoised."""

    def __init__(self, costs: _SchemaCosts, walk: OperationWalk, default_list_size: int) -> None:
        self.costs = costs
        self.walk = walk
        self.default_list_size = default_list_size
        self.memo: dict[str, int] = {}

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        sizes: Mapping[str, int],
        *,
        root_mutation: bool = False,
    ) -> int:
        total = 0
        for selection in self.walk.selections(selection_set, parent):
            if isinstance(selection, Field):
                total += self.field(selection, sizes, root_mutation)
            elif selection.target is not None:
                total += self.fragment(selection, sizes)
        return total

    def fragment(self, fragment: Fragment, sizes: Mapping[str, int]) -> int:
        target = fragment.target
        assert target is not None
        name = fragment.name
        if name is None or sizes:
            return self.selection_set(fragment.selection_set, target, sizes)
        cached = self.memo.get(name)
        if cached is None:
            cached = self.memo[name] = self.selection_set(fragment.selection_set, target, sizes)
        return cached

    def field(self, field: Field, sizes: Mapping[str, int], root_mutation: bool) -> int:
        definition, parent = field.definition, field.parent
        if definition is None or parent is None or field.name.startswith("__"):
            return 0
        declared = self.costs.field(parent.name, field.name, definition)
        named, is_list = _unwrap(definition.type)
        weight = declared.weight
        if weight is None:
            weight = self.costs.type_weight(named)
        if weight is None:
            weight = MUTATION_WEIGHT if root_mutation else (1 if is_composite_type(named) else 0)
        multiplier = sizes.get(field.name, 1)
        child_sizes: Mapping[str, int] = {}
        if is_list or declared.list_size is not None:
            size = self.list_size(field.node, declared.list_size)
            if declared.list_size is not None and declared.list_size.sized_fields:
                child_sizes = dict.fromkeys(declared.list_size.sized_fields, size)
            else:
                multiplier *= size
        children = 0
        if field.node.selection_set is not None:
            children = self.selection_set(field.node.selection_set, named, child_sizes)
        return multiplier * (weight + children)

    def list_size(self, node: FieldNode, list_size: _ListSize | None) -> int:
        if list_size is None:
            return self.default_list_size
        values = [
            int(argument.value.value)
            for argument in node.arguments or ()
            if argument.name.value in list_size.slicing_arguments
            and isinstance(argument.value, IntValueNode)
        ]
        if values:
            return max(values)
        if list_size.assumed_size is not None:
            return list_size.assumed_size
        return self.default_list_size


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    current = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        if isinstance(current, GraphQLList):
            is_list = True
        current = current.of_type
    return current, is_list


__all__ = ["CostEstimator"]
