"""Objects at flatten paths and the representations built from RepresentationRules."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gateway.executor.merge import deep_merge
from gateway.executor.representations import (
    FoundObjects,
    RepresentationBuilder,
    context_groups,
    objects_at,
    paths_of_objects_at,
)
from gateway.planner.plan import ContextInput, RepresentationRule, RequiredField, RequiredFragment

POSSIBLE = {"Media": frozenset({"Book", "Movie"})}


def _key(name: str) -> RequiredField:
    return RequiredField(name, name)


def test_objects_at_walks_lists_and_nested_lists_skipping_nulls() -> None:
    data: dict[str, Any] = {
        "users": [
            {"id": 1, "friends": [{"id": 10}, None, {"id": 11}]},
            None,
            {"id": 2, "friends": None},
            {"id": 3},
            {"id": 4, "friends": [[{"id": 40}], [{"id": 41}]]},
        ]
    }
    found = objects_at(data, ("users", "@", "friends", "@"))
    assert [obj["id"] for obj in found] == [10, 11, 40, 41]
    assert paths_of_objects_at(data, ("users", "@", "friends", "@")) == [
        ("users", 0, "friends", 0),
        ("users", 0, "friends", 2),
        ("users", 4, "friends", 0, 0),
        ("users", 4, "friends", 1, 0),
    ]
    assert objects_at(data, ("missing", "@")) == []
    assert objects_at({"me": {"id": 1}}, ("me",)) == [{"id": 1}]


def test_equal_representations_are_built_once_with_every_owner() -> None:
    objects = [
        {"__typename": "User", "id": "1", "name": "a"},
        {"__typename": "User", "id": "2"},
        {"id": "1", "__typename": "User", "other": True},
    ]
    rule = RepresentationRule("User", (_key("id"),))
    result = RepresentationBuilder(POSSIBLE).build(objects, (rule,))
    assert result.items == [{"__typename": "User", "id": "1"}, {"__typename": "User", "id": "2"}]
    assert result.owners == [[0, 2], [1]]


def test_interface_rule_matches_implementations_and_typename_override_applies() -> None:
    objects = [
        {"__typename": "Book", "id": "b"},
        {"__typename": "Product", "id": "p"},
        {"__typename": "Movie", "id": "m"},
    ]
    rule = RepresentationRule("Media", (_key("id"),), typename="Media")
    result = RepresentationBuilder(POSSIBLE).build(objects, (rule,))
    assert result.items == [{"__typename": "Media", "id": "b"}, {"__typename": "Media", "id": "m"}]
    assert result.owners == [[0], [2]]


def test_first_matching_rule_wins_and_keeps_the_object_typename() -> None:
    rules = (
        RepresentationRule("Book", (_key("id"), _key("pages"))),
        RepresentationRule("Media", (_key("id"),)),
    )
    builder = RepresentationBuilder(POSSIBLE)
    book = {"__typename": "Book", "id": "b", "pages": 3}
    movie = {"__typename": "Movie", "id": "m"}
    assert builder.represent(book, rules) == {"__typename": "Book", "id": "b", "pages": 3}
    assert builder.represent(movie, rules) == {"__typename": "Movie", "id": "m"}


def test_object_missing_a_required_field_is_skipped() -> None:
    rule = RepresentationRule("User", (_key("id"), _key("name")))
    objects = [{"__typename": "User", "id": "1"}, {"__typename": "User", "id": "2", "name": None}]
    result = RepresentationBuilder(POSSIBLE).build(objects, (rule,))
    assert result.items == [{"__typename": "User", "id": "2", "name": None}]
    assert result.owners == [[1]]


def test_object_with_a_null_key_field_is_skipped_but_a_null_required_field_is_sent() -> None:
    # Flat rules (scalar fields only) and generic ones (a nested required field) alike.
    flat = RepresentationRule("Parcel", (_key("carrier"), _key("number"), _key("weight")))
    nested = RepresentationRule(
        "Parcel",
        (_key("carrier"), _key("number"), RequiredField("size", "size", (_key("w"),))),
    )
    objects = [
        {"__typename": "Parcel", "carrier": "JNE", "number": 1, "weight": None, "size": None},
        {"__typename": "Parcel", "carrier": None, "number": 2, "weight": 8, "size": None},
        {"__typename": "Parcel", "carrier": "POS", "number": None, "weight": 1, "size": None},
    ]
    builder = RepresentationBuilder(POSSIBLE)
    for rule, extra in ((flat, "weight"), (nested, "size")):
        keyed = RepresentationRule(rule.type_condition, rule.selections, key=("carrier", "number"))
        result = builder.build(objects, (keyed,))
        assert result.items == [
            {"__typename": "Parcel", "carrier": "JNE", "number": 1, extra: None}
        ]
        assert result.owners == [[0]]
        # Without a key (a plain rule), null values are copied like any other.
        assert len(builder.build(objects, (rule,)).items) == 3


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        (("id",), ("id",)),  # the one field is the key
        (("id", "region"), ("id", "region")),  # the fields are the key
        (("id", "price"), ("id",)),  # a key and a required field
        (("id", "region", "price"), ("region", "id")),  # a compound key in another order
    ],
)
def test_flat_rules_skip_null_and_absent_keys_in_every_form(
    fields: tuple[str, ...], key: tuple[str, ...]
) -> None:
    rule = RepresentationRule("Item", tuple(_key(f) for f in fields), key=key)
    full = {"__typename": "Item", "id": 1, "region": "ID", "price": None}
    objects = [
        {**full, "id": None},
        {k: v for k, v in full.items() if k != "id"},
        full,
        {**full, "region": None},
        dict(full),
    ]
    result = RepresentationBuilder(POSSIBLE).build(objects, (rule,))
    assert result.items == [{"__typename": "Item", **{f: full[f] for f in fields}}]
    # the object with a null region is kept only when region is not part of the key
    assert result.owners == [[2, 4] if "region" in key else [2, 3, 4]]


def _tree(rng: random.Random, depth: int) -> Any:
    """A random response tree over the keys a, b, c: objects, (nested) lists, nulls, scalars."""
    roll = rng.random()
    if depth == 0 or roll < 0.1:
        return rng.choice([None, 1, "x"])
    if roll < 0.35:
        return [_tree(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {key: _tree(rng, depth - 1) for key in "abc" if rng.random() < 0.7}


def test_found_objects_walk_on_from_a_known_prefix_as_from_the_root() -> None:
    rng = random.Random(15)
    paths = [(), ("a",), ("a", "@"), ("a", "@", "b"), ("a", "b", "@", "c"), ("a", "@", "b", "@")]
    paths += [("b", "@", "a", "@", "c"), ("a", "b", "c", "a"), ("a", "@", "b", "c", "@", "@")]
    for _ in range(300):
        data = {"a": _tree(rng, 5), "b": _tree(rng, 5)}
        found = FoundObjects(data)
        for path in rng.sample(paths, len(paths)):
            assert found.at(path) == objects_at(data, path)
            assert all(x is y for x, y in zip(found.at(path), objects_at(data, path), strict=True))


def test_found_objects_forget_a_path_when_a_merge_brings_the_key_leading_to_it() -> None:
    data: dict[str, Any] = {"users": [{"id": 1}, {"id": 2, "reviews": None}]}
    found = FoundObjects(data)
    users = found.at(("users", "@"))
    assert found.at(("users", "@", "reviews", "@")) == []
    # an entity answer for the users brings their reviews
    answers = [{"name": "a", "reviews": [{"id": 10}]}, {"reviews": [{"id": 20}, None]}]
    for user, answer in zip(users, answers, strict=True):
        deep_merge(user, answer, ())
    found.merged(("users", "@"), [*answers, None])
    assert found.at(("users", "@")) is users  # merged in place: still the same objects
    assert found.at(("users", "@", "reviews", "@")) == [{"id": 10}, {"id": 20}]
    reviews = found.at(("users", "@", "reviews", "@"))
    # a merge bringing other keys (here: at the root) keeps what lies below
    deep_merge(data, {"topProducts": []}, ())
    found.merged((), [{"topProducts": []}])
    assert found.at(("users", "@", "reviews", "@")) is reviews
    deep_merge(data, {"users": [{"id": 3}]}, ())  # a list of another length replaces the old
    found.merged((), [{"users": [{"id": 3}]}])
    assert found.at(("users", "@", "reviews", "@")) == []
    assert found.at(("users", "@")) == [{"id": 3}]


def test_aliased_and_nested_required_fields_are_copied_under_their_names() -> None:
    rule = RepresentationRule(
        "User",
        (
            _key("id"),
            RequiredField(
                "address",
                "_addr",
                (
                    RequiredField("city", "city"),
                    RequiredFragment("Street", (RequiredField("street", "street"),)),
                ),
            ),
            RequiredField("tags", "tags", (RequiredField("v", "v"),)),
        ),
    )
    obj = {
        "__typename": "User",
        "id": "1",
        "_addr": {"__typename": "Street", "city": "X", "street": "Main", "zip": "9"},
        "tags": [{"v": 1, "w": 2}, None],
    }
    rep = RepresentationBuilder(POSSIBLE).represent(obj, (rule,))
    assert rep == {
        "__typename": "User",
        "id": "1",
        "address": {"city": "X", "street": "Main"},
        "tags": [{"v": 1}, None],
    }
    other_kind = {**obj, "_addr": {"__typename": "Box", "city": "Y", "street": "no"}}
    assert RepresentationBuilder(POSSIBLE).represent(other_kind, (rule,)) == {
        "__typename": "User",
        "id": "1",
        "address": {"city": "Y"},
        "tags": [{"v": 1}, None],
    }


def test_objects_without_typename_or_matching_rule_get_no_representation() -> None:
    rule = RepresentationRule("User", (_key("id"),))
    builder = RepresentationBuilder(POSSIBLE)
    assert builder.represent({"id": "1"}, (rule,)) is None
    assert builder.represent({"__typename": "Book", "id": "1"}, (rule,)) is None


def test_context_groups_read_each_objects_nearest_ancestor_and_group_equal_values() -> None:
    data: dict[str, Any] = {
        "provinsi": [
            {"tahun": 2025, "kabupaten": [{"kode": "a"}, {"kode": "b"}]},
            {"tahun": 2026, "kabupaten": [{"kode": "c"}]},
            {"tahun": 2025, "kabupaten": [{"kode": "d"}]},
            {"kabupaten": [{"kode": "e"}]},  # the context value did not arrive: null
        ]
    }
    path = ("provinsi", "@", "kabupaten", "@")
    objects = objects_at(data, path)
    inputs = (ContextInput("contextualArgument_1_0", "Int", ("provinsi", "@"), ("tahun",)),)
    groups = context_groups(data, path, inputs, objects)
    assert [
        (variables, [objects[i]["kode"] for i in indices]) for variables, indices in groups
    ] == [
        ({"contextualArgument_1_0": 2025}, ["a", "b", "d"]),
        ({"contextualArgument_1_0": 2026}, ["c"]),
        ({"contextualArgument_1_0": None}, ["e"]),
    ]


def test_context_groups_read_nested_values() -> None:
    data: dict[str, Any] = {"d": {"meta": {"lang": "id"}, "author": {"id": 1}}}
    objects = objects_at(data, ("d", "author"))
    inputs = (ContextInput("v", "String", ("d",), ("meta", "lang")),)
    assert context_groups(data, ("d", "author"), inputs, objects) == [({"v": "id"}, [0])]
