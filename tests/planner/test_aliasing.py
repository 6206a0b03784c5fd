"""Conflicting response names aliased apart in subgraph operations, and put back on arrival."""

from gateway.planner.aliasing import undo_aliases
from gateway.planner.plan import KeyRename


def test_alias_moves_back_only_on_objects_of_the_renamed_types() -> None:
    data = {
        "vehicles": [
            {"__typename": "Car", "size": 4},
            {"__typename": "Boat", "size__jj1": None},
            {"__typename": "Plane", "size__jj1": "kept: not a renamed type"},
        ]
    }
    undo_aliases(data, (KeyRename(("vehicles",), frozenset({"Boat"}), "size__jj1", "size"),))
    assert data["vehicles"] == [
        {"__typename": "Car", "size": 4},
        {"__typename": "Boat", "size": None},
        {"__typename": "Plane", "size__jj1": "kept: not a renamed type"},
    ]


def test_nested_renames_apply_deepest_first_through_lists() -> None:
    entity = {"dims__jj1": [{"box__jj1": {"depth": 2}}, {"box__jj1": None}]}
    undo_aliases(
        entity,
        (
            KeyRename((), None, "dims__jj1", "dims"),
            KeyRename(("dims__jj1",), None, "box__jj1", "box"),
        ),
    )
    assert entity == {"dims": [{"box": {"depth": 2}}, {"box": None}]}
