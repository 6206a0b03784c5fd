"""Entity representations: the objects at a flatten path, each described for ``_entities``.

Federation spec, ``_entities(representations: [_Any!]!)``: a representation is the object's
``__typename`` plus its key fields and the fields the subgraph ``@requires``. The plan says which
(``RepresentationRule``); equal representations are sent once and their result merged into every
object that produced them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.planner.plan import (
    LIST_MARKER,
    PathElement,
    RepresentationRule,
    RequiredField,
    RequiredSelection,
)

#: A client response path: response keys and list indices.
ResponsePath = tuple[str | int, ...]


class _Missing:
    """Marks a representation that cannot be built (a required field is absent)."""


_MISSING = _Missing()


def objects_at(data: Any, path: tuple[PathElement, ...]) -> list[dict[str, Any]]:
    """The objects at ``path`` (``@`` = every list item); null and missing are skipped."""
    found: list[dict[str, Any]] = []
    _collect(data, path, 0, found)
    return found


def _collect(
    value: Any, path: tuple[PathElement, ...], depth: int, found: list[dict[str, Any]]
) -> None:
    if value is None:
        return
    if isinstance(value, list):
        # "@" steps into a list; a list met where a key is expected (a nested list field) is also
        # walked item by item, so plans need not spell every list level.
        next_depth = depth + 1 if depth < len(path) and path[depth] == LIST_MARKER else depth
        for item in value:
            _collect(item, path, next_depth, found)
        return
    if not isinstance(value, dict):
        return
    if depth == len(path):
        found.append(value)
        return
    element = path[depth]
    if element == LIST_MARKER:  # "@" on an object: tolerate, as the item itself
        _collect(value, path, depth + 1, found)
        return
    if element in value:
        _collect(value[element], path, depth + 1, found)


def paths_of_objects_at(data: Any, path: tuple[PathElement, ...]) -> list[ResponsePath]:
    """The response paths of ``objects_at(data, path)``, in the same order (for errors)."""
    return list(_paths(data, path, 0, ()))


def _paths(
    value: Any, path: tuple[PathElement, ...], depth: int, here: ResponsePath
) -> Iterator[ResponsePath]:
    if value is None:
        return
    if isinstance(value, list):
        next_depth = depth + 1 if depth < len(path) and path[depth] == LIST_MARKER else depth
        for index, item in enumerate(value):
            yield from _paths(item, path, next_depth, (*here, index))
        return
    if not isinstance(value, dict):
        return
    if depth == len(path):
        yield here
        return
    element = path[depth]
    if element == LIST_MARKER:
        yield from _paths(value, path, depth + 1, here)
    elif element in value:
        yield from _paths(value[element], path, depth + 1, (*here, element))


@dataclass(slots=True)
class Representations:
    """Distinct representations in first-seen order; ``owners[i]`` = indices of the objects of i."""

    items: list[dict[str, Any]] = field(default_factory=list)
    owners: list[list[int]] = field(default_factory=list)


class RepresentationBuilder:
    """Builds representations with the supergraph's possible types (fixed per supergraph)."""

    def __init__(self, possible_types: Mapping[str, frozenset[str]]) -> None:
        self._possible_types = possible_types

    def applies(self, type_condition: str, typename: str) -> bool:
        """Whether ``typename`` matches ``type_condition`` (itself, or an abstract type of it)."""
        if type_condition == typename:
            return True
        possible = self._possible_types.get(type_condition)
        return possible is not None and typename in possible

    def build(
        self, objects: list[dict[str, Any]], rules: tuple[RepresentationRule, ...]
    ) -> Representations:
        """One representation per object that matches a rule and is complete; deduped."""
        result = Representations()
        seen: dict[bytes, int] = {}
        for index, obj in enumerate(objects):
            representation = self.represent(obj, rules)
            if representation is None:
                continue
            canonical = orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)
            position = seen.get(canonical)
            if position is None:
                seen[canonical] = len(result.items)
                result.items.append(representation)
                result.owners.append([index])
            else:
                result.owners[position].append(index)
        return result

    def represent(
        self, obj: dict[str, Any], rules: tuple[RepresentationRule, ...]
    ) -> dict[str, Any] | None:
        """``obj``'s representation by the first rule its ``__typename`` matches, if complete."""
        typename = obj.get("__typename")
        if not isinstance(typename, str):
            return None
        for rule in rules:
            if self.applies(rule.type_condition, typename):
                representation: dict[str, Any] = {"__typename": rule.typename or typename}
                if not self._copy(obj, rule.selections, representation):
                    return None
                return representation
        return None

    def _copy(
        self,
        source: dict[str, Any],
        selections: tuple[RequiredSelection, ...],
        target: dict[str, Any],
    ) -> bool:
        for selection in selections:
            if isinstance(selection, RequiredField):
                if selection.response_key not in source:
                    return False
                value = source[selection.response_key]
                if selection.selections and value is not None:
                    value = self._copy_value(value, selection.selections)
                    if value is _MISSING:
                        return False
                existing = target.get(selection.name)
                if isinstance(existing, dict) and isinstance(value, dict):
                    existing.update(value)
                else:
                    target[selection.name] = value
            else:
                typename = source.get("__typename")
                if (
                    isinstance(typename, str)
                    and self.applies(selection.type_condition, typename)
                    and not self._copy(source, selection.selections, target)
                ):
                    return False
        return True

    def _copy_value(self, value: Any, selections: tuple[RequiredSelection, ...]) -> Any:
        if isinstance(value, list):
            items = []
            for item in value:
                copied = item if item is None else self._copy_value(item, selections)
                if copied is _MISSING:
                    return _MISSING
                items.append(copied)
            return items
        if isinstance(value, dict):
            nested: dict[str, Any] = {}
            return nested if self._copy(value, selections, nested) else _MISSING
        return value
