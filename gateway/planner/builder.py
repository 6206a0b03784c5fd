"""Build a query plan: operation + supergraph -> fetch groups -> ``QueryPlan``.

The walk follows the client's selections. At each position it stays in the subgraph of the current
fetch group while that subgraph can resolve the field (``@provides`` included); otherwise it jumps
to a subgraph that can, through an entity ``@key`` whose fields the current subgraph can supply
(possibly via an intermediate subgraph, or collected from another one first). A jump adds
``__typename`` and the key fields to the source fetch and opens (or reuses) an entity fetch group
at the same response path; ``@requires`` fields are planned at the source position and the entity
group waits for the groups that supply them. Abstract positions are kept abstract when the
subgraph resolves everything asked of them, and are otherwise split into one inline fragment per
possible runtime type in that subgraph.

Where it must choose, it asks the supergraph's query graph (``gateway.querygraph``) for every
alternative and picks by cost: the candidates of a field are the graph's field edges
(``@external`` only under ``@provides``, ``@override`` per request labels, ``@interfaceObject``
targets included); key routes are chains of the graph's key edges, shortest first, one whose key
fields must be collected elsewhere last; a root field served by several subgraphs is planned on
trial from each of them and the cheapest plan wins (fetches, a root fetch already open being
free, then sequence depth, then fields asked; ties keep subgraph order: ``search.plan_cost``); a
jump target is the one with the cheapest estimate (fields asked directly of an interface
included), except where several targets' estimates are within one fetch of the best: each of
those is tried (the root field planned again with it) and the cheapest plan wins by the same
cost, within a per-operation budget of trials (``search.TrialBudget``). Subscriptions are
planned like queries: one root fetch of kind ``subscription``, then entity fetches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import count

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
)

from gateway.errors import PlanningError
from gateway.operation import Conditions
from gateway.planner.aliasing import alias_conflicts
from gateway.planner.context import (
    context_input,
    context_selections,
    context_variable,
    with_context_arguments,
)
from gateway.planner.fetch import assemble_plan
from gateway.planner.plan import LIST_MARKER, ContextInput, KeyRename, QueryPlan
from gateway.planner.search import TRIAL_MARGIN, UNPLANNABLE, Cost, TrialBudget, plan_cost
from gateway.planner.selections import (
    Field,
    Fragment,
    Selection,
    add_field,
    add_fragment,
    add_typename,
    field_set_walk,
    fields_from_selection_set,
    normalize,
    select_operation,
)
from gateway.querygraph import Node, QueryGraph, field_paths, query_graph
from gateway.querygraph.model import KeyEdge
from gateway.querygraph.provides import Provided, provided_child, provided_from, provides_field
from gateway.supergraph.model import FieldInSubgraph, Key, Supergraph

_MAX_ROUTE = 3


def build_query_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
    anchors: tuple[EntityAnchor, ...] = (),
) -> QueryPlan:
    """Plan ``operation_name`` of ``document`` (validated against ``supergraph.api_schema``).

    ``anchors``: positions whose objects a deferred part will fetch as entities
    (``build_entity_plan``): their ``__typename`` and key fields are fetched too (never shaped
    into the response: the client did not ask for them)."""
    operation = select_operation(document, operation_name)
    planner = _Planner(supergraph, override_labels)
    kind = operation.operation.value  # "query", "mutation" or "subscription"
    selections = normalize(document, operation)
    for anchor in anchors:
        for target in _targets_at(selections, anchor.path):
            add_typename(target)
            _merge_into(target, fields_from_selection_set(anchor.key, planner._field_sets))
    planner.plan_root(selections, kind)
    planner.supply_requires_unconditionally()
    root_type = planner.root_type(kind)
    for group in planner.groups:
        parent = "_Entity" if group.is_entity or root_type is None else root_type.name
        group.renames = alias_conflicts(group.selections, parent, group.service, supergraph)
    name = operation.name.value if operation.name else None
    return assemble_plan(
        planner.groups, planner.root_groups, kind, operation.variable_definitions or (), name
    )


@dataclass(frozen=True, slots=True)
class EntityAnchor:
    """A deferred fragment planned as entity fetches on the primary part's objects.

    ``path`` is the response keys to the objects (lists expanded), ``type_name`` their type
    (an entity), ``service`` the subgraph whose resolvable ``key`` the primary part fetches."""

    path: tuple[str, ...]
    type_name: str
    service: str
    key: SelectionSetNode


def build_entity_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None,
    anchor: EntityAnchor,
    *,
    override_labels: frozenset[str] = frozenset(),
) -> QueryPlan:
    """Plan the selections of ``document`` at ``anchor.path`` as entity fetches from the objects
    another plan already fetched there (with their key: see ``build_query_plan``'s anchors), so
    the root path is not read again; the plan's fetches are ``Flatten``s at that path."""
    operation = select_operation(document, operation_name)
    planner = _Planner(supergraph, override_labels)
    selections = normalize(document, operation)
    inner: list[Selection] = []
    for target in _targets_at(selections, anchor.path):
        _merge_into(inner, target)
    planner.plan_entity(anchor, _list_path(planner, selections, anchor.path), inner)
    planner.supply_requires_unconditionally()
    for group in planner.groups:
        group.renames = alias_conflicts(group.selections, "_Entity", group.service, supergraph)
    name = operation.name.value if operation.name else None
    return assemble_plan(
        planner.groups, planner.root_groups, "query", operation.variable_definitions or (), name
    )


def _only(group: FetchGroup, names: set[str]) -> bool:
    """Whether ``group``'s representations carry only fields named ``names``."""
    return all(
        isinstance(s, Field) and not s.selections and s.response_key in names
        for rule in group.rules.values()
        for s in rule.selections
    ) and all(rule.typename is None or "__typename" in names for rule in group.rules.values())


def _targets_at(selections: list[Selection], path: tuple[str, ...]) -> list[list[Selection]]:
    """The selection lists of the fields at response ``path`` (through fragments)."""
    found: list[list[Selection]] = []
    for selection in selections:
        if isinstance(selection, Fragment):
            found.extend(_targets_at(selection.selections, path))
        elif path and selection.response_key == path[0] and selection.selections:
            if len(path) == 1:
                found.append(selection.selections)
            else:
                found.extend(_targets_at(selection.selections, path[1:]))
    return found


def _list_path(
    planner: _Planner, selections: list[Selection], path: tuple[str, ...]
) -> tuple[str, ...]:
    """``path`` with a list marker after each list level (as the executor flattens)."""
    type_name = planner.root_type("query").name  # type: ignore[union-attr]
    result: list[str] = []
    level = selections
    for key in path:
        fld = _field_named(level, key)
        if fld is None:
            raise PlanningError(f"no field {key} on the path of a deferred fragment")
        type_name, depth = planner._field_type(type_name, fld.name)
        result.extend((key, *(LIST_MARKER,) * depth))
        level = fld.selections
    return tuple(result)


def _field_named(selections: list[Selection], key: str) -> Field | None:
    for selection in selections:
        if isinstance(selection, Fragment):
            inner = _field_named(selection.selections, key)
            if inner is not None:
                return inner
        elif selection.response_key == key:
            return selection
    return None


@dataclass(eq=False)
class Rule:
    """How an entity group builds representations for objects of one concrete type."""

    type_condition: str
    typename: str | None
    selections: list[Selection] = field(default_factory=list)
    key: list[str] = field(default_factory=list)  # response keys of the @key fields


@dataclass(eq=False)
class FetchGroup:
    """What one subgraph request will ask, growing while the operation is walked."""

    id: int
    service: str
    path: tuple[str, ...]
    is_entity: bool
    source: FetchGroup | None = None
    selections: list[Selection] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    parents: list[FetchGroup] = field(default_factory=list)
    condition_sets: list[Conditions] = field(default_factory=list)
    renames: tuple[KeyRename, ...] = ()
    # Asks @interfaceObject fields with @requires for objects of this one type only (see _jump).
    only_type: str | None = None
    # @fromContext argument values the executor passes as variables (see _contextual)
    context_inputs: list[ContextInput] = field(default_factory=list)

    def depend_on(self, groups: set[FetchGroup]) -> None:
        for group in sorted(groups, key=lambda g: g.id):
            if group is not self and group not in self.parents:
                self.parents.append(group)


@dataclass(frozen=True)
class _At:
    """A position in the walk: where the object's fields go, in which fetch group."""

    group: FetchGroup
    target: list[Selection]
    parent_type: str
    path: tuple[str, ...]
    provided: Provided | None
    conditions: Conditions
    exclude: frozenset[int] = frozenset()
    # The nearest entity (or query root) position above a value-typed one, and the fields from
    # there: a field this subgraph lacks on a keyless type is re-fetched along that chain.
    anchor: _At | None = None
    chain: tuple[tuple[str, Field], ...] = ()
    # The nearest position of each @context set above (context name, position), innermost last.
    contexts: tuple[tuple[str, _At], ...] = ()
    # Inside conditional fragments on this object: its position outside them, and the type
    # conditions entered since (see _unconditional).
    outside: tuple[_At, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class _Hop:
    graph: str
    graph_type: str  # the type as the target subgraph knows it (an interface for @interfaceObject)
    key: Key
    typename: str | None
    collected: bool = False  # some key fields come from other subgraphs (planned as jumps first)


#: a jump's position in the walk: (response path, type, response key of the field, re-fetch)
_JumpAt = tuple[tuple[str, ...], str, str, bool]


@dataclass(frozen=True)
class _JumpOption:
    """A subgraph a key jump may target: the estimate's cost, the route of key hops there."""

    cost: tuple[int, int, int]
    graph: str
    route: list[_Hop]
    entry: FieldInSubgraph


class _Planner:
    """The walk over the client's selections that grows fetch groups, deciding on the query
    graph where it must choose."""

    def __init__(self, supergraph: Supergraph, labels: frozenset[str]) -> None:
        self.sg = supergraph
        self.schema = supergraph.schema
        self.labels = labels
        self.groups: list[FetchGroup] = []
        self.root_groups: list[FetchGroup] = []
        self._ids = count()
        self._graph_order = {name: i for i, name in enumerate(supergraph.subgraphs)}
        self._client_aliases: tuple[set[str], set[str]] = (set(), set())
        self._kind = "query"
        self._collecting: set[tuple[str, str]] = set()
        self._entity_types: dict[str, bool] = {}
        self._conditional_requires: list[tuple[FetchGroup, Conditions, _At, list[Selection]]] = []
        self._field_sets = field_set_walk()
        self.graph: QueryGraph = query_graph(supergraph)
        #: a trial plan (costing one alternative) decides the rest without nested trials
        self.trial = False
        self._forced_root: str | None = None
        #: the root field being planned: (field, its subgraph, operation kind, root fetch reused)
        self._root_field: tuple[Field, str, str, bool] | None = None
        #: jump targets decided by trial for the root field being planned (see _jump_target)
        self._decided: dict[_JumpAt, str] = {}
        self._budget = TrialBudget()
        query_type = supergraph.schema.query_type
        self._root_name = query_type.name if query_type is not None else "Query"

    def _field_set(self, selection_set: SelectionSetNode) -> list[Selection]:
        """A key or requires field set, aliased where the client uses its names as aliases.

        ``{ upc: name }`` and an internal ``upc`` cannot share a response key in one document.
        """
        fields = fields_from_selection_set(selection_set, self._field_sets)
        return _alias_internal(fields, self._client_aliases)

    # -- groups ---------------------------------------------------------------------------------

    def _new_group(
        self, service: str, path: tuple[str, ...], is_entity: bool, source: FetchGroup | None
    ) -> FetchGroup:
        group = FetchGroup(next(self._ids), service, path, is_entity, source)
        if source is not None:
            group.parents.append(source)
        self.groups.append(group)
        return group

    def _entity_group(
        self,
        source: FetchGroup,
        service: str,
        path: tuple[str, ...],
        exclude: frozenset[int],
        only_type: str | None = None,
    ) -> FetchGroup:
        for group in self.groups:
            if (
                group.is_entity
                and group.service == service
                and group.path == path
                and group.source is source
                and group.id not in exclude
                and group.only_type == only_type
            ):
                return group
        group = self._new_group(service, path, True, source)
        group.only_type = only_type
        return group

    # -- root -----------------------------------------------------------------------------------

    def root_type(self, kind: str) -> GraphQLObjectType | None:
        if kind == "mutation":
            return self.schema.mutation_type
        if kind == "subscription":
            return self.schema.subscription_type
        return self.schema.query_type

    def plan_root(self, selections: list[Selection], kind: str) -> None:
        root = self.root_type(kind)
        if root is None:
            raise PlanningError(f"the supergraph has no {kind} type")
        self._client_aliases = _aliases(selections)
        self._kind = kind
        root_fields = _flatten_root(selections)
        if kind == "mutation":
            root_fields = _merge_repeated_root_fields(root_fields)
        for root_field in root_fields:
            if root_field.name.startswith("__"):
                continue  # __typename and introspection are answered by the gateway
            candidates = [
                (graph, entry)
                for graph, entry in self.sg.graphs_of_field(root.name, root_field.name).items()
                if self._usable(entry)
            ]
            if not candidates:
                raise PlanningError(f"no subgraph resolves {root.name}.{root_field.name}")
            open_before = {g.id for g in self.root_groups if g.selections}
            group = self._root_group_for(root.name, root_field, candidates, kind)
            if not self.trial:
                self._root_field = (root_field, group.service, kind, group.id in open_before)
                self._decided = {}
            entry = next(e for g, e in candidates if g == group.service)
            at = _At(group, group.selections, root.name, (), None, ())
            self._descend(at, root_field, entry)
        self._root_field = None

    def plan_entity(
        self, anchor: EntityAnchor, path: tuple[str, ...], selections: list[Selection]
    ) -> None:
        """Plan ``selections`` on the objects at ``path`` from an entity fetch to
        ``anchor.service`` (representations: the objects' key as another plan fetched it)."""
        self._client_aliases = _aliases(selections)
        type_name = anchor.type_name
        group = self._new_group(anchor.service, path, True, None)
        self.root_groups.append(group)
        rule = group.rules.setdefault(
            type_name, Rule(type_name, self._sent_typename(anchor.service, type_name, type_name))
        )
        key_fields = fields_from_selection_set(anchor.key, self._field_sets)
        _merge_into(rule.selections, self._typenamed(type_name, key_fields))
        rule.key.extend(f.response_key for f in key_fields if isinstance(f, Field))
        fragment = add_fragment(group.selections, type_name)
        at = _At(group, fragment.selections, type_name, path, None, ())
        self._plan_set(at, selections)
        known = {"__typename", *rule.key}
        for other in self.groups:
            # a jump on the same objects that needs only their key: from the primary's objects
            if other.path == path and group in other.parents and _only(other, known):
                other.parents.remove(group)
                self.root_groups.append(other)
        if not any(group in g.parents for g in self.groups) and all(
            isinstance(s, Field) and not s.selections and s.response_key in known
            for s in fragment.selections
        ):
            group.selections.clear()  # it would only fetch the key the others were sent

    def supply_requires_unconditionally(self) -> None:
        """Required fields a conditional field asked for, where its fetch also runs without it.

        They were supplied under the field's condition, but the representation of every object
        the fetch sends carries them: when the fetch is not itself under that condition, supply
        them unconditionally too (a skipped field must not take its entity's other fields with it).
        """
        for group, conditions, plain_at, required in self._conditional_requires:
            common = set(group.condition_sets[0]) if group.condition_sets else set()
            for condition_set in group.condition_sets[1:]:
                common &= set(condition_set)
            if not set(conditions) <= common:
                plain_at = self._unconditional(plain_at)
                group.depend_on(self._plan_set(plain_at, self._field_set_copy(required)))

    @staticmethod
    def _unconditional(at: _At) -> _At:
        """The same object's position outside the conditional fragments ``at`` is inside."""
        if at.outside is None:
            return at
        base, types = at.outside
        target = base.target
        for type_name in types:
            target = add_fragment(target, type_name).selections
        parent_type = types[-1] if types else base.parent_type
        return replace(base, target=target, parent_type=parent_type, exclude=at.exclude)

    def _field_set_copy(self, selections: list[Selection]) -> list[Selection]:
        return [
            replace(s, selections=self._field_set_copy(s.selections))
            if isinstance(s, Field)
            else Fragment(s.type_condition, s.conditions, self._field_set_copy(s.selections))
            for s in selections
        ]

    def _root_group_for(
        self,
        root: str,
        root_field: Field,
        candidates: list[tuple[str, FieldInSubgraph]],
        kind: str,
    ) -> FetchGroup:
        graphs = [g for g, _ in candidates]
        if kind == "mutation" and self.root_groups and self.root_groups[-1].service in graphs:
            return self.root_groups[-1]  # mutation root fields run in order: stay in one fetch
        existing = {} if kind == "mutation" else {g.service: g for g in self.root_groups}
        forced, self._forced_root = self._forced_root, None
        if forced in graphs:
            chosen = forced
        elif len(graphs) == 1 or self.trial:
            return self._estimated_root_group(root, root_field, candidates, kind)
        else:
            costs = {g: self._trial_cost(root_field, g, kind, g in existing) for g in graphs}
            chosen = min(
                graphs,
                key=lambda g: (costs[g], 0 if g in existing else 1, self._graph_order[g]),
            )
        if chosen in existing:
            return existing[chosen]
        group = self._new_group(chosen, (), False, None)
        self.root_groups.append(group)
        return group

    def _trial_cost(
        self,
        root_field: Field,
        graph: str,
        kind: str,
        reuses_root: bool,
        decided: dict[_JumpAt, str] | None = None,
    ) -> Cost:
        """(fetches, sequence depth, fields asked) of ``root_field`` planned from ``graph``
        (``decided``: with these jump targets; the others by estimate)."""
        trial = _Planner(self.sg, self.labels)
        trial.trial = True
        trial._forced_root = graph
        trial._decided = decided or {}
        try:
            trial.plan_root([root_field], kind)
        except PlanningError:
            return UNPLANNABLE
        live = [g for g in trial.groups if g.selections]
        return plan_cost(live, sum(_size(g.selections) for g in live), reuses_root)

    def _estimated_root_group(
        self,
        root: str,
        root_field: Field,
        candidates: list[tuple[str, FieldInSubgraph]],
        kind: str,
    ) -> FetchGroup:
        graphs = [g for g, _ in candidates]
        if kind == "mutation":
            last = self.root_groups[-1] if self.root_groups else None
            if last is not None and last.service in graphs:
                return last
            chosen = self._cheapest(graphs, root, root_field)
        else:
            existing = [g for g in self.root_groups if g.service in graphs]
            chosen = self._cheapest(graphs, root, root_field, prefer={g.service for g in existing})
            for group in existing:
                if group.service == chosen:
                    return group
        group = self._new_group(chosen, (), False, None)
        self.root_groups.append(group)
        return group

    def _cheapest(
        self, graphs: list[str], parent_type: str, fld: Field, prefer: set[str] | None = None
    ) -> str:
        def cost(graph: str) -> tuple[int, int, int]:
            estimate = self._estimate_field(graph, parent_type, fld, None, 0)
            return (estimate, 0 if prefer and graph in prefer else 1, self._graph_order[graph])

        return min(graphs, key=cost)

    # -- walking selections ---------------------------------------------------------------------

    def _plan_set(self, at: _At, selections: list[Selection]) -> set[FetchGroup]:
        if self._is_abstract(at.parent_type):
            return self._plan_abstract(at, selections)
        touched: set[FetchGroup] = set()
        for selection in selections:
            if isinstance(selection, Field):
                touched |= self._plan_field(at, selection)
            elif self._applies(selection.type_condition, at.parent_type):
                touched |= self._plan_fragment_body(at, selection)
        return touched

    def _plan_fragment_body(self, at: _At, fragment: Fragment) -> set[FetchGroup]:
        if not fragment.conditions:
            return self._plan_set(at, fragment.selections)
        conditional = add_fragment(at.target, None, fragment.conditions)
        inner = replace(
            at,
            target=conditional.selections,
            conditions=at.conditions + fragment.conditions,
            outside=at.outside or (at, ()),
        )
        return self._plan_set(inner, fragment.selections)

    def _plan_field(self, at: _At, fld: Field) -> set[FetchGroup]:
        if fld.name.startswith("__"):
            if fld.name == "__typename" and self._is_abstract(at.parent_type):
                add_typename(at.target)
            return set()
        entry = self._resolving_entry(at.group.service, at.parent_type, fld.name, at.provided)
        # A value-typed sub-selection this subgraph cannot complete: value types have no key to
        # jump through, so fetch the field whole from a subgraph that can, from this entity.
        if (
            entry is not None
            and not self._value_subtree_local(at, fld, at.group.service, entry)
            and self._entity_type(at.parent_type)
            and self._has_local_candidate(at, fld)
        ):
            return self._jump(at, fld)
        if entry is not None:
            return self._descend(at, fld, entry)
        if at.anchor is not None and not self._entity_type(at.parent_type):
            return self._refetch(at, fld)
        return self._jump(at, fld)

    def _value_subtree_local(
        self, at: _At, fld: Field, graph: str, entry: FieldInSubgraph | None
    ) -> bool:
        if not fld.selections:
            return True
        child_type = self._own_type(entry, self._field_type(at.parent_type, fld.name)[0])
        provided = provided_child(at.provided, at.parent_type, fld.name, self.sg)
        if entry is not None and entry.provides is not None:
            provided = provided_from(entry.provides, provided)
        return self._local(graph, child_type, fld.selections, provided)

    def _has_local_candidate(self, at: _At, fld: Field) -> bool:
        return any(
            graph != at.group.service
            and self._value_subtree_local(replace(at, provided=None), fld, graph, entry)
            for graph, _, entry in self._candidates(at.parent_type, fld.name)
        )

    def _local(
        self, graph: str, type_name: str, selections: list[Selection], provided: Provided | None
    ) -> bool:
        """Whether ``graph`` completes ``selections`` at a value-type position without a jump."""
        if self._entity_type(type_name):
            return True  # below an entity, jumps are possible again
        for selection in selections:
            if isinstance(selection, Fragment):
                condition = selection.type_condition or type_name
                if not self._possible(condition) & self._returned(graph, type_name):
                    continue  # never applies to what this subgraph returns here
                if not self._local(graph, condition, selection.selections, provided):
                    return False
                continue
            if selection.name.startswith("__"):
                continue
            entry = self._resolving_entry(graph, type_name, selection.name, provided)
            if entry is None:
                return False
            if selection.selections:
                child_type = self._own_type(entry, self._field_type(type_name, selection.name)[0])
                child_provided = provided_child(provided, type_name, selection.name, self.sg)
                if entry.provides is not None:
                    child_provided = provided_from(entry.provides, child_provided)
                if not self._local(graph, child_type, selection.selections, child_provided):
                    return False
        return True

    def _entity_type(self, type_name: str) -> bool:
        """Whether objects of this type can be re-fetched by key (every possible type has a key)."""
        known = self._entity_types.get(type_name)
        if known is None:
            known = all(
                any(info.resolvable_keys for info in self.sg.graphs_of_type(t).values())
                for t in self._possible(type_name)
            )
            self._entity_types[type_name] = known
        return known

    def _descend(self, at: _At, fld: Field, entry: FieldInSubgraph | None) -> set[FetchGroup]:
        """Ask ``fld`` of the current group's subgraph, then walk its sub-selections there."""
        added = add_field(at.target, fld)
        conditions = at.conditions + fld.conditions
        at.group.condition_sets.append(conditions)
        touched = {at.group}
        if not fld.selections:
            if self._is_composite(at.parent_type, fld.name):
                add_typename(added.selections)  # every sub-selection was statically skipped
            return touched
        child_type, depth = self._field_type(at.parent_type, fld.name)
        if self._is_abstract(child_type):
            add_typename(added.selections)  # shaping needs the concrete type, even if narrowed
        child_type = self._own_type(entry, child_type)
        child_provided = provided_child(at.provided, at.parent_type, fld.name, self.sg)
        if entry is not None and entry.provides is not None:
            child_provided = provided_from(entry.provides, child_provided)
        anchor, chain = self._anchor_below(at, fld)
        child = _At(
            group=at.group,
            target=added.selections,
            parent_type=child_type,
            path=at.path + (fld.response_key,) + (LIST_MARKER,) * depth,
            provided=child_provided,
            conditions=conditions,
            exclude=at.exclude,
            anchor=anchor,
            chain=chain,
            contexts=at.contexts,
        )
        field_type = self._field_type(at.parent_type, fld.name)[0]
        for context, setters in self.sg.contexts.items():
            if field_type in setters:
                child = replace(child, contexts=(*child.contexts, (context, child)))
        touched |= self._plan_set(child, fld.selections)
        if not added.selections:
            add_typename(added.selections)  # only __typename was asked, or only of other subgraphs
        return touched

    # -- value types: re-fetch from the nearest entity or root ------------------------------------

    def _anchor_below(
        self, at: _At, fld: Field
    ) -> tuple[_At | None, tuple[tuple[str, Field], ...]]:
        """The anchor and chain for positions below ``fld`` asked at ``at``."""
        parent = at.parent_type
        is_root = parent == self._root_name and self._kind == "query"
        if is_root or (not self._is_abstract(parent) and self._entity_type(parent)):
            return at, ((parent, fld),)
        if at.anchor is not None:
            return at.anchor, (*at.chain, (parent, fld))
        return None, ()

    def _refetch(self, at: _At, fld: Field) -> set[FetchGroup]:
        """Ask ``fld`` of a keyless value type along the path from the nearest entity (or root).

        The value type has no key to jump through, so the whole path from the anchor is asked of
        a subgraph that resolves all of it; the results merge at the same response path.
        """
        anchor = at.anchor
        assert anchor is not None
        extra = tuple(
            c
            for c in at.conditions
            if c not in anchor.conditions and all(c not in f.conditions for _, f in at.chain)
        )
        leaf = replace(fld, conditions=fld.conditions + extra) if extra else fld
        synthetic = self._chain_field(at.chain, at.parent_type, leaf)
        local = replace(anchor, provided=None)
        service = anchor.group.service
        if anchor.parent_type == self._root_name:
            candidates = [
                (graph, entry)
                for graph, entry in self.sg.graphs_of_field(
                    anchor.parent_type, synthetic.name
                ).items()
                if graph != service
                and self._usable(entry)
                and self._value_subtree_local(local, synthetic, graph, entry)
            ]
            if candidates:
                group = self._root_group_for(anchor.parent_type, synthetic, candidates, "query")
                entry = next(e for g, e in candidates if g == group.service)
                root_at = _At(group, group.selections, anchor.parent_type, (), None, ())
                return self._descend(root_at, synthetic, entry)
        elif any(
            graph != service and self._value_subtree_local(local, synthetic, graph, entry)
            for graph, _, entry in self._candidates(anchor.parent_type, synthetic.name)
        ):
            return self._jump(anchor, synthetic, refetch=True)
        raise PlanningError(
            f"cannot plan {at.parent_type}.{fld.name}: subgraph {at.group.service} does not "
            f"resolve it, {at.parent_type} has no @key to jump through, and no other subgraph "
            f"resolves the whole path from {anchor.parent_type}"
        )

    def _chain_field(self, chain: tuple[tuple[str, Field], ...], parent: str, leaf: Field) -> Field:
        """``leaf`` wrapped in copies of the chain's fields (type conditions where they narrow)."""
        steps = [*chain, (parent, leaf)]
        inner: list[Selection] = [leaf]
        for index in range(len(steps) - 1, 0, -1):
            step_parent = steps[index][0]
            outer_parent, outer = steps[index - 1]
            returned, _ = self._field_type(outer_parent, outer.name)
            if step_parent != returned:
                inner = [Fragment(step_parent, (), inner)]
            inner = [
                Field(
                    outer.response_key,
                    outer.name,
                    outer.arguments,
                    outer.conditions,
                    inner,
                    outer.arguments_text,
                )
            ]
        only = inner[0]
        assert isinstance(only, Field)
        return only

    def _plan_abstract(self, at: _At, selections: list[Selection]) -> set[FetchGroup]:
        abstract = at.parent_type
        service = at.group.service
        add_typename(at.target)
        in_graph = self.sg.graphs_of_type(abstract).get(service)
        if in_graph is not None and in_graph.is_interface_object:
            return self._plan_interface_object(at, selections)
        runtime = self.sg.runtime_types(abstract, service)
        direct = _direct_fields(selections, abstract, self.sg)
        keep_abstract = all(
            f.name.startswith("__") or self._resolves_everywhere(service, abstract, runtime, f, at)
            for f in direct
        )
        touched: set[FetchGroup] = {at.group}
        if keep_abstract:
            for selection in selections:
                if isinstance(selection, Field):
                    touched |= self._plan_field(at, selection)
                    continue
                condition = selection.type_condition
                if condition is None or condition == abstract:
                    touched |= self._plan_fragment_body(at, selection)
                    continue
                possible = self._possible(condition) & runtime
                if not possible:
                    continue  # no object of that type can come from this subgraph here
                if self._is_abstract(condition) and not possible <= self.sg.runtime_types(
                    condition, service
                ):
                    # The subgraph does not know the condition, or some of these objects do not
                    # implement it there: the fragment would silently skip them.
                    touched |= self._explode(at, [selection], possible)
                    continue
                fragment = add_fragment(at.target, condition, selection.conditions)
                outside = at.outside
                if outside is not None or selection.conditions:
                    base, types = outside or (at, ())
                    outside = (base, (*types, condition))
                inner = replace(
                    at,
                    target=fragment.selections,
                    parent_type=condition,
                    conditions=at.conditions + selection.conditions,
                    outside=outside,
                )
                touched |= self._plan_set(inner, selection.selections)
            return touched
        return touched | self._explode(at, selections, runtime)

    def _resolves_everywhere(
        self, service: str, abstract: str, runtime: frozenset[str], fld: Field, at: _At
    ) -> bool:
        """Whether ``service`` resolves an abstract type's field for each of its implementations.

        An implementation's field may have been ``@override``n away from ``service`` or be
        ``@external`` there: asking the interface field would return that subgraph's stale value.
        """
        if self._resolving_entry(service, abstract, fld.name, at.provided) is None:
            return False
        return all(
            self._resolving_entry(service, type_name, fld.name, at.provided) is not None
            for type_name in runtime
            if (type_name, fld.name) in self.sg.field_graphs
        )

    def _explode(
        self, at: _At, selections: list[Selection], runtime: frozenset[str]
    ) -> set[FetchGroup]:
        """One inline fragment per possible runtime type, each planned as an object position."""
        touched: set[FetchGroup] = set()
        for type_name in self._in_schema_order(runtime):
            relevant = _for_type(selections, type_name, self.sg)
            if not relevant:
                continue
            fragment = add_fragment(at.target, type_name)
            outside = None if at.outside is None else (at.outside[0], (*at.outside[1], type_name))
            inner = replace(at, target=fragment.selections, parent_type=type_name, outside=outside)
            touched |= self._plan_set(inner, relevant)
        return touched

    def _plan_interface_object(self, at: _At, selections: list[Selection]) -> set[FetchGroup]:
        """An @interfaceObject subgraph returns the interface's name as ``__typename``.

        Fields it resolves are asked of it; for the concrete type (``__typename``, type conditions)
        and the remaining fields, jump to a subgraph that knows the interface's implementations.
        """
        interface = at.parent_type
        service = at.group.service
        direct = _direct_fields(selections, interface, self.sg)
        local = [
            f
            for f in direct
            if not f.name.startswith("__")
            and self._resolving_entry(service, interface, f.name, at.provided) is not None
        ]
        # Fields another subgraph resolves on the interface itself are reached by key from here,
        # in parallel with the owner's fetch.
        on_interface = [
            f
            for f in direct
            if f not in local
            and not f.name.startswith("__")
            and any(
                self._route(service, interface, graph, graph_type, at.provided) is not None
                for graph, graph_type, _ in self._candidates(interface, f.name)
            )
        ]
        narrowed = any(
            isinstance(sel, Fragment) and sel.type_condition not in (None, interface)
            for sel in selections
        )
        needs_concrete = narrowed or len(local) + len(on_interface) != len(direct)
        touched: set[FetchGroup] = {at.group}
        if not needs_concrete:
            for selection in selections:
                touched |= (
                    self._plan_field(at, selection)
                    if isinstance(selection, Field)
                    else self._plan_fragment_body(at, selection)
                )
            return touched
        for handled in (*local, *on_interface):
            touched |= self._plan_field(at, handled)
        rest = _without(selections, {id(f) for f in (*local, *on_interface)})
        return touched | self._plan_through_interface_owner(at, rest)

    def _plan_through_interface_owner(self, at: _At, rest: list[Selection]) -> set[FetchGroup]:
        """Jump from an @interfaceObject position to a subgraph that knows the implementations
        (a resolvable key of the interface there), for ``__typename`` and ``rest``."""
        interface = at.parent_type
        service = at.group.service
        owners = [
            graph
            for graph, info in self.sg.graphs_of_type(interface).items()
            if not info.is_interface_object and info.resolvable_keys
        ]
        for owner in sorted(owners, key=self._graph_order.__getitem__):
            route = self._route(service, interface, owner, interface, at.provided)
            if route is None:
                continue
            target_at = self._follow(at, interface, route)
            add_typename(target_at.target)
            target_at.group.condition_sets.append(at.conditions)
            return {target_at.group} | self._plan_abstract(target_at, rest)
        where = ".".join(p for p in at.path if p != LIST_MARKER) or interface
        if at.chain:  # the field that led here, when the response path shows only its alias
            parent, led_by = at.chain[-1]
            where += f" ({parent}.{led_by.name})"
        raise PlanningError(
            f"cannot plan {where}: {service} returns {interface} as an @interfaceObject, and no "
            f"subgraph with a resolvable @key of {interface} can tell the concrete type that the "
            "selection needs (__typename, type conditions or fields only implementations have)"
        )

    # -- jumps ----------------------------------------------------------------------------------

    def _jump(self, at: _At, fld: Field, *, refetch: bool = False) -> set[FetchGroup]:
        """Ask ``fld`` of another subgraph through entity keys (the cheapest route and target).

        ``refetch``: the current subgraph resolves ``fld`` but not what is asked below it.
        """
        type_name = at.parent_type
        service = at.group.service
        options = self._jump_options(at, fld, refetch=refetch)
        if not options:
            raise PlanningError(
                f"cannot plan {type_name}.{fld.name} from subgraph {service}: no subgraph that "
                f"resolves it has a @key of {type_name} that {service} can supply"
            )
        chosen = self._jump_target((at.path, type_name, fld.response_key, refetch), options)
        route, entry = chosen.route, chosen.entry
        plain = at
        if fld.conditions:
            # What the jump needs from the source is needed only when the field is included.
            conditional = add_fragment(at.target, None, fld.conditions)
            at = replace(
                at, target=conditional.selections, conditions=at.conditions + fld.conditions
            )
        before_last = self._follow(at, type_name, route[:-1]) if len(route) > 1 else at
        # An @interfaceObject subgraph gets every object as the interface: one selection for all
        # of them. A field with @requires asked for one concrete type gets a fetch of its own, or
        # the other types' representations would lack what it requires.
        hop = route[-1]
        only = type_name if entry.requires is not None and hop.graph_type != type_name else None
        last = self._follow(before_last, type_name, route[-1:], only)
        if plain.conditions:
            # The client's enclosing fragments include the field only under these conditions;
            # the entity fetch keeps them (its other fields may not share them; those all its
            # fields share are left to the plan's Condition node: fetch.py drops them here).
            conditional = add_fragment(last.target, None, plain.conditions)
            last = replace(last, target=conditional.selections)
        if entry.requires is not None:
            required = self._field_set(entry.requires)
            source_at = replace(before_last, exclude=before_last.exclude | {last.group.id})
            if (fld.conditions or plain.outside is not None) and len(route) == 1:
                # Under a condition of the field or of fragments around it (at.conditions).
                plain_at = replace(plain, exclude=source_at.exclude)
                conditions = fld.conditions if plain.outside is None else at.conditions
                self._conditional_requires.append((last.group, conditions, plain_at, required))
            supplied = self._plan_set(source_at, required)
            last.group.depend_on(supplied)
            typed = self._typenamed(type_name, required)
            _merge_into(last.group.rules[type_name].selections, typed)
        if entry.context_arguments:
            fld = self._contextual(at, last.group, hop.graph, hop.graph_type, fld, entry)
        return {last.group} | self._descend(last, fld, entry)

    def _jump_options(self, at: _At, fld: Field, *, refetch: bool) -> list[_JumpOption]:
        """Every subgraph a key route reaches that resolves ``fld``, with its estimated cost."""
        type_name = at.parent_type
        service = at.group.service
        options: list[_JumpOption] = []
        for graph, graph_type, entry in self._candidates(type_name, fld.name):
            if refetch and graph == service:
                continue
            route = self._route(service, type_name, graph, graph_type, at.provided)
            if route is None:
                continue
            reuse = any(
                g.is_entity and g.service == graph and g.path == at.path and g.source is at.group
                for g in self.groups
            )
            estimate = self._estimate_field(graph, graph_type, fld, None, 0)
            estimate += sum(1 for hop in route if hop.collected)
            if not self._value_subtree_local(replace(at, provided=None), fld, graph, entry):
                estimate += 100  # it would have to leave that subgraph where no key allows it
            cost = (len(route) + estimate, 0 if reuse else 1, self._graph_order[graph])
            options.append(_JumpOption(cost, graph, route, entry))
        return options

    def _jump_target(self, position: _JumpAt, options: list[_JumpOption]) -> _JumpOption:
        """The target of a key jump: by trial where estimates are close, else the estimate's.

        Targets whose estimates are within ``TRIAL_MARGIN`` fetches of the best one are each
        tried: the root field is planned again with that target at this position (and the
        targets already decided by trial at others), and the cheapest plan wins (``plan_cost``;
        ties keep the estimate's order). Bounded by the operation's ``TrialBudget``.
        """
        options.sort(key=lambda o: o.cost)
        decided = self._decided.get(position)
        if decided is not None:
            return next((o for o in options if o.graph == decided), options[0])
        close = [o for o in options if o.cost[0] <= options[0].cost[0] + TRIAL_MARGIN]
        if self.trial or self._root_field is None or len(close) < 2:
            return options[0]
        if not self._budget.take(len(close)):
            return options[0]
        root_field, graph, kind, reused = self._root_field
        costs = {
            id(o): self._trial_cost(
                root_field, graph, kind, reused, {**self._decided, position: o.graph}
            )
            for o in close
        }
        best = min(close, key=lambda o: (costs[id(o)], o.cost))
        self._decided[position] = best.graph
        return best

    def _contextual(
        self,
        at: _At,
        group: FetchGroup,
        graph: str,
        type_name: str,
        fld: Field,
        entry: FieldInSubgraph,
    ) -> Field:
        """``fld`` with its ``@fromContext`` arguments as variables of ``group``'s fetch.

        Each value is asked of the nearest ancestor that sets the context (added to that
        ancestor's fetch, which ``group`` then waits on), and read from there by the executor.
        """
        variables: dict[str, str] = {}
        for argument in entry.context_arguments:
            ancestor = next((a for c, a in reversed(at.contexts) if c == argument.context), None)
            if ancestor is None:
                raise PlanningError(
                    f"cannot plan {type_name}.{fld.name}: its argument {argument.name} comes from "
                    f"context {argument.context}, which no enclosing selection sets"
                )
            selections = context_selections(
                self._field_set(argument.selection),
                ancestor.parent_type,
                abstract=self._is_abstract(ancestor.parent_type),
            )
            source = replace(ancestor, exclude=ancestor.exclude | {group.id})
            group.depend_on(self._plan_set(source, selections))
            variable = context_variable(self.sg, graph, type_name, fld.name, argument.name)
            read = context_input(variable, argument, ancestor.path, selections)
            if read not in group.context_inputs:
                group.context_inputs.append(read)
            variables[argument.name] = variable
        return with_context_arguments(fld, variables)

    def _typenamed(self, type_name: str, selections: list[Selection]) -> list[Selection]:
        """Required selections with ``__typename`` at each nested abstract position.

        A subgraph decoding a representation needs the concrete type of an interface- or
        union-typed value, exactly as the fetch that supplied it returned it.
        """
        result: list[Selection] = []
        for selection in selections:
            if isinstance(selection, Fragment):
                condition = selection.type_condition or type_name
                inner = self._typenamed(condition, selection.selections)
                result.append(Fragment(selection.type_condition, selection.conditions, inner))
                continue
            if not selection.selections:
                result.append(selection)
                continue
            child_type, _ = self._field_type(type_name, selection.name)
            inner = self._typenamed(child_type, selection.selections)
            if self._is_abstract(child_type):
                inner.insert(0, Field(response_key="__typename", name="__typename"))
            result.append(replace(selection, selections=inner))
        return result

    def _follow(
        self, at: _At, type_name: str, route: list[_Hop], only_type: str | None = None
    ) -> _At:
        """Take the hops of ``route`` from ``at``: each adds key fields and an entity group."""
        for hop in route:
            add_typename(at.target)
            key_fields = self._field_set(hop.key.selection_set)
            if hop.collected:
                self._collecting.add((type_name, hop.graph))
            try:
                supplied = self._plan_set(at, key_fields)
            finally:
                self._collecting.discard((type_name, hop.graph))
            group = self._entity_group(at.group, hop.graph, at.path, at.exclude, only_type)
            group.depend_on(supplied)
            rule = group.rules.setdefault(type_name, Rule(type_name, hop.typename))
            _merge_into(rule.selections, self._typenamed(type_name, key_fields))
            for key_field in key_fields:
                if isinstance(key_field, Field) and key_field.response_key not in rule.key:
                    rule.key.append(key_field.response_key)
            fragment = add_fragment(group.selections, hop.graph_type)
            at = _At(
                group=group,
                target=fragment.selections,
                parent_type=hop.graph_type,
                path=at.path,
                provided=None,
                conditions=at.conditions,
                exclude=at.exclude,
                contexts=at.contexts,
            )
        return at

    def _route(
        self, source: str, type_name: str, target: str, target_type: str, provided: Provided | None
    ) -> list[_Hop] | None:
        """The cheapest chain of key jumps (query-graph key edges) from ``source`` to ``target``.

        Shortest first; a jump whose key fields ``source`` lacks (collected from other subgraphs
        first) counts one more fetch and only as the last, single jump. Under ``@provides`` the
        first jump's key fields may be provided ones.
        """
        start = self.graph.node(source, type_name)
        if start is None:
            return None
        goal = Node(target, target_type)
        best: tuple[tuple[int, int], list[tuple[KeyEdge, bool]]] | None = None
        for hops in self._key_routes(start, goal, provided):
            collected = sum(1 for _, local in hops if not local)
            if collected and (hops[-1][1] or len(hops) > 1):
                continue  # key fields are collected for the last (only) jump, as the walk plans
            if collected and (type_name, target) in self._collecting:
                continue
            cost = (len(hops) + collected, collected)
            if best is None or cost < best[0]:
                best = (cost, hops)
        if best is None:
            return None
        return [
            _Hop(h.tail.graph, h.tail.type_name, h.key, h.typename, collected=not local)
            for h, local in best[1]
        ]

    def _key_routes(
        self, start: Node, goal: Node, provided: Provided | None
    ) -> list[list[tuple[KeyEdge, bool]]]:
        """Chains of key edges from ``start`` to ``goal``, each with whether its key fields are
        local (intermediate hops keep the type)."""
        routes: list[list[tuple[KeyEdge, bool]]] = []
        frontier: list[tuple[Node, list[tuple[KeyEdge, bool]]]] = [(start, [])]
        seen = {start.graph}
        for level in range(_MAX_ROUTE):
            next_frontier: list[tuple[Node, list[tuple[KeyEdge, bool]]]] = []
            for node, hops in frontier:
                for hop in self.graph.keys(node):
                    local = hop.local
                    if level == 0 and provided and not local:
                        key = hop.key.selection_set
                        local = self._supplies(start.graph, start.type_name, key, provided)
                    if hop.tail == goal:
                        if local or self._collectable(hop):
                            routes.append([*hops, (hop, local)])
                        continue
                    if (
                        local
                        and hop.tail.type_name == start.type_name
                        and hop.tail.graph not in seen
                        and hop.tail.graph != goal.graph
                    ):
                        seen.add(hop.tail.graph)
                        next_frontier.append((hop.tail, [*hops, (hop, local)]))
            if any(all(local for _, local in route) for route in routes):
                break  # a longer route cannot be cheaper than a local one
            frontier = next_frontier
        return routes

    def _collectable(self, hop: KeyEdge) -> bool:
        """Whether the key fields ``hop``'s head lacks can be had by a jump from it first."""
        for selection in hop.key.selection_set.selections:
            name = getattr(getattr(selection, "name", None), "value", None)
            if name is None:
                return False
            if name == "__typename":
                continue
            paths = field_paths(
                self.graph,
                hop.head,
                name,
                self.labels,
                max_hops=1,
                avoid=frozenset({hop.tail.graph}),
            )
            if not any(not p.edge.requires and not p.edge.entry.external for p in paths):
                return False
        return True

    def _sent_typename(self, graph: str, type_name: str, graph_type: str) -> str | None:
        """The ``__typename`` a representation must carry for ``graph``, when not the object's.

        An ``@interfaceObject`` subgraph knows only the interface: it must receive that name even
        when the object's concrete type is known by then (another fetch told it).
        """
        info = self.sg.graphs_of_type(graph_type).get(graph)
        if graph_type != type_name or (info is not None and info.is_interface_object):
            return graph_type
        return None

    def _supplies(
        self, graph: str, type_name: str, field_set: SelectionSetNode, provided: Provided | None
    ) -> bool:
        """Whether ``graph`` can return every field of ``field_set`` on ``type_name`` here."""
        for node in field_set.selections:
            if isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else type_name
                if not self._supplies(graph, condition, node.selection_set, provided):
                    return False
                continue
            if not isinstance(node, FieldNode):
                return False
            name = node.name.value
            if name == "__typename":
                continue
            entry = self._resolving_entry(graph, type_name, name, provided, for_key=True)
            if entry is None:
                return False
            sub = node.selection_set
            if sub is not None:
                child_type, _ = self._field_type(type_name, name)
                child_provided = provided_child(provided, type_name, name, self.sg)
                if not self._supplies(graph, child_type, sub, child_provided):
                    return False
        return True

    def _candidates(
        self, type_name: str, field_name: str
    ) -> list[tuple[str, str, FieldInSubgraph]]:
        """Subgraphs that resolve ``type_name.field_name`` (the query graph's field edges), with
        the type as each knows it (an ``@interfaceObject`` knows the interface)."""
        found: list[tuple[str, str, FieldInSubgraph]] = []
        nodes = list(self.graph.nodes_of(type_name))
        gql_type = self.schema.type_map.get(type_name)
        for interface in getattr(gql_type, "interfaces", ()):
            nodes += [
                n
                for n in self.graph.nodes_of(interface.name)
                if self.sg.graphs_of_type(interface.name)[n.graph].is_interface_object
            ]
        for node in nodes:
            for edge in self.graph.fields(node, field_name, self.labels):
                if not edge.entry.external:
                    found.append((node.graph, node.type_name, edge.entry))
        found.sort(key=lambda c: self._graph_order[c[0]])
        return found

    # -- facts about the supergraph -------------------------------------------------------------

    def _usable(self, entry: FieldInSubgraph) -> bool:
        return not entry.external and not entry.used_overridden and entry.active(self.labels)

    def _resolving_entry(
        self,
        graph: str,
        type_name: str,
        field_name: str,
        provided: Provided | None,
        *,
        for_key: bool = False,
    ) -> FieldInSubgraph | None:
        """The field's entry in ``graph`` when ``graph`` can return it at this position directly."""
        entry = self.sg.graphs_of_field(type_name, field_name).get(graph)
        if entry is None:
            return None
        if entry.external:
            return entry if provides_field(provided, type_name, field_name, self.sg) else None
        if not entry.active(self.labels) and not for_key:
            return None
        if entry.used_overridden and not for_key:
            return None
        if entry.context_arguments and not for_key:
            return None  # asked in an entity fetch that receives what it needs
        if entry.requires is not None and not for_key:
            # Asked in an entity fetch that receives what it needs, unless all of it is
            # provided here: then the subgraph's own object has it (as Apollo plans it).
            required = self._field_set(entry.requires)
            return entry if self._all_provided(type_name, required, provided) else None
        return entry

    def _all_provided(
        self, type_name: str, selections: list[Selection], provided: Provided | None
    ) -> bool:
        """Whether every field of ``selections`` is ``@provides``d at this position."""
        if provided is None:
            return False
        for selection in selections:
            if isinstance(selection, Fragment):
                return False  # type-conditioned requirements are left to an entity fetch
            if not provides_field(provided, type_name, selection.name, self.sg):
                return False
            if selection.selections:
                child_type, _ = self._field_type(type_name, selection.name)
                child = provided_child(provided, type_name, selection.name, self.sg)
                if not self._all_provided(child_type, selection.selections, child):
                    return False
        return True

    def _estimate_field(
        self, graph: str, parent_type: str, fld: Field, provided: Provided | None, depth: int
    ) -> int:
        """A rough count of the extra fetches ``fld``'s sub-selections need from ``graph``."""
        if not fld.selections or depth > 4 or fld.name.startswith("__"):
            return 0
        entry = self.sg.graphs_of_field(parent_type, fld.name).get(graph)
        if entry is not None and entry.provides is not None:
            provided = provided_from(entry.provides, provided)
        child_type = self._own_type(entry, self._field_type(parent_type, fld.name)[0])
        return self._estimate_set(graph, child_type, fld.selections, provided, depth + 1)

    def _estimate_set(
        self,
        graph: str,
        type_name: str,
        selections: list[Selection],
        provided: Provided | None,
        depth: int,
    ) -> int:
        """The walk's estimate, plus the fields asked directly of an abstract position: one more
        fetch when ``graph`` does not resolve one of them for every member it returns there."""
        cost = self._estimate_known(graph, type_name, selections, provided, depth)
        if not self._is_abstract(type_name):
            return cost
        runtime = self._returned(graph, type_name)
        missing = False
        for fld in _direct_fields(selections, type_name, self.sg):
            if fld.name.startswith("__"):
                continue
            if not self._resolves_for_all(graph, type_name, runtime, fld.name, provided):
                missing = True
                continue
            child = provided_child(provided, type_name, fld.name, self.sg)
            cost += self._estimate_field(graph, type_name, fld, child, depth)
        return cost + (1 if missing else 0)

    def _resolves_for_all(
        self,
        graph: str,
        abstract: str,
        runtime: frozenset[str],
        field_name: str,
        provided: Provided | None,
    ) -> bool:
        if self._resolving_entry(graph, abstract, field_name, provided) is None:
            return False
        return all(
            self._resolving_entry(graph, member, field_name, provided) is not None
            for member in runtime
            if (member, field_name) in self.sg.field_graphs
        )

    def _estimate_known(
        self,
        graph: str,
        type_name: str,
        selections: list[Selection],
        provided: Provided | None,
        depth: int,
    ) -> int:
        cost = 0
        jumps: set[str] = set()
        for selection in selections:
            if isinstance(selection, Fragment):
                condition = selection.type_condition or type_name
                if condition in self.schema.type_map and (
                    self._possible(condition) & self._returned(graph, type_name)
                ):
                    cost += self._estimate_set(
                        graph, condition, selection.selections, provided, depth
                    )
                continue
            if selection.name.startswith("__") or self._is_abstract(type_name):
                continue
            if self._resolving_entry(graph, type_name, selection.name, provided) is not None:
                child_provided = provided_child(provided, type_name, selection.name, self.sg)
                cost += self._estimate_field(graph, type_name, selection, child_provided, depth)
                continue
            candidates = self._candidates(type_name, selection.name)
            if candidates:
                jumps.add(candidates[0][0])
                cost += self._estimate_field(candidates[0][0], type_name, selection, None, depth)
        return cost + len(jumps)

    def _own_type(self, entry: FieldInSubgraph | None, supergraph_type: str) -> str:
        """The field's named type as its subgraph declares it (``@join__field(type:)``).

        A subgraph may declare a narrower type (``Book`` where the supergraph says ``Media``):
        fragments that cannot apply to it must not be sent there.
        """
        if entry is None or not entry.type_text:
            return supergraph_type
        own = entry.type_text.strip("[]!")
        return own if own in self.schema.type_map else supergraph_type

    def _field_type(self, type_name: str, field_name: str) -> tuple[str, int]:
        """Named return type of a field and how many list levels wrap it."""
        gql_type = self.schema.type_map[type_name]
        fields = getattr(gql_type, "fields", None)
        if not fields or field_name not in fields:
            raise PlanningError(f"{type_name}.{field_name} is not in the supergraph")
        output = fields[field_name].type
        depth = 0
        while isinstance(output, GraphQLNonNull | GraphQLList):
            if isinstance(output, GraphQLList):
                depth += 1
            output = output.of_type
        named: GraphQLNamedType = output
        return named.name, depth

    def _is_composite(self, type_name: str, field_name: str) -> bool:
        named = self.schema.type_map.get(self._field_type(type_name, field_name)[0])
        return isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)

    def _is_abstract(self, type_name: str) -> bool:
        return isinstance(
            self.schema.type_map.get(type_name), GraphQLInterfaceType | GraphQLUnionType
        )

    def _possible(self, type_name: str) -> frozenset[str]:
        if self._is_abstract(type_name):
            return self.sg.possible_types.get(type_name, frozenset())
        return frozenset({type_name})

    def _returned(self, graph: str, type_name: str) -> frozenset[str]:
        """The object types ``graph`` may return at a position of ``type_name``."""
        if self._is_abstract(type_name):
            return self.sg.runtime_types(type_name, graph)
        return frozenset({type_name})

    def _applies(self, condition: str | None, object_type: str) -> bool:
        return condition is None or object_type in self._possible(condition)

    def _in_schema_order(self, names: frozenset[str]) -> list[str]:
        order = {name: i for i, name in enumerate(self.schema.type_map)}
        return sorted(names, key=lambda n: order.get(n, 0))


def _flatten_root(selections: list[Selection], conditions: Conditions = ()) -> list[Field]:
    """Root fields in order; root fragments dissolve into their fields (carrying conditions)."""
    fields: list[Field] = []
    for selection in selections:
        if isinstance(selection, Field):
            if conditions:
                selection = replace(selection, conditions=_joined(conditions, selection.conditions))
            fields.append(selection)
        else:
            inner = _joined(conditions, selection.conditions)
            fields.extend(_flatten_root(selection.selections, inner))
    return fields


def _merge_repeated_root_fields(fields: list[Field]) -> list[Field]:
    """Mutation root fields that share a response key, merged into their first occurrence.

    GraphQL executes such fields once, where the key first appears, with their selections merged
    (CollectFields); planned apart they would run the mutation again after the fields between
    them. A repeat is folded in when the first occurrence runs whenever the repeat does (same
    conditions, or none), its own conditions kept on its selections; a conditional first
    occurrence whose position depends on the variables is left as it is.
    """
    merged: list[Field] = []
    first: dict[str, int] = {}
    for root_field in fields:
        index = first.get(root_field.response_key)
        if index is None or merged[index].conditions not in ((), root_field.conditions):
            first.setdefault(root_field.response_key, len(merged))
            merged.append(root_field)
            continue
        into = merged[index]
        extra: list[Selection] = list(root_field.selections)
        if extra and root_field.conditions != into.conditions:  # a leaf adds nothing to merge
            extra = [Fragment(None, root_field.conditions, extra)]
        merged[index] = replace(into, selections=[*into.selections, *extra])
    return merged


def _joined(outer: Conditions, inner: Conditions) -> Conditions:
    """Both sets of conditions, each once (a directive may not repeat on one selection)."""
    return outer + tuple(c for c in inner if c not in outer)


def _direct_fields(selections: list[Selection], abstract: str, sg: Supergraph) -> list[Field]:
    """Fields asked directly of an abstract position (not under a narrower type condition)."""
    found: list[Field] = []
    for selection in selections:
        if isinstance(selection, Field):
            found.append(selection)
        elif selection.type_condition in (None, abstract):
            found.extend(_direct_fields(selection.selections, abstract, sg))
    return found


def _for_type(selections: list[Selection], object_type: str, sg: Supergraph) -> list[Selection]:
    """The selections that apply to objects of ``object_type`` (fragments resolved)."""
    result: list[Selection] = []
    for selection in selections:
        if isinstance(selection, Field):
            result.append(selection)
            continue
        condition = selection.type_condition
        applies = (
            condition is None
            or condition == object_type
            or object_type in sg.possible_types.get(condition, frozenset())
        )
        if not applies:
            continue
        inner = _for_type(selection.selections, object_type, sg)
        if selection.conditions:
            result.append(Fragment(None, selection.conditions, inner))
        else:
            result.extend(inner)
    return result


def _aliases(selections: list[Selection]) -> tuple[set[str], set[str]]:
    """Response keys an internal field could collide with: the client's aliases and the keys of
    client fields with arguments (``weight(unit: KG)`` and a required ``weight`` cannot share one),
    then every client response key (a required ``weight(unit: LB)`` cannot take the key of the
    client's plain ``weight`` either).
    """
    taken: set[str] = set()
    keys: set[str] = set()
    for selection in selections:
        if isinstance(selection, Field):
            keys.add(selection.response_key)
            if selection.response_key != selection.name or selection.arguments:
                taken.add(selection.response_key)
        inner_taken, inner_keys = _aliases(selection.selections)
        taken |= inner_taken
        keys |= inner_keys
    return taken, keys


def _alias_internal(
    selections: list[Selection], client: tuple[set[str], set[str]]
) -> list[Selection]:
    taken, keys = client
    for selection in selections:
        if isinstance(selection, Field) and (
            selection.name in taken or (selection.arguments and selection.name in keys)
        ):
            selection.response_key = f"{selection.name}__jj"
        _alias_internal(selection.selections, client)
    return selections


def _without(selections: list[Selection], removed: set[int]) -> list[Selection]:
    """``selections`` less the given field objects (by identity), fragments kept around the rest."""
    kept: list[Selection] = []
    for selection in selections:
        if isinstance(selection, Field):
            if id(selection) not in removed:
                kept.append(selection)
            continue
        inner = _without(selection.selections, removed)
        if inner:
            kept.append(Fragment(selection.type_condition, selection.conditions, inner))
    return kept


def _merge_into(target: list[Selection], selections: list[Selection]) -> None:
    """Merge field-set selections into a representation rule, without duplicates."""
    for selection in selections:
        if isinstance(selection, Field):
            added = add_field(target, selection)
            _merge_into(added.selections, selection.selections)
        else:
            fragment = add_fragment(target, selection.type_condition, selection.conditions)
            _merge_into(fragment.selections, selection.selections)


def _size(selections: list[Selection]) -> int:
    return sum((1 if isinstance(s, Field) else 0) + _size(s.selections) for s in selections)
