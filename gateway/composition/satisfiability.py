"""Satisfiability: every field that a query can reach can also be resolved.

A walk over states (type, subgraph) from each subgraph's root fields. From a state the walk follows
the fields the subgraph resolves, an abstract type's implementations in the same subgraph, and
entity jumps to another subgraph (a resolvable ``@key`` there whose fields the current subgraph
can provide, or an ``@interfaceObject`` of one of the type's interfaces). In every reached state
each field of the supergraph type must be resolvable in the subgraph itself or in one it can
jump to.

This is a sufficient approximation of the Federation 2 satisfiability validation: it does not
follow ``@requires`` inputs or ``@provides`` paths individually.
"""

from __future__ import annotations

from collections import deque

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition, MergedField
from gateway.composition.subgraph import INTERFACE, OBJECT, UNION, SubgraphType, named_type

State = tuple[str, str]  # (type name, subgraph)


class _Walk:
    def __init__(self, c: Composition) -> None:
        self.c = c
        self.parent: dict[State, tuple[State, str] | None] = {}
        self.incoming: dict[State, list[tuple[State, str]]] = {}
        self.edges: dict[tuple[State, str], set[str]] = {}

    def resolvable_in(self, f: MergedField, graph: str) -> bool:
        sf = f.by_graph.get(graph)
        if sf is None:
            return False
        if sf.external and not sf.provided:
            return False
        overriders = [
            other for other in f.by_graph.values() if other.override == graph and other is not sf
        ]
        return not any(o.override_label is None for o in overriders)

    def key_providable(self, from_type: SubgraphType, to_type: SubgraphType) -> bool:
        for key in to_type.keys:
            if not key.resolvable:
                continue
            names = [n for n in key.fields.replace("{", " ").replace("}", " ").split()]
            top = _top_level(key.fields)
            if all(
                n in from_type.fields
                and (not from_type.fields[n].external or from_type.fields[n].used_as_key)
                for n in top
            ):
                del names
                return True
        return False

    def jumps(self, type_name: str, graph: str) -> set[str]:
        """Subgraphs reachable from (type, graph) by entity jumps (graph included)."""
        if type_name in ("Query", "Mutation"):  # every root field is reachable from the root
            return {g for g, sub in self.c.subgraphs.items() if type_name in sub.types}
        reached = {graph}
        todo = [graph]
        while todo:
            current = todo.pop()
            here = self.c.subgraphs[current].types.get(type_name)
            if here is None:
                continue
            for other_name, other in self.c.subgraphs.items():
                if other_name in reached:
                    continue
                there = other.types.get(type_name)
                if there is not None and self.key_providable(here, there):
                    reached.add(other_name)
                    todo.append(other_name)
        return reached

    def interface_object_graphs(self, type_name: str, graphs: set[str]) -> set[str]:
        """Subgraphs with an @interfaceObject of one of the type's interfaces, reachable by key."""
        result: set[str] = set()
        t = self.c.types.get(type_name)
        if t is None:
            return result
        for iface in t.interfaces:
            it = self.c.types.get(iface)
            if it is None or not it.has_interface_object:
                continue
            for g, st in it.by_graph.items():
                if not st.interface_object:
                    continue
                for source in graphs:
                    here = self.c.subgraphs[source].types.get(type_name)
                    if here is not None and self.key_providable(here, st):
                        result.add(g)
                        break
        return result

    def run(self) -> list[CompositionError]:
        found: list[CompositionError] = []
        queue: deque[State] = deque()
        for g, sub in self.c.subgraphs.items():
            if "Query" in sub.types:
                state = ("Query", g)
                self.parent[state] = None
                queue.append(state)
        reported: set[tuple[str, str]] = set()
        failures: list[tuple[State, MergedField]] = []
        while queue:
            state = queue.popleft()
            type_name, graph = state
            st = self.c.subgraphs[graph].types.get(type_name)
            merged = self.c.types.get(type_name)
            if st is None or merged is None:
                continue
            if st.kind in (INTERFACE, UNION) and not st.interface_object:
                for impl in self.c.subgraphs[graph].types.values():
                    if impl.kind == OBJECT and (
                        type_name in impl.interfaces or impl.name in st.members
                    ):
                        self._push(queue, (impl.name, graph), state, f"... on {impl.name}")
                continue
            graphs = self.jumps(type_name, graph)
            io_graphs = self.interface_object_graphs(type_name, graphs)
            for f in merged.fields.values():
                ok_graphs = [
                    g for g in sorted(graphs | io_graphs) if self._resolvable(type_name, f, g)
                ]
                if not ok_graphs:
                    if (type_name, f.name) in reported or type_name in ("Query", "Mutation"):
                        continue
                    failures.append((state, f))
                    continue
                if graph in ok_graphs:
                    target = named_type(f.type)
                    if target in self.c.types and self.c.types[target].kind in (
                        OBJECT,
                        INTERFACE,
                        UNION,
                    ):
                        self._push(queue, (target, graph), state, f.name)
                for g in ok_graphs:
                    if g == graph:
                        continue
                    target = named_type(f.type)
                    if target in self.c.types and self.c.types[target].kind in (
                        OBJECT,
                        INTERFACE,
                        UNION,
                    ):
                        self._push(queue, (target, g), state, f.name)
        for state, f in failures:
            if (state[0], f.name) in reported or self._excused(state, f):
                continue
            reported.add((state[0], f.name))
            found.append(self._error(state, f))
        return found

    def _excused(self, state: State, f: MergedField) -> bool:
        """Every way into ``state`` had a sibling subgraph that resolves ``f``."""
        type_name = state[0]
        incoming = self.incoming.get(state, [])
        if not incoming:
            return False
        for edge in incoming:
            siblings = self.edges.get(edge, set()) - {state[1]}
            if not any(
                self._resolvable(type_name, f, g)
                for s in siblings
                for g in self.jumps(type_name, s)
            ):
                return False
        return True

    def _resolvable(self, type_name: str, f: MergedField, graph: str) -> bool:
        if f.from_interface_object:
            for iface in self.c.types[type_name].interfaces:
                it = self.c.types.get(iface)
                if (
                    it is not None
                    and f.name in it.fields
                    and self.resolvable_in(it.fields[f.name], graph)
                ):
                    return True
            return False
        return self.resolvable_in(f, graph)

    def _push(self, queue: deque[State], state: State, parent: State, via: str) -> None:
        self.incoming.setdefault(state, []).append((parent, via))
        self.edges.setdefault((parent, via), set()).add(state[1])
        if state in self.parent:
            return
        self.parent[state] = (parent, via)
        queue.append(state)

    def _path(self, state: State) -> list[str]:
        steps: list[str] = []
        current: State | None = state
        while current is not None:
            link = self.parent.get(current)
            if link is None:
                break
            current, via = link
            steps.append(via)
        return list(reversed(steps))

    def _error(self, state: State, f: MergedField) -> CompositionError:
        type_name, graph = state
        steps = [*self._path(state), f.name]
        query = "{ " + " { ".join(steps) + " }" * len(steps)
        owners = [g for g in f.by_graph if not f.by_graph[g].external] or list(f.by_graph)
        where = ", ".join(f"[{g}]" for g in owners)
        return error(
            E.SATISFIABILITY_ERROR,
            f"cannot be resolved for the query {query}: [{graph}] returns {type_name} there, and "
            f"only {where} resolves {f.name}, but {type_name} has no resolvable @key in "
            f"{where} whose fields [{graph}] can provide. Add such a @key (or make the "
            f"field @shareable and resolve it in [{graph}]).",
            graph,
            type_name,
            f.name,
        )


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


def check_satisfiability(c: Composition) -> list[CompositionError]:
    return _Walk(c).run()
