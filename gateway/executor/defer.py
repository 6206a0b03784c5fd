"""A deferred fragment's ``incremental`` entries, from its own response (``deferSpec=20220824``).

Each active ``@defer`` fragment runs as its own operation (gateway/planner/defer.py
``deferred_documents``); its response is cut here as graphql-js 17.0.0-alpha.2 — the executor of
Hive Gateway 2.15.1, our oracle — delivers a fragment: one ``incremental`` entry (``data``,
``path``, ``label``, ``errors``) per object the fragment applies to (lists expanded, null objects
and objects outside its type condition skipped). An error of that response travels with its
entry only, so a failure there degrades that part only. The parts around the entries and their
order are gateway/executor/incremental.py's; the bytes gateway/http/multipart.py's. A fragment
planned as entity fetches on the primary's objects starts from a copy of them (``entity_seed``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    InlineFragmentNode,
    SelectionSetNode,
    value_from_ast,
)

from gateway.planner.builder import EntityAnchor
from gateway.planner.defer import DeferredFragment, DeferredOperation, defer_directive

Path = tuple[str | int, ...]


def active_fragments(
    operation: DeferredOperation, variables: Mapping[str, Any] | None
) -> frozenset[int]:
    """The indices of the fragments that defer with these variables (``if`` not false)."""
    splitter = _Splitter(operation, variables or {})
    return frozenset(
        i for i, fragment in enumerate(operation.deferred) if splitter.active_condition(fragment)
    )


def has_targets(operation: DeferredOperation, index: int, data: Any) -> bool:
    """Whether fragment ``index`` applies to any object of ``data`` (its parent's response):
    a fragment on null objects, or under an empty list, sends nothing."""
    return bool(objects_at(data, operation.deferred[index].path))


def incremental_entries(
    operation: DeferredOperation,
    index: int,
    response: dict[str, Any],
    variables: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """The ``incremental`` entries of fragment ``index`` from ``response``, its own operation's
    (gateway/planner/defer.py ``deferred_documents``): one per object the fragment applies to —
    ``data``, ``path``, ``label``, ``errors`` (those whose path lies in that object's fragment
    fields; errors outside every object, e.g. a failure on the path to them, go with the first
    entry, or an entry of their own with ``data: null`` when there is none)."""
    fragment = operation.deferred[index]
    splitter = _Splitter(operation, variables or {})
    keys = splitter.keys(fragment.selections)
    entries: list[dict[str, Any]] = []
    for path, target in objects_at(response.get("data"), fragment.path):
        projected = splitter.project(target, [fragment.selections])
        if projected:
            entry: dict[str, Any] = {"data": projected, "path": list(path)}
            if fragment.label is not None:
                entry["label"] = fragment.label
            entries.append(entry)
    stray: list[dict[str, Any]] = []
    for error in response.get("errors") or ():
        owner = _owner(error, entries, keys)
        if owner is None:
            stray.append(error)
        else:
            owner.setdefault("errors", []).append(error)
    if stray:
        if not entries:
            entries.append({"data": None, "path": list(fragment.path)})
            if fragment.label is not None:
                entries[0]["label"] = fragment.label
        entries[0]["errors"] = [*stray, *entries[0].get("errors", ())]
    return entries


def split_whole(
    response: dict[str, Any],
    operation: DeferredOperation,
    active: frozenset[int],
    variables: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """The parts of an operation that must run once, whole (a mutation): its response cut into
    the primary part and one part per active fragment with entries (document order, so a parent
    before the fragments nested in it), as ``DeferredParts`` sends them; an error goes with the
    deepest entry holding its field, else with the primary part."""
    data = response.get("data")
    if not isinstance(data, dict):
        return [response]
    splitter = _Splitter(operation, variables or {})
    cut = {
        i: entries
        for i in sorted(active)
        if (entries := incremental_entries(operation, i, {"data": data}, variables))
    }
    if not cut:
        return [response]
    primary: dict[str, Any] = {}
    primary_errors: list[dict[str, Any]] = []
    for error in response.get("errors") or ():
        owners = [
            entry
            for i, entries in cut.items()
            if (entry := _owner(error, entries, splitter.keys(operation.deferred[i].selections)))
        ]
        if owners:
            max(owners, key=lambda e: len(e["path"])).setdefault("errors", []).append(error)
        else:
            primary_errors.append(error)
    if primary_errors:
        primary["errors"] = primary_errors
    primary["data"] = splitter.project(data, [operation.operation.selection_set])
    primary["hasNext"] = True
    last = max(cut)
    return [primary, *({"incremental": e, "hasNext": i != last} for i, e in cut.items())]


def objects_at(value: Any, keys: Sequence[str], path: Path = ()) -> list[tuple[Path, Any]]:
    """The objects reached from ``value`` by ``keys`` (lists expanded), with their paths."""
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in objects_at(item, keys, (*path, i))]
    if not isinstance(value, dict):
        return []
    if not keys:
        return [(path, value)]
    return objects_at(value.get(keys[0]), keys[1:], (*path, keys[0]))


def _owner(
    error: dict[str, Any], entries: list[dict[str, Any]], keys: frozenset[str]
) -> dict[str, Any] | None:
    """The entry an error belongs to: the one whose object holds the field of its path."""
    path = error.get("path")
    if not isinstance(path, list):
        return None
    for entry in entries:
        prefix = entry["path"]
        if len(path) > len(prefix) and path[: len(prefix)] == prefix and path[len(prefix)] in keys:
            return entry
    return None


class _Splitter:
    """Projects response values onto selection sets, leaving out active deferred fragments."""

    def __init__(self, operation: DeferredOperation, variables: Mapping[str, Any]) -> None:
        self._fragments = operation.fragments
        self._variables = dict(variables)

    def active_condition(self, fragment: DeferredFragment) -> bool:
        return self._active(fragment.condition)

    def _active(self, condition: Any) -> bool:
        if condition is None:
            return True
        value = value_from_ast(condition, GraphQLBoolean, self._variables)
        return value is not False  # an unset variable keeps the default, ``if: true``

    def _deferred(self, node: InlineFragmentNode | FragmentSpreadNode) -> bool:
        directive = defer_directive(node)
        if directive is None:
            return False
        condition = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        return self._active(condition)

    def _collect(
        self, selection_sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[SelectionSetNode]]:
        """Response key -> the sub-selection sets of its fields (document order), active
        deferred fragments left out."""
        fields: dict[str, list[SelectionSetNode]] = {}

        def visit(selection_set: SelectionSetNode, seen: frozenset[str]) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    subsets = fields.setdefault(key, [])
                    if selection.selection_set is not None:
                        subsets.append(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    if not self._deferred(selection):
                        visit(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    definition = self._fragments.get(name)
                    if (
                        definition is not None
                        and name not in seen
                        and not self._deferred(selection)
                    ):
                        visit(definition.selection_set, seen | {name})

        for selection_set in selection_sets:
            visit(selection_set, frozenset())
        return fields

    def keys(self, selection_set: SelectionSetNode) -> frozenset[str]:
        return frozenset(self._collect([selection_set]))

    def project(self, value: Any, selection_sets: Sequence[SelectionSetNode]) -> Any:
        if isinstance(value, list):
            return [self.project(item, selection_sets) for item in value]
        if not isinstance(value, dict) or not selection_sets:
            return value
        fields = self._collect(selection_sets)
        return {
            key: self.project(value[key], subsets)
            for key, subsets in fields.items()
            if key in value
        }


def entity_seed(primary_data: Any, anchor: EntityAnchor) -> dict[str, Any]:
    """What a fragment planned as entity fetches starts from: the primary part's raw objects at
    ``anchor.path`` (its ``__typename`` and key fields, the way there with the ``__typename``s
    type conditions read), copied so its fetches never change the primary's response."""
    keep = {"__typename"} | {
        s.name.value for s in anchor.key.selections if isinstance(s, FieldNode)
    }

    def project(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, list):
            return [project(item, path) for item in value]
        if not isinstance(value, dict):
            return value
        if not path:  # the position's type is an object type: every object there is one
            return {
                "__typename": anchor.type_name,
                **{k: copy.deepcopy(v) for k, v in value.items() if k in keep},
            }
        out = {"__typename": value["__typename"]} if "__typename" in value else {}
        if path[0] in value:
            out[path[0]] = project(value[path[0]], path[1:])
        return out

    seed = project(primary_data, anchor.path)
    return seed if isinstance(seed, dict) else {}
