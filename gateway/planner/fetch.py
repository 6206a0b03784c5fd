"""Turn fetch groups into plan nodes: subgraph documents, dependencies and conditions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from graphql import (
    ArgumentNode,
    FieldNode,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    parse_type,
    print_ast,
    visit,
)

from gateway.operation import Condition
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RepresentationRule,
    RequiredField,
    RequiredFragment,
    RequiredSelection,
    SequenceNode,
)
from gateway.planner.selections import (
    Field,
    Fragment,
    Selection,
    add_field,
    add_fragment,
    to_selection_set,
)

if TYPE_CHECKING:
    from gateway.planner.builder import FetchGroup


_ROOT_KINDS = {"mutation": OperationType.MUTATION, "subscription": OperationType.SUBSCRIPTION}
_KIND_NAMES: dict[OperationType, Literal["query", "mutation", "subscription"]] = {
    OperationType.QUERY: "query",
    OperationType.MUTATION: "mutation",
    OperationType.SUBSCRIPTION: "subscription",
}


def assemble_plan(
    groups: list[FetchGroup],
    root_groups: list[FetchGroup],
    kind: Literal["query", "mutation"] | str,
    variable_definitions: Sequence[VariableDefinitionNode],
    operation_name: str | None,
) -> QueryPlan:
    live = [g for g in groups if g.selections]
    if not live:
        return QueryPlan(node=None)
    assembler = _Assembler(live, variable_definitions, operation_name, kind)
    roots = [g for g in root_groups if g.selections]
    if kind == "mutation":
        return QueryPlan(node=_sequence([assembler.subtree_of_root(g) for g in roots]))
    return QueryPlan(node=assembler.all_groups(roots))


class _Assembler:
    def __init__(
        self,
        groups: list[FetchGroup],
        variable_definitions: Sequence[VariableDefinitionNode],
        operation_name: str | None,
        kind: str,
    ) -> None:
        self.groups = groups
        live = {g.id for g in groups}
        direct = {g.id: [p for p in g.parents if p.id in live] for g in groups}
        self.parents = _transitive_reduction(direct)
        self.children: dict[int, list[FetchGroup]] = {g.id: [] for g in groups}
        for group in groups:
            for parent in self.parents[group.id]:
                self.children[parent.id].append(group)
        self.variables = {d.variable.name.value: d for d in variable_definitions}
        self.operation_name = operation_name
        self.kind = kind
        self._fetch_index = 0
        self.tree_shaped = all(len(p) <= 1 for p in self.parents.values())

    def all_groups(self, roots: list[FetchGroup]) -> PlanNode | None:
        if self.tree_shaped:
            return _parallel([self._tree(g, frozenset()) for g in roots])
        return self._levels(self.groups)

    def subtree_of_root(self, root: FetchGroup) -> PlanNode | None:
        members = self._descendants(root)
        if all(len([p for p in self.parents[g.id] if p in members]) <= 1 for g in members):
            return self._tree(root, frozenset())
        return self._levels([g for g in self.groups if g in members])

    def _descendants(self, root: FetchGroup) -> list[FetchGroup]:
        seen: list[FetchGroup] = [root]
        for group in seen:
            for child in self.children[group.id]:
                if child not in seen:
                    seen.append(child)
        return seen

    def _tree(self, group: FetchGroup, outer: frozenset[Condition]) -> PlanNode | None:
        conditions = _common_conditions(group)
        inner = outer | conditions
        node: PlanNode = self._node(group)
        children = [self._tree(c, inner) for c in self.children[group.id]]
        node_with_children = _sequence([node, _parallel(children)])
        return _wrap(node_with_children, conditions - outer)

    def _levels(self, groups: list[FetchGroup]) -> PlanNode | None:
        level: dict[int, int] = {}
        ids = {g.id for g in groups}

        def depth(group: FetchGroup) -> int:
            if group.id not in level:
                level[group.id] = 0  # guards against a cycle
                parents = [p for p in self.parents[group.id] if p.id in ids]
                level[group.id] = 1 + max((depth(p) for p in parents), default=-1)
            return level[group.id]

        for group in groups:
            depth(group)
        stages: list[PlanNode | None] = []
        for stage in range(max(level.values()) + 1):
            members = [g for g in groups if level[g.id] == stage]
            stages.append(_parallel([_wrap(self._node(g), _common_conditions(g)) for g in members]))
        return _sequence(stages)

    def _node(self, group: FetchGroup) -> PlanNode:
        fetch = self._fetch(group)
        return FlattenNode(path=group.path, node=fetch) if group.is_entity else fetch

    def _fetch(self, group: FetchGroup) -> FetchNode:
        selections = group.selections
        if group.is_entity:
            selections = _without_covered(_without_shared(selections, _common_conditions(group)))
        selection_set = to_selection_set(selections)
        used = _variables_in(selection_set)
        definitions = [self.variables[name] for name in self.variables if name in used]
        name = None
        if self.operation_name:
            service = _NOT_IN_NAMES.sub("_", group.service)  # "product-reviews" is no GraphQL name
            name = f"{self.operation_name}__{service}__{self._fetch_index}"
        self._fetch_index += 1
        requires: tuple[RepresentationRule, ...] | None = None
        definitions.extend(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=c.variable)),
                type=parse_type(c.type_text),
            )
            for c in group.context_inputs
        )
        if group.is_entity:
            definitions.insert(0, _REPRESENTATIONS)
            selection_set = _under_entities(selection_set)
            requires = tuple(
                RepresentationRule(
                    rule.type_condition,
                    _required(rule.selections),
                    rule.typename,
                    tuple(rule.key),
                )
                for rule in group.rules.values()
            )
        root_kind = _ROOT_KINDS.get(self.kind, OperationType.QUERY)
        operation = OperationDefinitionNode(
            operation=OperationType.QUERY if group.is_entity else root_kind,
            name=NameNode(value=name) if name else None,
            variable_definitions=tuple(definitions),
            selection_set=selection_set,
        )
        return FetchNode(
            service=group.service,
            operation=print_ast(operation),
            operation_kind=_KIND_NAMES[operation.operation],
            variable_usages=tuple(n for n in self.variables if n in used),
            requires=requires,
            operation_name=name,
            renames=group.renames,
            context_inputs=tuple(group.context_inputs),
        )


def _under_entities(selection_set: SelectionSetNode) -> SelectionSetNode:
    """``{ _entities(representations: $representations) { <selection_set> } }``."""
    representations = ArgumentNode(
        name=NameNode(value="representations"),
        value=VariableNode(name=NameNode(value="representations")),
    )
    entities = FieldNode(
        name=NameNode(value="_entities"),
        arguments=(representations,),
        selection_set=selection_set,
    )
    return SelectionSetNode(selections=(entities,))


def _transitive_reduction(parents: dict[int, list[FetchGroup]]) -> dict[int, list[FetchGroup]]:
    """Drop a dependency already implied through another one (A<-B<-C makes A<-C redundant)."""

    def ancestors(group_id: int, seen: set[int]) -> set[int]:
        for parent in parents[group_id]:
            if parent.id not in seen:
                seen.add(parent.id)
                ancestors(parent.id, seen)
        return seen

    reduced: dict[int, list[FetchGroup]] = {}
    for group_id, direct in parents.items():
        implied: set[int] = set()
        for parent in direct:
            implied |= ancestors(parent.id, set())
        reduced[group_id] = [p for p in direct if p.id not in implied]
    return reduced


_NOT_IN_NAMES = re.compile(r"[^_0-9A-Za-z]")

_REPRESENTATIONS = VariableDefinitionNode(
    variable=VariableNode(name=NameNode(value="representations")),
    type=NonNullTypeNode(
        type=ListTypeNode(type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="_Any"))))
    ),
)


def _required(selections: list[Selection]) -> tuple[RequiredSelection, ...]:
    result: list[RequiredSelection] = []
    for selection in selections:
        if isinstance(selection, Field):
            result.append(
                RequiredField(
                    selection.name, selection.response_key, _required(selection.selections)
                )
            )
        elif selection.type_condition is not None:
            result.append(
                RequiredFragment(selection.type_condition, _required(selection.selections))
            )
        else:
            result.extend(_required(selection.selections))
    return tuple(result)


class _VariableCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        self.names.add(node.name.value)


def _variables_in(selection_set: SelectionSetNode) -> set[str]:
    collector = _VariableCollector()
    visit(selection_set, collector)
    return collector.names


def _common_conditions(group: FetchGroup) -> frozenset[Condition]:
    """Conditions every client selection of the group sits under: the fetch needs them all."""
    if not group.condition_sets:
        return frozenset()
    common = set(group.condition_sets[0])
    for conditions in group.condition_sets[1:]:
        common &= set(conditions)
    return frozenset(common)


def _without_shared(selections: list[Selection], shared: frozenset[Condition]) -> list[Selection]:
    """An entity fetch's selections without the conditions all its fields share: the Condition
    node around the fetch decides those. A conditional fragment (below the entity's type
    fragments) that only they guard is merged into its parent; one guarded by more keeps the rest.
    """
    if not shared:
        return selections
    result: list[Selection] = []
    for selection in selections:
        if isinstance(selection, Field):
            _merge(result, [selection])
        elif selection.type_condition is not None:
            inner = _without_shared(selection.selections, shared)
            _merge(result, [Fragment(selection.type_condition, selection.conditions, inner)])
        else:
            remaining = tuple(c for c in selection.conditions if c not in shared)
            inner = _without_shared(selection.selections, shared)
            _merge(result, [Fragment(None, remaining, inner)] if remaining else inner)
    return result


def _without_covered(selections: list[Selection]) -> list[Selection]:
    """Drop from conditional fragments the leaf fields their parent asks unconditionally anyway."""
    plain = [s for s in selections if isinstance(s, Field) and not s.selections]
    result: list[Selection] = []
    for selection in selections:
        if isinstance(selection, Field):
            result.append(selection)
            continue
        inner = _without_covered(selection.selections)
        if selection.type_condition is None and selection.conditions:
            inner = [
                s
                for s in inner
                if not (
                    isinstance(s, Field)
                    and not s.selections
                    and any(p.same_field(s) and not p.conditions for p in plain)
                )
            ]
            if not inner:
                continue
        result.append(Fragment(selection.type_condition, selection.conditions, inner))
    return result


def _merge(target: list[Selection], selections: list[Selection]) -> None:
    for selection in selections:
        if isinstance(selection, Field):
            _merge(add_field(target, selection).selections, selection.selections)
        else:
            fragment = add_fragment(target, selection.type_condition, selection.conditions)
            _merge(fragment.selections, selection.selections)


def _wrap(node: PlanNode | None, conditions: frozenset[Condition]) -> PlanNode | None:
    for condition in sorted(conditions, key=lambda c: (c.variable, c.passes_when)):
        if node is None:
            return None
        if condition.passes_when:
            node = ConditionNode(condition.variable, if_clause=node, else_clause=None)
        else:
            node = ConditionNode(condition.variable, if_clause=None, else_clause=node)
    return node


def _sequence(nodes: Sequence[PlanNode | None]) -> PlanNode | None:
    flat: list[PlanNode] = []
    for node in nodes:
        if isinstance(node, SequenceNode):
            flat.extend(node.nodes)
        elif node is not None:
            flat.append(node)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else SequenceNode(tuple(flat))


def _parallel(nodes: Sequence[PlanNode | None]) -> PlanNode | None:
    flat: list[PlanNode] = []
    for node in nodes:
        if isinstance(node, ParallelNode):
            flat.extend(node.nodes)
        elif node is not None:
            flat.append(node)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else ParallelNode(tuple(flat))
