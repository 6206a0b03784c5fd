"""Hot reload: a gateway that follows the registry and swaps supergraphs atomically.

``ReloadingGateway`` holds one reference to the current ``Gateway`` (supergraph, planner caches,
access control). Each request reads that reference once and runs to the end on it, so requests in
flight finish on the old supergraph while new ones use the new. A new generation is built off the
request path (in a worker thread) and only a generation that loaded completely is swapped in; its
plan and document caches start empty. All generations share one subgraph transport, so swapping
never closes connections under a request.

When the registry is unreachable the last good supergraph keeps serving; it is also written to a
cache file so that a gateway can start while the registry is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from gateway.auth.access import AccessControl
from gateway.engine import Gateway, GatewayResult, GraphQLRequest
from gateway.errors import GatewayError
from gateway.registry.store import ANONYMOUS_APPLICATION
from gateway.registry.usage import UsageRecorder
from gateway.supergraph import Supergraph

if TYPE_CHECKING:
    from gateway.registry.config import RegistryPollSection

logger = logging.getLogger("jamajama.reload")

#: builds a gateway generation from a supergraph SDL (raises GatewayError if it cannot load)
GatewayFactory = Callable[[str], Gateway]


@dataclass(frozen=True, slots=True)
class FetchedSupergraph:
    sdl: str
    etag: str | None
    version: str | None


class SupergraphSource(Protocol):
    """Where new supergraphs come from; ``None`` means "not modified since ``etag``"."""

    async def fetch(self, etag: str | None) -> FetchedSupergraph | None: ...


class RegistrySource:
    """The registry's ``GET /api/supergraph`` with ``If-None-Match``."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    async def fetch(self, etag: str | None) -> FetchedSupergraph | None:
        headers = {"If-None-Match": etag} if etag else {}
        response = await self._client.get("/api/supergraph", headers=headers)
        if response.status_code == 304:
            return None
        response.raise_for_status()
        return FetchedSupergraph(
            response.text,
            response.headers.get("etag"),
            response.headers.get("x-supergraph-version"),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


class ReloadingGateway:
    """Serves through the current ``Gateway`` generation and replaces it when a new one loads."""

    def __init__(
        self,
        initial: Gateway,
        factory: GatewayFactory,
        source: SupergraphSource | None = None,
        *,
        interval: float = 10.0,
        cache_path: Path | None = None,
        etag: str | None = None,
        usage: UsageRecorder | None = None,
        usage_interval: float = 10.0,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        self._current = initial
        self._factory = factory
        self._source = source
        self.interval = interval
        self.cache_path = cache_path
        self.etag = etag
        self.usage = usage
        self.usage_interval = usage_interval
        self._on_close = on_close
        self._tasks: list[asyncio.Task[None]] = []
        self._swap_lock = asyncio.Lock()
        #: replaced generations: their audit writes still in flight are drained at shutdown
        self._retired: list[Gateway] = []
        self.generation = 1
        self.last_error: str | None = None
        #: called after each swap (open subscriptions end: gateway/subscriptions/manager.py)
        self._swap_listeners: list[Callable[[], None]] = []

    # what the HTTP layer uses -------------------------------------------------------------------

    @property
    def current(self) -> Gateway:
        return self._current

    @property
    def supergraph(self) -> Supergraph:
        return self._current.supergraph

    @property
    def access(self) -> AccessControl | None:
        return self._current.access

    async def process(self, request: GraphQLRequest) -> GatewayResult:
        gateway = self._current  # one read: the whole request runs on this generation
        result = await gateway.process(request)
        if self.usage is not None and result.executed:
            caller = request.principal
            application = (
                caller.application
                if caller is not None and caller.authenticated and caller.application
                else ANONYMOUS_APPLICATION
            )
            self.usage.record(
                gateway.supergraph.api_schema, request.query, request.operation_name, application
            )
        return result

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        return (await self.process(GraphQLRequest(query, variables, operation_name))).response

    # swapping ----------------------------------------------------------------------------------

    def on_swap(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every swap to a new generation."""
        self._swap_listeners.append(listener)

    async def load(self, sdl: str, etag: str | None = None) -> bool:
        """Build a generation from ``sdl`` and swap it in; False (old kept) if it fails to load."""
        async with self._swap_lock:
            try:
                new = await asyncio.to_thread(self._factory, sdl)
            except GatewayError as error:
                self.last_error = f"{error.message} ({error.code})"
                logger.error("new supergraph refused, keeping the current one: %s", self.last_error)
                return False
            except Exception as error:  # a broken supergraph must never take the gateway down
                self.last_error = repr(error)
                logger.exception("new supergraph failed to load, keeping the current one")
                return False
            old, self._current = self._current, new  # the atomic swap
            self._retired = [*[g for g in self._retired if g.access is not None][-7:], old]
            self.generation += 1
            self.etag = etag
            self.last_error = None
            self._write_cache(sdl)
            logger.info("supergraph swapped (generation %d, etag %s)", self.generation, etag)
            for listener in self._swap_listeners:
                listener()
            return True

    async def poll_once(self) -> bool:
        """Ask the source for a newer supergraph; True when one was swapped in."""
        if self._source is None:
            return False
        try:
            fetched = await self._source.fetch(self.etag)
        except (httpx.HTTPError, OSError) as error:
            self.last_error = f"registry unreachable: {error}"
            logger.warning("registry unreachable, serving the last good supergraph: %s", error)
            return False
        if fetched is None or (fetched.etag is not None and fetched.etag == self.etag):
            return False
        return await self.load(fetched.sdl, fetched.etag)

    def _write_cache(self, sdl: str) -> None:
        if self.cache_path is None:
            return
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_suffix(self.cache_path.suffix + ".tmp")
            tmp.write_text(sdl)
            os.replace(tmp, self.cache_path)
        except OSError as error:
            logger.warning("cannot write the supergraph cache %s: %s", self.cache_path, error)

    # background tasks --------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling (and usage flushing) on the running event loop."""
        if self._tasks:
            return
        if self._source is not None:
            self._tasks.append(asyncio.create_task(self._every(self.interval, self.poll_once)))
        if self.usage is not None:
            self._tasks.append(
                asyncio.create_task(self._every(self.usage_interval, self.usage.flush))
            )

    async def _every(self, seconds: float, action: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await action()
            except Exception:
                logger.exception("background task failed; retrying at the next interval")

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.usage is not None:
            await self.usage.flush()
            sink_closer = getattr(self.usage.sink, "aclose", None)
            if sink_closer is not None:
                await sink_closer()
        for retired in self._retired:
            if retired.access is not None:
                await retired.access.drain()
            await retired.aclose()
        self._retired.clear()
        await self._current.aclose()
        closer = getattr(self._source, "aclose", None)
        if closer is not None:
            await closer()
        if self._on_close is not None:
            result = self._on_close()
            if asyncio.iscoroutine(result):
                await result

    # construction ------------------------------------------------------------------------------

    @classmethod
    async def from_source(
        cls,
        factory: GatewayFactory,
        source: SupergraphSource,
        *,
        cache_path: Path | None = None,
        **options: Any,
    ) -> ReloadingGateway:
        """Start from the source, or from the cached copy when the source is unreachable."""
        sdl: str | None = None
        etag: str | None = None
        try:
            fetched = await source.fetch(None)
            if fetched is not None:
                sdl, etag = fetched.sdl, fetched.etag
        except (httpx.HTTPError, OSError) as error:
            logger.warning("registry unreachable at start: %s", error)
        if sdl is not None:
            try:
                initial = await asyncio.to_thread(factory, sdl)
            except GatewayError as error:
                logger.error("the registry's supergraph does not load: %s", error.message)
                sdl = None
        if sdl is None:
            if cache_path is None or not cache_path.exists():
                raise GatewayError(
                    "no supergraph: the registry is unreachable and there is no cached copy",
                    code="NO_SUPERGRAPH",
                )
            sdl, etag = cache_path.read_text(), None
            initial = await asyncio.to_thread(factory, sdl)
        gateway = cls(initial, factory, source, cache_path=cache_path, etag=etag, **options)
        if etag is not None:
            gateway._write_cache(sdl)
        return gateway


# --- starting from the registry (``jamajama gateway --registry``; built by gateway.assembly) ---


def reloading_gateway_from_registry(
    factory: GatewayFactory,
    poll: RegistryPollSection,
    *,
    usage: UsageRecorder | None = None,
    on_close: Callable[[], Any] | None = None,
) -> ReloadingGateway:
    """Build (synchronously, before the server's event loop starts) a gateway on the registry's
    current supergraph, or on the cached copy when the registry is unreachable."""
    assert poll.url is not None
    sdl: str | None = None
    etag: str | None = None
    try:
        response = httpx.get(f"{poll.url.rstrip('/')}/api/supergraph", timeout=poll.timeout_seconds)
        response.raise_for_status()
        sdl, etag = response.text, response.headers.get("etag")
        initial = factory(sdl)
    except (httpx.HTTPError, OSError, GatewayError) as error:
        logger.warning("no usable supergraph from the registry at start: %s", error)
        sdl = None
    if sdl is None:
        cache = poll.cache_path
        if cache is None or not cache.exists():
            raise GatewayError(
                f"no supergraph: the registry at {poll.url} is unreachable (or serves none that "
                "loads) and there is no cached copy",
                code="NO_SUPERGRAPH",
            )
        sdl, etag = cache.read_text(), None
        initial = factory(sdl)
    gateway = ReloadingGateway(
        initial,
        factory,
        RegistrySource(poll.url, timeout=poll.timeout_seconds),
        interval=poll.interval_seconds,
        cache_path=poll.cache_path,
        etag=etag,
        usage=usage,
        usage_interval=poll.usage_interval_seconds,
        on_close=on_close,
    )
    if etag is not None:
        gateway._write_cache(sdl)
    return gateway
