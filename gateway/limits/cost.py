"""Static cost of an operation from ``@cost`` and ``@listSize`` (demand control).

Follows the IBM GraphQL Cost Directive specification as Apollo Federation uses it
(https://ibm.github.io/graphql-specs/cost-spec.html): a field costs its ``@cost(weight:)``, else
its type's, else 1 for an object, interface or union and 0 for a scalar or enum (10 for a mutation
root field). A list field multiplies what it contains by its size: the literal value of one of its
``@listSize(slicingArguments:)`` (a variable counts as ``assumedSize``), else ``assumedSize``, else
the configured default. ``sizedFields`` apply the size to the named child fields instead (the
connection pattern). Each fragment is costed once per parent type (memoised).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
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
        costs = self._schemas.get(schema)
        if costs is None:
            costs = self._schemas[schema] = _SchemaCosts(schema)
        root = schema.get_root_type(operation.operation)
        if root is None:
            return 0
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        walk = _Walk(costs, fragments, self.section.default_list_size)
        mutation = operation.operation == OperationType.MUTATION
        return walk.selection_set(operation.selection_set, root, {}, root_mutation=mutation)


class _Walk:
    def __init__(
        self,
        costs: _SchemaCosts,
        fragments: dict[str, FragmentDefinitionNode],
        default_list_size: int,
    ) -> None:
        self.costs = costs
        self.fragments = fragments
        self.default_list_size = default_list_size
        self.memo: dict[tuple[str, str], int] = {}
        self.visiting: set[str] = set()

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType,
        sizes: Mapping[str, int],
        *,
        root_mutation: bool = False,
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sizes, root_mutation)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.costs.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    total += self.selection_set(selection.selection_set, target, sizes)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, sizes)
        return total

    def spread(self, name: str, sizes: Mapping[str, int]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:
            return 0
        target = self.costs.schema.get_type(fragment.type_condition.name.value)
        if target is None:
            return 0
        key = (name, target.name)
        if sizes:
            return self.selection_set(fragment.selection_set, target, sizes)
        cached = self.memo.get(key)
        if cached is None:
            self.visiting.add(name)
            cached = self.selection_set(fragment.selection_set, target, sizes)
            self.visiting.discard(name)
            self.memo[key] = cached
        return cached

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        sizes: Mapping[str, int],
        root_mutation: bool,
    ) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        declared = self.costs.field(parent.name, name, definition)
        named, is_list = _unwrap(definition.type)
        weight = declared.weight
        if weight is None:
            weight = self.costs.type_weight(named)
        if weight is None:
            weight = MUTATION_WEIGHT if root_mutation else (1 if is_composite_type(named) else 0)
        multiplier = sizes.get(name, 1)
        child_sizes: Mapping[str, int] = {}
        if is_list or declared.list_size is not None:
            size = self.list_size(node, declared.list_size)
            if declared.list_size is not None and declared.list_size.sized_fields:
                child_sizes = dict.fromkeys(declared.list_size.sized_fields, size)
            else:
                multiplier *= size
        children = 0
        if node.selection_set is not None:
            children = self.selection_set(node.selection_set, named, child_sizes)
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
