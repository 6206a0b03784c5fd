"""Deep merge of subgraph results into the response data assembled so far.

Objects merge key by key, lists item by item (an entity fetch answers for objects that already
sit in the list); anything else is replaced by the newer value, like Apollo Gateway's deepMerge.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any


def deep_merge(
    target: dict[str, Any], source: dict[str, Any], object_types: Container[str]
) -> None:
    """Merge ``source`` into ``target`` in place.

    An existing ``__typename`` is kept when it already names an object type: an @interfaceObject
    subgraph answers with the interface's name, while the concrete type came from another subgraph.
    """
    for key, value in source.items():
        if key not in target:
            target[key] = value
            continue
        existing = target[key]
        kind = type(existing)  # decoded JSON: exact dicts and lists, no subclasses
        if key == "__typename":
            if existing != value and existing not in object_types:
                target[key] = value
        elif kind is dict and type(value) is dict:
            deep_merge(existing, value, object_types)
        elif kind is list and type(value) is list and len(existing) == len(value):
            _merge_lists(existing, value, object_types)
        else:
            target[key] = value


def _merge_lists(target: list[Any], source: list[Any], object_types: Container[str]) -> None:
    for index, value in enumerate(source):
        existing = target[index]
        kind = type(existing)
        if kind is dict and type(value) is dict:
            deep_merge(existing, value, object_types)
        elif kind is list and type(value) is list and len(existing) == len(value):
            _merge_lists(existing, value, object_types)
        else:
            target[index] = value
