"""Query plans: plain frozen data, printed canonically so tests can compare them as text.

A plan is a tree of nodes the executor walks (one ``match`` over node kinds):

- ``FetchNode``: one subgraph request. A root fetch (``requires is None``) runs the operation at the
  root of the response (a subscription's: the subscription, each of whose events is the root of
  the rest of the plan, gateway/subscriptions/); an entity fetch (always inside a
  ``FlattenNode``) sends the objects found at the flatten path as ``_entities`` representations
  built from ``requires``.
- ``FlattenNode(path, node)``: applies ``node`` at ``path`` (response keys, ``@`` for list items).
- ``SequenceNode``: children run one after another (later ones depend on earlier results).
- ``ParallelNode``: children are independent and run concurrently.
- ``ConditionNode``: runs ``if_clause`` when the boolean variable is true, else ``else_clause``.
- ``MergedFetchNode``: several fetches to one subgraph that may run at the same time, sent as one
  request (``merge.py`` builds them from a finished plan); each part keeps its own fetch and path.

The printed form follows the shape the reference routers print (``QueryPlan { Sequence { ... } }``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: A response path element: a response key, or ``"@"`` for "every item of this list".
PathElement = str
LIST_MARKER: PathElement = "@"


@dataclass(frozen=True, slots=True)
class RequiredField:
    """A field copied from a response object into an entity representation.

    ``response_key`` is where the value sits in the merged response data (an alias when the planner
    had to alias it); ``name`` is the key in the representation (the subgraph field name).
    """

    name: str
    response_key: str
    selections: tuple[RequiredSelection, ...] = ()


@dataclass(frozen=True, slots=True)
class RequiredFragment:
    """Fields to copy when the object's ``__typename`` is ``type_condition`` (or implements it)."""

    type_condition: str
    selections: tuple[RequiredSelection, ...]


RequiredSelection = RequiredField | RequiredFragment


@dataclass(frozen=True, slots=True)
class RepresentationRule:
    """How to build a representation for objects of ``type_condition`` (object type or interface).

    ``typename`` overrides the ``__typename`` sent to the subgraph: an ``@interfaceObject`` subgraph
    knows the interface, not the concrete type, so it must receive the interface's name.
    ``key`` names the response keys of the jump's ``@key`` fields: an object with a null one has
    no identity to look up, so it gets no representation (as in Hive Gateway), unlike a null
    ``@requires`` value, which is sent.
    """

    type_condition: str
    selections: tuple[RequiredSelection, ...]
    typename: str | None = None
    key: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyRename:
    """A response key the planner aliased apart in a subgraph operation (``aliasing.py``).

    Move ``alias`` back to ``response_key`` on the objects at ``path`` (response keys as sent,
    from the fetch's root or from each entity), only those of ``typenames`` when it is set.
    """

    path: tuple[str, ...]
    typenames: frozenset[str] | None
    alias: str
    response_key: str


@dataclass(frozen=True, slots=True)
class ContextInput:
    """A ``@fromContext`` argument value an entity fetch passes as ``$variable``.

    For each object at the fetch's flatten path, the value is read at ``value_path`` (response
    keys) on its ancestor at ``ancestor_path`` (a prefix of the flatten path: the nearest object
    whose type sets the context); with ``by_type`` (a selection with type conditions), at the
    path paired with the ancestor's ``__typename`` instead. Objects with different values are
    sent in separate requests.
    """

    variable: str
    type_text: str
    ancestor_path: tuple[PathElement, ...]
    value_path: tuple[str, ...]
    by_type: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def value_of(self, ancestor: Any) -> Any:
        """The value on ``ancestor`` (None where the path or the type's fragment is missing)."""
        path: tuple[str, ...] | None = self.value_path
        if self.by_type:
            typename = ancestor.get("__typename") if isinstance(ancestor, dict) else None
            path = next((p for t, p in self.by_type if t == typename), None)
        if path is None:
            return None
        value: Any = ancestor
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        return value


@dataclass(frozen=True, slots=True)
class FetchNode:
    """One request to one subgraph.

    ``operation`` is the exact document sent; it declares the client variables it uses
    (``variable_usages``), plus ``$representations`` for entity fetches. A subscription's plan
    has one root fetch of kind ``subscription`` (the subgraph owning the field), then entity
    fetches run per event as for a query.
    """

    service: str
    operation: str
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
    variable_usages: tuple[str, ...] = ()
    requires: tuple[RepresentationRule, ...] | None = None
    operation_name: str | None = None
    renames: tuple[KeyRename, ...] = ()
    context_inputs: tuple[ContextInput, ...] = ()

    @property
    def is_entity_fetch(self) -> bool:
        return self.requires is not None


@dataclass(frozen=True, slots=True)
class FlattenNode:
    """Run ``node`` (an entity fetch) on every object found at ``path`` in the response so far."""

    path: tuple[PathElement, ...]
    node: FetchNode


@dataclass(frozen=True, slots=True)
class SequenceNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ParallelNode:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ConditionNode:
    """Branch on a boolean variable, as produced by variable-driven ``@skip``/``@include``."""

    condition: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None


@dataclass(frozen=True, slots=True)
class MergedFetchPart:
    """One fetch inside a merged request, as the planner made it, and where its answer goes.

    ``path`` is the flatten path of an entity fetch (``()`` for a root fetch). In the merged
    document an entity part's ``_entities`` field is aliased ``alias`` and takes its
    representations from ``$variable``; a root part keeps its own top-level response ``keys``.
    """

    path: tuple[PathElement, ...]
    fetch: FetchNode
    alias: str | None = None
    variable: str | None = None
    keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MergedFetchNode:
    """Fetches to one subgraph, independent of each other, sent as one request (``operation``)."""

    service: str
    operation: str
    parts: tuple[MergedFetchPart, ...]
    variable_usages: tuple[str, ...] = ()
    operation_name: str | None = None
    operation_kind: Literal["query"] = "query"


PlanNode = FetchNode | FlattenNode | SequenceNode | ParallelNode | ConditionNode | MergedFetchNode


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The plan of one operation; ``node`` is None when no subgraph is needed (``__typename``)."""

    node: PlanNode | None


@dataclass(frozen=True, slots=True)
class DeferredPlan:
    """One deferred fragment's own plan (gateway/planner/defer.py ``deferred_documents``):
    ``path`` the response keys to the objects it applies to, ``subselection`` its selections as
    written, ``depends`` what it waits on (``Primary``: entity fetches on the primary part's
    objects; none: it runs from the root, at the same time as the primary)."""

    path: tuple[str, ...]
    label: str | None
    subselection: str
    plan: QueryPlan
    depends: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeferPlan:
    """An operation with active ``@defer`` fragments: the primary part's plan and each deferred
    fragment's (document order). For display (printed as Apollo's ``Defer { Primary { ... },
    [Deferred(...) { ... }] }``); the engine runs each plan as its own operation."""

    subselection: str
    primary: QueryPlan
    deferred: tuple[DeferredPlan, ...]
