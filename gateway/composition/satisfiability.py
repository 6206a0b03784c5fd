"""Satisfiability: every field that a query can reach can also be resolved.

A walk over states (type, the subgraphs the object may come from at that point of a query),
starting at Query in every subgraph. From a state the walk follows each field to the subgraphs
that can resolve it (the state's subgraphs and those they reach by entity jumps: a resolvable
``@key`` there whose fields the subgraphs reached so far can provide between them, so a key may
be gathered over two hops; or an ``@interfaceObject`` of one of the type's interfaces), and an
abstract type to its implementations. A field that none of the
reachable subgraphs resolves is unsatisfiable for that query path. Because a state keeps every
subgraph some choice of plan leads to, a field is refused only when no plan can resolve it.

A state also carries what ``@provides`` directives above it provide (per subgraph, the part of
the field set at this level): an ``@external`` field is resolvable in its subgraph only there.

Not modelled: the inputs of ``@requires`` are not followed one by one.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from graphql import FieldNode, GraphQLSyntaxError, InlineFragmentNode, SelectionSetNode, print_ast

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.fieldset import parse_field_set
from gateway.composition.model import Composition, MergedField
from gateway.composition.subgraph import (
    INTERFACE,
    OBJECT,
    UNION,
    Key,
    SubgraphType,
    is_fake_external,
    named_type,
)

#: (subgraph, a field set over the state's type): what a ``@provides`` above provides there
Provisions = frozenset[tuple[str, str]]
#: (type name, the subgraphs the object may come from at this point of some query, provisions)
SetState = tuple[str, frozenset[str], Provisions]


class _Walk:
    def __init__(self, composition: Composition) -> None:
        self.composition = composition
        self.parent: dict[SetState, tuple[SetState, str] | None] = {}
        self.queue: deque[SetState] = deque()
        self.found: list[CompositionError] = []
        self.reported: set[tuple[str, str]] = set()

    def resolvable_in(self, merged_field: MergedField, graph: str, provided: set[str]) -> bool:
        """``graph`` resolves the field here; ``provided``: the field names a ``@provides`` above
        makes resolvable in ``graph`` at this position."""
        sf = merged_field.by_graph.get(graph)
        if sf is None:
            return False
        if sf.external and not is_fake_external(sf) and merged_field.name not in provided:
            return False
        overriders = [
            other
            for other in merged_field.by_graph.values()
            if other.override == graph and other is not sf
        ]
        return not any(o.override_label is None for o in overriders)

    def declarations(self, graph: str, type_name: str) -> list[SubgraphType]:
        """How ``graph`` knows ``type_name``: the type itself, or an ``@interfaceObject`` of one
        of its interfaces (which stands for every implementation there)."""
        types = self.composition.subgraphs[graph].types
        found = [types[type_name]] if type_name in types else []
        merged = self.composition.types.get(type_name)
        for interface in merged.interfaces if merged is not None else ():
            declared = types.get(interface)
            if declared is not None and declared.interface_object:
                found.append(declared)
        return found

    def can_hand_over(self, graph: str, type_name: str, field_name: str) -> bool:
        """``graph`` resolves ``type_name.field_name``, so it can pass it on as a key field."""
        for declared in self.declarations(graph, type_name):
            field = declared.fields.get(field_name)
            if field is not None and (not field.external or field.used_as_key):
                return True
        return False

    def key_gathered(self, graphs: set[str], type_name: str, key: Key) -> bool:
        """Each top-level field of ``key`` comes from one of ``graphs`` (not necessarily the
        same one: a key may be gathered over several hops)."""
        if not key.resolvable:
            return False
        return all(
            any(self.can_hand_over(g, type_name, name) for g in graphs)
            for name in _top_level(key.fields)
        )

    def jumps(self, type_name: str, graph: str) -> set[str]:
        """Subgraphs reachable from (type, graph) by entity jumps (graph included), to the type
        itself or to an ``@interfaceObject`` of one of its interfaces.

        Grows to a fixed point: a subgraph joins when the fields of one of its keys can be
        gathered from the subgraphs already reached.
        """
        if type_name in ("Query", "Mutation"):  # every root field is reachable from the root
            return {g for g, sub in self.composition.subgraphs.items() if type_name in sub.types}
        reached = {graph}
        grew = True
        while grew:
            grew = False
            for other in self.composition.subgraphs:
                if other in reached:
                    continue
                keys = [
                    key for declared in self.declarations(other, type_name) for key in declared.keys
                ]
                if any(self.key_gathered(reached, type_name, key) for key in keys):
                    reached.add(other)
                    grew = True
        return reached

    def run(self) -> list[CompositionError]:
        roots = frozenset(
            g for g, sub in self.composition.subgraphs.items() if "Query" in sub.types
        )
        if roots:
            start: SetState = ("Query", roots, frozenset())
            self.parent[start] = None
            self.queue.append(start)
        while self.queue:
            state = self.queue.popleft()
            if state[0] in self.composition.types:
                self.visit(state)
        return self.found

    def visit(self, state: SetState) -> None:
        """Follow the down-casts of an abstract type, then the fields of the object."""
        type_name, located, _ = state
        abstract = [g for g in located if self.declares_abstract(g, type_name)]
        as_interface_object = self.interface_object_only(state)
        if abstract or as_interface_object:
            self.push_implementations(state, sorted({*abstract, *as_interface_object}))
            if len(abstract) == len(located):
                return
        self.push_fields(state)

    def declares_abstract(self, graph: str, type_name: str) -> bool:
        declared = self.composition.subgraphs[graph].types.get(type_name)
        return (
            declared is not None
            and declared.kind in (INTERFACE, UNION)
            and not declared.interface_object
        )

    def interface_object_only(self, state: SetState) -> set[str]:
        """Where the state's subgraphs know an interface only as an ``@interfaceObject``, the
        subgraphs defining the interface itself that a resolvable key reaches (they tell the
        implementation); reports the state when none is reachable."""
        type_name, located, _ = state
        merged = self.composition.types[type_name]
        io_graphs = [
            g
            for g in located
            if (declared := self.composition.subgraphs[g].types.get(type_name)) is not None
            and declared.interface_object
        ]
        if merged.kind != INTERFACE or not io_graphs:
            return set()
        reached: set[str] = set()
        for graph in io_graphs:
            reached |= self.jumps(type_name, graph)
        defining = {g for g in reached if self.declares_abstract(g, type_name)}
        if not defining and ("interfaceObject", type_name) not in self.reported:
            self.reported.add(("interfaceObject", type_name))
            self.found.append(self._interface_object_error(state, io_graphs))
        return defining

    def push_implementations(self, state: SetState, abstract_in: list[str]) -> None:
        type_name = state[0]
        by_impl: dict[str, set[str]] = {}
        for g in abstract_in:
            st = self.composition.subgraphs[g].types[type_name]
            for impl in self.composition.subgraphs[g].types.values():
                if impl.kind == OBJECT and (
                    type_name in impl.interfaces or impl.name in st.members
                ):
                    by_impl.setdefault(impl.name, set()).add(g)
        for impl_name, graphs_of_impl in sorted(by_impl.items()):
            child = (impl_name, frozenset(graphs_of_impl), state[2])
            self._push(child, state, f"... on {impl_name}")

    def push_fields(self, state: SetState) -> None:
        type_name, located, provisions = state
        graphs: set[str] = set()
        for g in located:
            graphs |= self.jumps(type_name, g)
        provided = {g: self.provided_names(provisions, g, type_name) for g in graphs}
        for f in self.composition.types[type_name].fields.values():
            ok_graphs = frozenset(
                g for g in graphs if self._resolvable(type_name, f, g, provided[g])
            )
            if not ok_graphs:
                if (type_name, f.name) not in self.reported:
                    self.reported.add((type_name, f.name))
                    self.found.append(self._error(state, f))
                continue
            target = self.composition.types.get(named_type(f.type))
            if target is not None and target.kind in (OBJECT, INTERFACE, UNION):
                below = self.provisions_below(provisions, type_name, f, ok_graphs)
                self._push((target.name, ok_graphs, below), state, f.name)

    def provided_names(self, provisions: Provisions, graph: str, type_name: str) -> set[str]:
        return {
            selection.name.value
            for g, text in provisions
            if g == graph
            for selection in self.fields_for(text, type_name)
        }

    def fields_for(self, text: str, type_name: str) -> list[FieldNode]:
        """The fields a provided field set selects on ``type_name`` (fragments on the type or on
        one of its interfaces included)."""
        merged = self.composition.types.get(type_name)
        applies = {type_name, *(merged.interfaces if merged is not None else ())}
        found: list[FieldNode] = []
        todo = [_parsed(text)]
        while todo:
            for selection in todo.pop().selections:
                if isinstance(selection, FieldNode):
                    found.append(selection)
                elif isinstance(selection, InlineFragmentNode) and (
                    selection.type_condition is None
                    or selection.type_condition.name.value in applies
                ):
                    todo.append(selection.selection_set)
        return found

    def provisions_below(
        self,
        provisions: Provisions,
        type_name: str,
        merged_field: MergedField,
        graphs: frozenset[str],
    ) -> Provisions:
        """What is provided under ``merged_field``: the rest of the field sets above, and the
        field's own ``@provides`` in the graphs that resolve it."""
        below: set[tuple[str, str]] = set()
        for graph, text in provisions:
            for selection in self.fields_for(text, type_name):
                if selection.name.value == merged_field.name and selection.selection_set:
                    below.add((graph, print_ast(selection.selection_set)[1:-1]))
        for graph in graphs:
            declared = merged_field.by_graph.get(graph)
            if declared is not None and declared.provides:
                below.add((graph, declared.provides))
        return frozenset(below)

    def _resolvable(
        self, type_name: str, merged_field: MergedField, graph: str, provided: set[str]
    ) -> bool:
        if merged_field.from_interface_object:
            for iface in self.composition.types[type_name].interfaces:
                it = self.composition.types.get(iface)
                if (
                    it is not None
                    and merged_field.name in it.fields
                    and self.resolvable_in(it.fields[merged_field.name], graph, provided)
                ):
                    return True
            return False
        return self.resolvable_in(merged_field, graph, provided)

    def _push(self, state: SetState, parent: SetState, via: str) -> None:
        if state in self.parent:
            return
        self.parent[state] = (parent, via)
        self.queue.append(state)

    def _path(self, state: SetState) -> list[str]:
        steps: list[str] = []
        current: SetState | None = state
        while current is not None:
            link = self.parent.get(current)
            if link is None:
                break
            current, via = link
            steps.append(via)
        return list(reversed(steps))

    def _error(self, state: SetState, merged_field: MergedField) -> CompositionError:
        type_name, located, _ = state
        steps = [*self._path(state), merged_field.name]
        query = "{ " + " { ".join(steps) + " }" * len(steps)
        owners = [
            g for g in merged_field.by_graph if not merged_field.by_graph[g].external
        ] or list(merged_field.by_graph)
        where = ", ".join(f"[{g}]" for g in sorted(owners))
        here = ", ".join(f"[{g}]" for g in sorted(located))
        return error(
            E.SATISFIABILITY_ERROR,
            f"the query {query} cannot be answered: {here} returns {type_name} there, but only "
            f"{where} resolves {merged_field.name}, and {type_name} has no resolvable @key in "
            f"{where} whose fields {here} can provide. Add such a @key to {type_name} in "
            f"{where}, or resolve {merged_field.name} in {here} too (@shareable).",
            sorted(located)[0],
            type_name,
            merged_field.name,
        )

    def _interface_object_error(self, state: SetState, io_graphs: list[str]) -> CompositionError:
        type_name = state[0]
        implementations = sorted(
            name
            for name, merged in self.composition.types.items()
            if merged.kind == OBJECT and type_name in merged.interfaces
        )
        steps = [*self._path(state), f"... on {implementations[0]}" if implementations else ""]
        steps = [step for step in steps if step]
        query = "{ " + " { ".join(steps) + " }" * len(steps)
        here = ", ".join(f"[{g}]" for g in sorted(io_graphs))
        return error(
            E.SATISFIABILITY_ERROR,
            f"the query {query} cannot be answered for the implementations of {type_name}: "
            f"{here} knows {type_name} only as an @interfaceObject, and no subgraph defining the "
            f"interface {type_name} can be reached through a resolvable @key to tell which "
            f"implementation each object is. Make the interface's @key resolvable there.",
            sorted(io_graphs)[0],
            type_name,
        )


@lru_cache(maxsize=256)
def _parsed(text: str) -> SelectionSetNode:
    try:
        return parse_field_set(text)
    except GraphQLSyntaxError:  # reported by the @provides checks
        return SelectionSetNode(selections=())


def _top_level(field_set: str) -> list[str]:
    names: list[str] = []
    depth = 0
    for token in field_set.replace("{", " { ").replace("}", " } ").split():
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(token)
    return names


def check_satisfiability(composition: Composition) -> list[CompositionError]:
    return _Walk(composition).run()
