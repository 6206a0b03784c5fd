"""Conflicting response names in one subgraph operation: aliased apart, put back on arrival.

Two fields may share a response key in the client's operation and still be invalid together in the
operation sent to one subgraph: ``... on Car { size } ... on Boat { size }`` where that subgraph
types ``Car.size`` as ``Int!`` and ``Boat.size`` as ``Int`` (the supergraph says ``Int`` for both).
The planner aliases every shape but the first (``size__jj1``) and records a ``KeyRename``; the
executor moves each value back to its response key before merging (``undo_aliases``) and puts the
response key back into the paths of the subgraph's errors (``restore_path``), so nothing after the
fetch sees the alias.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLScalarType, GraphQLUnionType

from gateway.planner.plan import KeyRename
from gateway.planner.selections import Field, Selection, add_typename
from gateway.supergraph.model import Supergraph

_Placed = tuple[Field, str, list[Selection]]  # a field, its parent type, the list that holds it


def alias_conflicts(
    selections: list[Selection], parent_type: str, graph: str, sg: Supergraph
) -> tuple[KeyRename, ...]:
    """Alias apart the fields of ``selections`` that ``graph`` could not merge; the renames."""
    renames: list[KeyRename] = []
    _walk(selections, parent_type, graph, sg, (), renames)
    return tuple(renames)


def _walk(
    selections: list[Selection],
    parent: str,
    graph: str,
    sg: Supergraph,
    path: tuple[str, ...],
    renames: list[KeyRename],
) -> None:
    placed: list[_Placed] = []
    _flatten(selections, parent, placed)
    by_key: dict[str, list[_Placed]] = {}
    for item in placed:
        if not item[0].name.startswith("__"):
            by_key.setdefault(item[0].response_key, []).append(item)
    for key, fields in by_key.items():
        if len(fields) > 1:
            _separate(key, fields, parent, graph, sg, path, renames)
    for fld, fld_parent, _ in placed:
        if fld.selections and not fld.name.startswith("__"):
            child = _named(sg, fld_parent, fld.name)
            if child is not None:
                _walk(fld.selections, child, graph, sg, (*path, fld.response_key), renames)


def _flatten(selections: list[Selection], parent: str, placed: list[_Placed]) -> None:
    for selection in selections:
        if isinstance(selection, Field):
            placed.append((selection, parent, selections))
        else:
            _flatten(selection.selections, selection.type_condition or parent, placed)


def _separate(
    key: str,
    fields: list[_Placed],
    parent: str,
    graph: str,
    sg: Supergraph,
    path: tuple[str, ...],
    renames: list[KeyRename],
) -> None:
    """Keep the first field's variant under ``key``; alias each conflicting variant."""
    variants: list[list[_Placed]] = [[fields[0]]]
    for item in fields[1:]:
        index = next(
            (
                i
                for i, members in enumerate(variants)
                if not any(_conflict(item, other, graph, sg) for other in members)
            ),
            None,
        )
        if index is None:
            variants.append([item])
            index = len(variants) - 1
        else:
            variants[index].append(item)
        if index == 0:
            continue
        fld, fld_parent, holder = item
        fld.response_key = f"{key}__jj{index}"
        typenames = None
        if fld_parent != parent:
            typenames = sg.possible_types.get(fld_parent, frozenset({fld_parent}))
            if not (parent in sg.schema.type_map and _abstract(sg, parent)):
                add_typename(holder)  # abstract positions ask __typename already
        renames.append(KeyRename(path, typenames, fld.response_key, key))


def _conflict(one: _Placed, other: _Placed, graph: str, sg: Supergraph) -> bool:
    """GraphQL's "fields can merge" rule, on the subgraph's own field types."""
    if _shape(sg, graph, one[1], one[0].name) != _shape(sg, graph, other[1], other[0].name):
        return True
    overlap = one[1] == other[1] or _abstract(sg, one[1]) or _abstract(sg, other[1])
    same = one[0].name == other[0].name and one[0].arguments_text == other[0].arguments_text
    return overlap and not same


def _shape(sg: Supergraph, graph: str, parent: str, name: str) -> str:
    """The field's type in ``graph`` with composite type names blanked (only wrappers matter)."""
    entry = sg.graphs_of_field(parent, name).get(graph)
    text = entry.type_text if entry is not None and entry.type_text else None
    if text is None:
        definition = getattr(sg.schema.type_map.get(parent), "fields", {}).get(name)
        text = str(definition.type) if definition is not None else ""
    named = text.strip("[]!")
    if isinstance(sg.schema.type_map.get(named), GraphQLScalarType | GraphQLEnumType):
        return text
    return text.replace(named, "*")


def _named(sg: Supergraph, parent: str, name: str) -> str | None:
    definition = getattr(sg.schema.type_map.get(parent), "fields", {}).get(name)
    if definition is None:
        return None
    return str(definition.type).strip("[]!")


def _abstract(sg: Supergraph, type_name: str) -> bool:
    found = sg.schema.type_map.get(type_name)
    return found is None or isinstance(found, GraphQLInterfaceType | GraphQLUnionType)


def undo_aliases(data: Any, renames: tuple[KeyRename, ...]) -> None:
    """Move aliased values back to their response keys, deepest paths first (in place)."""
    for rename in sorted(renames, key=lambda r: -len(r.path)):
        for obj in _objects_at(data, rename.path):
            if rename.alias not in obj:
                continue
            if rename.typenames is not None and obj.get("__typename") not in rename.typenames:
                continue
            value = obj.pop(rename.alias)
            existing = obj.get(rename.response_key)
            if isinstance(existing, dict) and isinstance(value, dict):
                existing.update(value)
            else:
                obj[rename.response_key] = value


def restore_path(
    path: tuple[str | int, ...], renames: tuple[KeyRename, ...]
) -> tuple[str | int, ...]:
    """A subgraph error's path (from the fetch's root, or from one entity) with every aliased-apart
    key put back to its response key: the client never sees ``size__jj1``."""
    if not renames:
        return path
    aliases = {(rename.path, rename.alias): rename.response_key for rename in renames}
    restored: list[str | int] = []
    sent: tuple[str, ...] = ()
    for element in path:
        if isinstance(element, str):
            restored.append(aliases.get((sent, element), element))
            sent = (*sent, element)
        else:
            restored.append(element)
    return tuple(restored)


def _objects_at(value: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [found for item in value for found in _objects_at(item, path)]
    if not isinstance(value, dict):
        return []
    if not path:
        return [value]
    return _objects_at(value.get(path[0]), path[1:])
