"""``@stream`` list fields cut out of a response into ``items`` entries (``deferSpec=20220824``).

A streamed list is executed whole (the plan is the operation without ``@stream``: no subgraph
streams), then cut as Hive Gateway 2.15.1 (graphql-js 17.0.0-alpha.2) delivers it once the list is
resolved: the first ``initialCount`` items stay in the primary part, and every further item is its
own ``incremental`` entry — ``items`` (that one item), ``path`` (to the list, then the item's
index), ``label`` when given, ``errors`` of that item — all in one subsequent part
(tests/defer/cases/stream-*). See docs/defer.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import GraphQLBoolean, GraphQLInt, value_from_ast

from gateway.executor.defer import objects_at
from gateway.planner.defer import DeferredOperation, StreamedField


class NegativeInitialCount(ValueError):
    """``@stream(initialCount:)`` below 0: the request is refused (``BAD_USER_INPUT``)."""


def active_streams(
    operation: DeferredOperation, variables: Mapping[str, Any] | None
) -> list[tuple[StreamedField, int]]:
    """The streamed fields that stream with these variables (``if`` not false), with their
    ``initialCount``; raises ``NegativeInitialCount`` for one below 0."""
    values = dict(variables or {})
    found: list[tuple[StreamedField, int]] = []
    for stream in operation.streams:
        condition = (
            None
            if stream.condition is None
            else value_from_ast(stream.condition, GraphQLBoolean, values)
        )
        count = (
            None
            if stream.initial_count is None
            else value_from_ast(stream.initial_count, GraphQLInt, values)
        )
        count = 0 if count is None else count
        if count < 0:
            raise NegativeInitialCount(
                f"@stream's initialCount must be 0 or more, got {count} "
                f"(field {'.'.join(stream.path)})."
            )
        if condition is not False:
            found.append((stream, count))
    return found


def cut_streams(
    response: dict[str, Any],
    streams: Sequence[tuple[StreamedField, int]],
    base: Sequence[str | int] = (),
) -> list[dict[str, Any]]:
    """The ``incremental`` entries of ``streams`` in ``response`` (response order), removed
    from it in place (its lists keep their first ``initialCount`` items; errors under a removed
    item move to that item's entry). ``response`` is the whole response, or a deferred
    fragment's entry whose ``data`` lies at ``base`` (its ``path``)."""
    data = response.get("data")
    if not isinstance(data, dict):
        return []
    above = tuple(k for k in base if isinstance(k, str))
    streams = [
        (stream, count)
        for stream, count in streams
        if len(stream.path) > len(above) and stream.path[: len(above)] == above
    ]
    cut: list[list[dict[str, Any]]] = [[] for _ in streams]
    # innermost first: an item an outer stream sends later carries its inner lists already cut
    order = sorted(range(len(streams)), key=lambda i: -len(streams[i][0].path))
    for index in order:
        stream, count = streams[index]
        for path, parent in objects_at(data, stream.path[len(above) : -1]):
            key = stream.path[-1]
            items = parent.get(key)
            if not isinstance(items, list) or len(items) <= count:
                continue
            parent[key] = items[:count]
            for position in range(count, len(items)):
                entry: dict[str, Any] = {
                    "items": [items[position]],
                    "path": [*base, *path, key, position],
                }
                if stream.label is not None:
                    entry["label"] = stream.label
                cut[index].append(entry)
    entries = sorted(
        (entry for per_stream in cut for entry in per_stream),
        key=_response_order([stream.path for stream, _ in streams]),
    )
    if entries and response.get("errors"):
        _move_errors(response, entries)
    return entries


def _response_order(
    paths: Sequence[tuple[str, ...]],
) -> Callable[[dict[str, Any]], tuple[int, ...]]:
    """The sort key putting entries in response order, as graphql-js sends them: an item, then
    the items streamed inside it, then the next item (tests/defer/cases/stream-nested); a
    response key ranks as the first streamed field (document order) below it."""
    rank: dict[tuple[str, ...], int] = {}
    for index, path in enumerate(paths):
        for depth in range(1, len(path) + 1):
            rank.setdefault(path[:depth], index)

    def key(entry: dict[str, Any]) -> tuple[int, ...]:
        keys: tuple[str, ...] = ()
        order: list[int] = []
        for element in entry["path"]:
            if isinstance(element, int):
                order.append(element)
            else:
                keys = (*keys, element)
                order.append(rank[keys])
        return tuple(order)

    return key


def _move_errors(response: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Errors whose path lies in a removed item go with that item's entry (the deepest)."""
    kept: list[dict[str, Any]] = []
    for error in response["errors"]:
        path = error.get("path")
        owners = [
            e
            for e in entries
            if isinstance(path, list)
            and len(path) >= len(e["path"])
            and path[: len(e["path"])] == e["path"]
        ]
        if owners:
            max(owners, key=lambda e: len(e["path"])).setdefault("errors", []).append(error)
        else:
            kept.append(error)
    if kept:
        response["errors"] = kept
    else:
        del response["errors"]
