"""Per-request DataLoaders: how an OPD subgraph batches entity resolution.

Strawberry calls ``resolve_reference`` once per representation; each call does
``await load(info, "penduduk", fetch, nik)``. All calls made while the ``_entities`` list is
being completed land in the same loader, whose ``fetch`` receives every key at once and issues
one store query. Loaders live in the request context, so nothing is cached across requests.

The loader is the kit's own, not ``aiodataloader``'s: every fetch here is a synchronous store read
(``keys -> {key: value}``), so a batch needs no task of its own, and a load is one dict lookup and
one future (bench/kit.py profiled aiodataloader's per-load bookkeeping and the two tasks per
batch). It keeps aiodataloader's timing — a batch is fetched three turns of the event loop after
its first load — so graphql-core's resolver tasks batch exactly as they did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

Fetch = Callable[[list[Any]], dict[Any, Any]]

#: Turns of the event loop between a batch's first load and its fetch (aiodataloader's: a
#: callback, then a task that starts another task).
DISPATCH_TURNS: Final = 3


class Loader:
    """Keys loaded in the same few turns of the event loop, fetched together; one future per
    key (a key loaded again gets the same future)."""

    __slots__ = ("_cache", "_default", "_fetch", "_queue")

    def __init__(self, fetch: Fetch, default: Any = None) -> None:
        self._fetch = fetch
        self._default = default
        self._cache: dict[Any, asyncio.Future[Any]] = {}
        self._queue: list[tuple[Any, asyncio.Future[Any]]] = []

    def load(self, key: Any) -> asyncio.Future[Any]:
        """The value for `key` (``default`` if the fetch did not find it), as a future."""
        if key is None:
            raise TypeError("a loader key cannot be None")
        future = self._cache.get(key)
        if future is not None:
            return future
        loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        self._queue.append((key, future))
        if len(self._queue) == 1:
            loop.call_soon(self._wait, loop, DISPATCH_TURNS - 1)
        return future

    def _wait(self, loop: asyncio.AbstractEventLoop, turns: int) -> None:
        if turns:
            loop.call_soon(self._wait, loop, turns - 1)
        else:
            self._dispatch()

    def _dispatch(self) -> None:
        queue, self._queue = self._queue, []
        try:
            found = self._fetch([key for key, _ in queue])
        except Exception as error:  # every waiting load fails, and none stays cached
            for key, future in queue:
                self._cache.pop(key, None)
                if not future.done():
                    future.set_exception(error)
            return
        default = self._default
        for key, future in queue:
            if not future.done():
                future.set_result(found.get(key, default))


class Loaders:
    """The loaders of one request, created on first use and keyed by name."""

    __slots__ = ("_loaders",)

    def __init__(self) -> None:
        self._loaders: dict[str, Loader] = {}

    def get(self, name: str, fetch: Fetch) -> Loader:
        """Loader `name`; `fetch` (``keys -> {key: value}``) is used only when it is created."""
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = Loader(fetch)
        return loader
