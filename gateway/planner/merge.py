"""Fetch merging: fetches to one subgraph that run at the same time go in one request.

A pass over a finished ``QueryPlan``, whatever planner made it. The children of a
``ParallelNode`` are independent and the node finishes when all of them have, so its leaf
children to the same subgraph (root query fetches, and entity fetches under a ``FlattenNode``)
can be sent as one document without delaying anything that waits on them. In that document each
entity fetch's ``_entities`` field is aliased apart and takes its own representations variable::

    query($r0: [_Any!]!, $r1: [_Any!]!) { e0: _entities(representations: $r0) { ... }
                                          e1: _entities(representations: $r1) { ... } }

and root fetches keep their top-level fields (merged only when their response keys are disjoint
from the other parts').

Fetches in different *sequences* are merged only where no fetch that another waits on is
delayed: sequences that start with fetches to the same subgraphs run those steps merged
(``_zip``); a lone parallel fetch joins a later request of its sibling to its subgraph
(``_sink``); fetches that end independent branches run together at the end (``merge_tails``).
Merging two fetches some other fetch waits on, on different branches, would make one branch
wait for the other: that is never done.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    print_ast,
)

from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    MergedFetchPart,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)

_REPRESENTATIONS = "representations"


def merge_fetches(plan: QueryPlan, *, keep_apart: Container[str] = ()) -> QueryPlan:
    """``plan`` with the fetches that can share a request merged (the same plan if none).

    ``keep_apart``: subgraphs whose fetches are never merged (one that cannot answer several
    aliased ``_entities`` fields in one document).
    """
    if plan.node is None or not _repeats_a_subgraph(plan.node):
        return plan  # one fetch per subgraph: nothing to merge (and no document to parse)
    merger = _Merger(keep_apart)
    node = merger.merge_tails(merger.merge_node(plan.node))
    return plan if node is plan.node else QueryPlan(node=node)


def _repeats_a_subgraph(node: PlanNode) -> bool:
    services: list[str] = []
    stack = [node]
    while stack:
        match stack.pop():
            case FetchNode(service=service) | FlattenNode(node=FetchNode(service=service)):
                services.append(service)
            case SequenceNode(nodes=nodes) | ParallelNode(nodes=nodes):
                stack.extend(nodes)
            case ConditionNode(if_clause=if_clause, else_clause=else_clause):
                stack.extend(n for n in (if_clause, else_clause) if n is not None)
    return len(set(services)) < len(services)


class _Merger:
    """The pass, with the subgraphs whose fetches are kept apart."""

    def __init__(self, keep_apart: Container[str]) -> None:
        self.keep_apart = keep_apart
        #: each fetch's candidate, by the fetch and its path (a plan's fetches are looked at often)
        self._candidates: dict[tuple[int, tuple[str, ...]], _Part | None] = {}

    def merge_node(self, node: PlanNode) -> PlanNode:
        match node:
            case SequenceNode(nodes=nodes):
                children: list[PlanNode] = []
                for child in nodes:
                    merged = self.merge_node(child)
                    children.extend(merged.nodes if isinstance(merged, SequenceNode) else (merged,))
                return node if tuple(children) == nodes else SequenceNode(tuple(children))
            case ParallelNode(nodes=nodes):
                return self._merge_parallel(tuple(self.merge_node(child) for child in nodes), node)
            case ConditionNode(condition=condition, if_clause=if_clause, else_clause=else_clause):
                new_if = None if if_clause is None else self.merge_node(if_clause)
                new_else = None if else_clause is None else self.merge_node(else_clause)
                if new_if is if_clause and new_else is else_clause:
                    return node
                return ConditionNode(condition, new_if, new_else)
            case _:
                return node

    def _merge_parallel(self, children: tuple[PlanNode, ...], original: ParallelNode) -> PlanNode:
        """Merge a parallel node's leaves, zip its sequences' common steps, sink its lone leaves."""
        nodes = self._merge_leaves(_flatten(children))
        nodes = self._zip_sequences(nodes)
        nodes = self._sink_leaves(nodes)
        if tuple(nodes) == original.nodes:
            return original
        return nodes[0] if len(nodes) == 1 else ParallelNode(tuple(nodes))

    def _merge_leaves(self, nodes: list[PlanNode]) -> list[PlanNode]:
        """Leaf fetches to one subgraph among parallel siblings become one merged fetch."""
        result: list[PlanNode] = []
        for node in nodes:
            parts = self._parts_of(node)
            if parts is not None:
                for index, existing in enumerate(result):
                    joined = _join(self._parts_of(existing), parts)
                    if joined is not None:
                        result[index] = _build(joined)
                        break
                else:
                    result.append(node)
            else:
                result.append(node)
        return result

    def _zip_sequences(self, nodes: list[PlanNode]) -> list[PlanNode]:
        """Two parallel sequences whose first steps are fetches to the same subgraphs run them
        as merged steps, then their remainders in parallel: every step still follows its own
        predecessors, and the merged requests answer both sequences at once."""
        result = list(nodes)
        changed = True
        while changed:
            changed = False
            for i, first in enumerate(result):
                for j in range(i + 1, len(result)):
                    zipped = self._zip(first, result[j])
                    if zipped is not None:
                        result[i] = zipped
                        del result[j]
                        changed = True
                        break
                if changed:
                    break
        return result

    def _zip(self, first: PlanNode, second: PlanNode) -> PlanNode | None:
        if not isinstance(first, SequenceNode) or not isinstance(second, SequenceNode):
            return None
        steps: list[PlanNode] = []
        count = 0
        for a, b in zip(first.nodes, second.nodes, strict=False):
            joined = _join(self._parts_of(a), self._parts_of(b))
            if joined is None:
                break
            steps.append(_build(joined))
            count += 1
        if count == 0:
            return None
        rests = [_rest(first.nodes[count:]), _rest(second.nodes[count:])]
        remaining = [rest for rest in rests if rest is not None]
        if len(remaining) == 2:
            steps.append(self._merge_parallel(tuple(remaining), ParallelNode(tuple(remaining))))
        elif remaining:
            steps.append(remaining[0])
        flat: list[PlanNode] = []
        for step in steps:
            flat.extend(step.nodes if isinstance(step, SequenceNode) else (step,))
        return flat[0] if len(flat) == 1 else SequenceNode(tuple(flat))

    def _sink_leaves(self, nodes: list[PlanNode]) -> list[PlanNode]:
        """A leaf fetch whose parallel sibling later sends a fetch to the same subgraph joins that
        request. Only the leaf waits longer, and nothing waits on it alone: the parallel node
        finishes when that sibling does, as before."""
        result = list(nodes)
        index = 0
        while index < len(result):
            parts = self._parts_of(result[index])
            if parts is not None:
                for other in range(len(result)):
                    if other == index or self._parts_of(result[other]) is not None:
                        continue
                    sunk = self._sink(result[other], parts)
                    if sunk is not None:
                        result[other] = sunk
                        del result[index]
                        index -= 1
                        break
            index += 1
        return result

    def _sink(self, node: PlanNode, parts: list[_Part]) -> PlanNode | None:
        """``node`` with ``parts`` joined to its first fetch to their subgraph, if it has one."""
        own = self._parts_of(node)
        if own is not None:
            joined = _join(own, parts)
            return None if joined is None else _build(joined)
        if isinstance(node, SequenceNode | ParallelNode):
            for index, child in enumerate(node.nodes):
                sunk = self._sink(child, parts)
                if sunk is not None:
                    children = (*node.nodes[:index], sunk, *node.nodes[index + 1 :])
                    return type(node)(children)
        return None  # not into a condition: it may not run

    def merge_tails(self, node: PlanNode) -> PlanNode:
        """The last fetches of independent branches, to one subgraph, go in one final request.

        A fetch in a terminal position (nothing after it in any enclosing sequence) is waited on
        by nobody but the end of the plan. When several branches end with fetches to the same
        subgraph, they run together after everything else: no fetch another waits on is delayed,
        and the plan's longest branch usually ends with such a fetch anyway.
        """
        tails: list[PlanNode] = []
        self._collect_tails(node, tails)
        groups: list[tuple[list[PlanNode], list[_Part]]] = []
        for tail in tails:
            parts = self._parts_of(tail)
            for members, group_parts in groups:
                joined = _join(group_parts, parts)
                if joined is not None:
                    members.append(tail)
                    group_parts[:] = joined
                    break
            else:
                assert parts is not None
                groups.append(([tail], list(parts)))
        chosen = [(members, parts) for members, parts in groups if len(members) > 1]
        if not chosen:
            return node
        removed = {id(member) for members, _ in chosen for member in members}
        rest = _without(node, removed)
        final = [_build(parts) for _, parts in chosen]
        last: PlanNode = final[0] if len(final) == 1 else ParallelNode(tuple(final))
        if rest is None:
            return last
        steps = rest.nodes if isinstance(rest, SequenceNode) else (rest,)
        return SequenceNode((*steps, last))

    def _collect_tails(self, node: PlanNode, tails: list[PlanNode]) -> None:
        if self._parts_of(node) is not None:
            tails.append(node)
        elif isinstance(node, SequenceNode):
            self._collect_tails(node.nodes[-1], tails)
        elif isinstance(node, ParallelNode):
            for child in node.nodes:
                self._collect_tails(child, tails)

    def _parts_of(self, node: PlanNode) -> list[_Part] | None:
        """The mergeable fetches a leaf node sends (None: not a mergeable leaf)."""
        if isinstance(node, MergedFetchNode):
            parts = []
            for part in node.parts:
                leaf = (
                    part.fetch
                    if part.fetch.requires is None
                    else FlattenNode(part.path, part.fetch)
                )
                candidate = self._candidate(leaf)
                if candidate is None:
                    return None
                parts.append(candidate)
            return parts
        candidate = self._candidate(node)
        return None if candidate is None else [candidate]

    def _candidate(self, node: PlanNode) -> _Part | None:
        """A query fetch (root, or entity under a flatten) whose document this pass understands."""
        if not isinstance(node, FlattenNode | FetchNode):
            return None
        fetch = node.node if isinstance(node, FlattenNode) else node
        key = (id(fetch), node.path if isinstance(node, FlattenNode) else ())
        if key not in self._candidates:
            self._candidates[key] = self._new_candidate(node)
        return self._candidates[key]

    def _new_candidate(self, node: FetchNode | FlattenNode) -> _Part | None:
        if isinstance(node, FlattenNode):
            fetch = node.node
            if fetch.requires is None:
                return None
        else:
            fetch = node
            if fetch.requires is not None:
                return None
        if fetch.operation_kind != "query" or fetch.service in self.keep_apart:
            return None
        try:
            document = parse(fetch.operation, no_location=True)
        except GraphQLError:
            return None
        operation = _only_operation(document)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        if fetch.requires is not None and _entities_field(operation) is None:
            return None
        if fetch.requires is None and any(
            not isinstance(s, FieldNode) for s in operation.selection_set.selections
        ):
            return None  # a fragment at the root: its keys cannot be told apart from other parts'
        return _Part(node, operation)


class _Part:
    """A candidate fetch: its plan node, parsed operation and top-level response keys."""

    def __init__(self, node: FetchNode | FlattenNode, operation: OperationDefinitionNode) -> None:
        self.node = node
        self.fetch = node.node if isinstance(node, FlattenNode) else node
        self.path = node.path if isinstance(node, FlattenNode) else ()
        self.operation = operation
        self.keys = _response_keys(operation.selection_set.selections)


def _flatten(nodes: Iterable[PlanNode]) -> list[PlanNode]:
    flat: list[PlanNode] = []
    for node in nodes:
        flat.extend(node.nodes if isinstance(node, ParallelNode) else (node,))
    return flat


def _rest(steps: tuple[PlanNode, ...]) -> PlanNode | None:
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else SequenceNode(steps)


def _without(node: PlanNode, removed: set[int]) -> PlanNode | None:
    """``node`` without the tail fetches in ``removed`` (None when nothing is left)."""
    if id(node) in removed:
        return None
    if isinstance(node, SequenceNode):
        last = _without(node.nodes[-1], removed)
        steps = [*node.nodes[:-1], *([] if last is None else [last])]
    elif isinstance(node, ParallelNode):
        kept = [_without(child, removed) for child in node.nodes]
        steps = [child for child in kept if child is not None]
    else:
        return node
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    if isinstance(node, SequenceNode):
        flat: list[PlanNode] = []
        for step in steps:
            flat.extend(step.nodes if isinstance(step, SequenceNode) else (step,))
        return SequenceNode(tuple(flat))
    return ParallelNode(tuple(_flatten(steps)))


def _join(first: list[_Part] | None, second: list[_Part] | None) -> list[_Part] | None:
    """``first`` and ``second`` as one request, when they go to one subgraph and fit together."""
    if first is None or second is None or first[0].fetch.service != second[0].fetch.service:
        return None
    group = list(first)
    for part in second:
        if not _compatible(group, part):
            return None
        group.append(part)
    return group


def _build(parts: list[_Part]) -> PlanNode:
    return parts[0].node if len(parts) == 1 else _merged(parts)


def _only_operation(document: DocumentNode) -> OperationDefinitionNode | None:
    if len(document.definitions) != 1:
        return None  # fragment definitions would have to be renamed apart
    definition = document.definitions[0]
    return definition if isinstance(definition, OperationDefinitionNode) else None


def _entities_field(operation: OperationDefinitionNode) -> FieldNode | None:
    """The lone ``_entities(representations: $representations)`` field of an entity fetch."""
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.name.value != "_entities" or field.alias is not None or field.directives:
        return None
    arguments = field.arguments or ()
    if (
        len(arguments) != 1
        or arguments[0].name.value != _REPRESENTATIONS
        or not isinstance(arguments[0].value, VariableNode)
        or arguments[0].value.name.value != _REPRESENTATIONS
    ):
        return None
    return field


def _response_keys(selections: Iterable[SelectionNode]) -> set[str]:
    return {(s.alias or s.name).value for s in selections if isinstance(s, FieldNode)}


def _compatible(group: list[_Part], part: _Part) -> bool:
    """Root parts must not share a response key; client variables must agree on their types."""
    if part.fetch.requires is None:
        for other in group:
            if other.fetch.requires is None and other.keys & part.keys:
                return False
    definitions = _client_definitions(group)
    for definition in part.operation.variable_definitions or ():
        name = definition.variable.name.value
        known = definitions.get(name)
        if known is not None and print_ast(known) != print_ast(definition):
            return False
    return True


def _client_definitions(parts: list[_Part]) -> dict[str, VariableDefinitionNode]:
    definitions: dict[str, VariableDefinitionNode] = {}
    for part in parts:
        for definition in part.operation.variable_definitions or ():
            name = definition.variable.name.value
            if part.fetch.requires is not None and name == _REPRESENTATIONS:
                continue
            definitions.setdefault(name, definition)
    return definitions


def _merged(group: list[_Part]) -> MergedFetchNode:
    definitions = _client_definitions(group)
    taken = set(definitions) | {key for part in group for key in part.keys}
    selections: list[SelectionNode] = []
    entity_definitions: list[VariableDefinitionNode] = []
    parts: list[MergedFetchPart] = []
    entity_index = 0
    for part in group:
        field = _entities_field(part.operation) if part.fetch.requires is not None else None
        if field is None:
            selections.extend(part.operation.selection_set.selections)
            parts.append(
                MergedFetchPart(path=part.path, fetch=part.fetch, keys=frozenset(part.keys))
            )
            continue
        alias = _fresh(f"e{entity_index}", taken)
        variable = _fresh(f"r{entity_index}", taken)
        entity_index += 1
        entity_definitions.append(_representations_definition(variable))
        selections.append(
            FieldNode(
                alias=NameNode(value=alias),
                name=field.name,
                arguments=(
                    ArgumentNode(
                        name=NameNode(value=_REPRESENTATIONS),
                        value=VariableNode(name=NameNode(value=variable)),
                    ),
                ),
                directives=(),
                selection_set=field.selection_set,
            )
        )
        parts.append(
            MergedFetchPart(path=part.path, fetch=part.fetch, alias=alias, variable=variable)
        )
    name = next((p.fetch.operation_name for p in group if p.fetch.operation_name), None)
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=NameNode(value=name) if name else None,
        variable_definitions=(*entity_definitions, *definitions.values()),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(selections)),
    )
    usages: dict[str, None] = {}
    for part in group:
        usages.update(dict.fromkeys(part.fetch.variable_usages))
    return MergedFetchNode(
        service=group[0].fetch.service,
        operation=print_ast(operation),
        parts=tuple(parts),
        variable_usages=tuple(usages),
        operation_name=name,
    )


def _fresh(base: str, taken: set[str]) -> str:
    """``base``, made unique against client variables and response keys (``e0``, ``_e0``...)."""
    name = base
    while name in taken:
        name = "_" + name
    taken.add(name)
    return name


def _representations_definition(variable: str) -> VariableDefinitionNode:
    return VariableDefinitionNode(
        variable=VariableNode(name=NameNode(value=variable)),
        type=NonNullTypeNode(
            type=ListTypeNode(type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="_Any"))))
        ),
        directives=(),
    )
