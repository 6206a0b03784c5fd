"""``@provides``: which external fields a subgraph returns at one position of one path.

A provided tree maps ``(type condition or None, field name)`` to the tree below that field. It only
holds along the path where the providing field was fetched, never beyond it.
"""

from __future__ import annotations

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.supergraph.model import Supergraph

Provided = dict[tuple[str | None, str], "Provided"]


def provided_from(selection_set: SelectionSetNode, inherited: Provided | None) -> Provided:
    """The tree a ``@provides`` field set describes, merged with what an outer provides gave."""
    tree: Provided = {}
    _add(tree, selection_set, None)
    if inherited:
        _merge(tree, inherited)
    return tree


def _add(tree: Provided, selection_set: SelectionSetNode, condition: str | None) -> None:
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            child = tree.setdefault((condition, node.name.value), {})
            if node.selection_set is not None:
                _add(child, node.selection_set, None)
        elif isinstance(node, InlineFragmentNode):
            inner = node.type_condition.name.value if node.type_condition else condition
            _add(tree, node.selection_set, inner)


def _merge(into: Provided, other: Provided) -> None:
    for key, subtree in other.items():
        _merge(into.setdefault(key, {}), subtree)


def _matching(
    provided: Provided, type_name: str, field_name: str, sg: Supergraph
) -> list[Provided]:
    found = []
    for (condition, name), subtree in provided.items():
        if name != field_name:
            continue
        if (
            condition is None
            or condition == type_name
            or type_name in sg.possible_types.get(condition, frozenset())
        ):
            found.append(subtree)
    return found


def provides_field(
    provided: Provided | None, type_name: str, field_name: str, sg: Supergraph
) -> bool:
    return bool(provided) and bool(_matching(provided or {}, type_name, field_name, sg))


def provided_child(
    provided: Provided | None, type_name: str, field_name: str, sg: Supergraph
) -> Provided | None:
    """What stays provided below ``field_name``, or None when nothing does."""
    if not provided:
        return None
    subtrees = _matching(provided, type_name, field_name, sg)
    if not subtrees:
        return None
    merged: Provided = {}
    for subtree in subtrees:
        _merge(merged, subtree)
    return merged
