"""A complete response split into the parts of incremental delivery (``deferSpec=20220824``).

The operation runs once, whole; its response (already masked and audited) is then cut as
graphql-js 17.0.0-alpha.2 — the executor of Hive Gateway 2.15.1, our oracle — delivers it: the
primary part holds the fields no active ``@defer`` fragment selects, with ``hasNext: true``; then
one part per nesting level of deferred fragments holds one ``incremental`` entry (``data``,
``path``, ``label``, ``errors``) per fragment and object it applies to; the last has
``hasNext: false``. An error whose path lies in a
deferred fragment travels with that entry only, so a failure there degrades that part only.

Known simplification: fragments' type conditions are not checked against the objects (a field is
cut where its response key is present), and nothing reaches the client before the whole
operation has run (see docs/defer.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    InlineFragmentNode,
    SelectionSetNode,
    value_from_ast,
)

from gateway.planner.defer import DeferredFragment, DeferredOperation, defer_directive

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Instance:
    """A deferred fragment at one concrete object of the response."""

    fragment: DeferredFragment
    path: Path
    data: dict[str, Any]
    keys: frozenset[str]


def split_response(
    response: dict[str, Any], operation: DeferredOperation, variables: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The parts to send for ``response``: itself alone when nothing is deferred."""
    data = response.get("data")
    if not isinstance(data, dict):
        return [response]
    splitter = _Splitter(operation, variables or {})
    active = [f for f in operation.deferred if splitter.active_condition(f)]
    if not active:
        return [response]
    instances = [
        _Instance(fragment, path, projected, splitter.keys(fragment.selections))
        for fragment in active
        for path, target in _objects_at(data, fragment.path)
        if (projected := splitter.project(target, [fragment.selections]))
    ]
    if not instances:
        return [response]
    primary_errors: list[dict[str, Any]] = []
    deferred_errors: dict[int, list[dict[str, Any]]] = {}
    for error in response.get("errors") or ():
        owner = _owner(error, instances)
        if owner is None:
            primary_errors.append(error)
        else:
            deferred_errors.setdefault(owner, []).append(error)
    primary: dict[str, Any] = {}
    if primary_errors:
        primary["errors"] = primary_errors
    primary["data"] = splitter.project(data, [operation.operation.selection_set])
    if "extensions" in response:
        primary["extensions"] = response["extensions"]
    primary["hasNext"] = True
    by_depth: dict[int, list[dict[str, Any]]] = {}
    for index, instance in enumerate(instances):
        entry: dict[str, Any] = {"data": instance.data, "path": list(instance.path)}
        if instance.fragment.label is not None:
            entry["label"] = instance.fragment.label
        if index in deferred_errors:
            entry["errors"] = deferred_errors[index]
        by_depth.setdefault(instance.fragment.depth, []).append(entry)
    depths = sorted(by_depth)
    return [
        primary,
        *({"incremental": by_depth[d], "hasNext": d != depths[-1]} for d in depths),
    ]


def _objects_at(value: Any, keys: Sequence[str], path: Path = ()) -> list[tuple[Path, Any]]:
    """The objects reached from ``value`` by ``keys`` (lists expanded), with their paths."""
    if isinstance(value, list):
        return [hit for i, item in enumerate(value) for hit in _objects_at(item, keys, (*path, i))]
    if not isinstance(value, dict):
        return []
    if not keys:
        return [(path, value)]
    return _objects_at(value.get(keys[0]), keys[1:], (*path, keys[0]))


def _owner(error: dict[str, Any], instances: list[_Instance]) -> int | None:
    """The deferred entry an error belongs to: the deepest whose fields contain its path."""
    path = error.get("path")
    if not isinstance(path, list):
        return None
    best: int | None = None
    for index, instance in enumerate(instances):
        prefix = instance.path
        if (
            len(path) > len(prefix)
            and tuple(path[: len(prefix)]) == prefix
            and path[len(prefix)] in instance.keys
            and (best is None or len(prefix) >= len(instances[best].path))
        ):
            best = index
    return best


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
