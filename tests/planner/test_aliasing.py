"""Conflicting response names aliased apart in subgraph operations, and put back on arrival."""

from gateway.planner.aliasing import restore_path, undo_aliases
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


def test_error_paths_get_their_response_keys_back() -> None:
    renames = (
        KeyRename(("vehicles",), frozenset({"Boat"}), "size__jj1", "size"),
        KeyRename((), None, "dims__jj1", "dims"),
        KeyRename(("dims__jj1",), None, "box__jj1", "box"),
    )
    assert restore_path(("vehicles", 1, "size__jj1"), renames) == ("vehicles", 1, "size")
    assert restore_path(("dims__jj1", 0, "box__jj1", "depth"), renames) == (
        "dims",
        0,
        "box",
        "depth",
    )
    # the alias is only an alias where it was given: elsewhere the key is the client's own
    assert restore_path(("other", 0, "size__jj1"), renames) == ("other", 0, "size__jj1")
    assert restore_path(("vehicles", 1, "size__jj1"), ()) == ("vehicles", 1, "size__jj1")
