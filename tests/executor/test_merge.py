"""deep_merge: objects by key, lists by item, an object-type __typename kept."""

from __future__ import annotations

from typing import Any

from gateway.executor.merge import deep_merge

OBJECT_TYPES = frozenset({"Book", "Movie", "User"})


def test_deep_merge_merges_nested_objects_and_lists_item_by_item() -> None:
    target: dict[str, Any] = {"a": {"x": 1}, "items": [{"id": 1}, {"id": 2}], "keep": True}
    deep_merge(
        target,
        {"a": {"y": 2}, "items": [{"name": "one"}, {"name": "two"}], "new": None},
        OBJECT_TYPES,
    )
    assert target == {
        "a": {"x": 1, "y": 2},
        "items": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}],
        "keep": True,
        "new": None,
    }


def test_deep_merge_replaces_scalars_and_mismatched_values() -> None:
    target: dict[str, Any] = {"n": 1, "obj": {"x": 1}, "list": [1, 2]}
    deep_merge(target, {"n": 2, "obj": None, "list": [3]}, OBJECT_TYPES)
    assert target == {"n": 2, "obj": None, "list": [3]}


def test_typename_naming_an_object_type_is_not_overwritten_by_an_interface_name() -> None:
    target = {"__typename": "Book", "id": "1"}
    deep_merge(target, {"__typename": "Media", "rating": 5}, OBJECT_TYPES)
    assert target == {"__typename": "Book", "id": "1", "rating": 5}


def test_typename_naming_an_interface_is_overwritten_by_the_concrete_type() -> None:
    target = {"__typename": "Media", "id": "1"}
    deep_merge(target, {"__typename": "Movie"}, OBJECT_TYPES)
    assert target == {"__typename": "Movie", "id": "1"}
