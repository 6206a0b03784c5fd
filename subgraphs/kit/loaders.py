"""Per-request DataLoaders: how an OPD subgraph batches entity resolution.

Strawberry calls ``resolve_reference`` once per representation; each call does
``await load(info, "penduduk", batch_fn, nik)``. All calls made while the ``_entities`` list is
being completed land in the same DataLoader, whose ``batch_fn`` receives every key at once and
issues one store query. Loaders live in the request context, so nothing is cached across requests.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiodataloader import DataLoader

BatchFn = Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]


class Loaders:
    """The DataLoaders of one request, created on first use and keyed by name."""

    def __init__(self) -> None:
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    def get(self, name: str, batch_fn: BatchFn) -> DataLoader[Any, Any]:
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = DataLoader(batch_fn)
        return loader


def batch_by_key(fetch: Callable[[list[Any]], dict[Any, Any]], default: Any = None) -> BatchFn:
    """Turn ``fetch(keys) -> {key: value}`` into a DataLoader batch function."""

    async def batch(keys: list[Any]) -> list[Any]:
        found = fetch(list(keys))
        return [found.get(k, default) for k in keys]

    return batch
