"""Field usage records: which field coordinates (``Type.field``) each operation uses, and which
consumer application ran it.

The gateway counts executions per (application, operation) in memory (no I/O on the request
path) and flushes them periodically to a sink: the registry's store directly (shared
SQLite/PostgreSQL) or the registry's ``POST /api/usage``. The registry reads them to refuse
breaking changes to used fields and to name the applications a breaking change or a deprecation
affects.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from typing import Protocol

import httpx
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    visit,
)

from gateway.registry.store import ANONYMOUS_APPLICATION, RegistryStore

logger = logging.getLogger("jamajama.usage")

#: (application, operation name, operation hash) -> (coordinates, count)
Batch = dict[tuple[str, str, str], tuple[frozenset[str], int]]


def field_coordinates(schema: GraphQLSchema, query: str) -> frozenset[str]:
    """Every ``Parent.field`` an operation document selects (introspection fields excluded)."""
    return _analyse(schema, query)[0]


def _analyse(schema: GraphQLSchema, query: str) -> tuple[frozenset[str], str | None]:
    """(coordinates, the name of the document's only named operation)."""
    try:
        document = parse(query)
    except GraphQLError:
        return frozenset(), None
    names = [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]
    info = TypeInfo(schema)
    found: set[str] = set()

    class _Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = info.get_parent_type()
            name = node.name.value
            if parent is not None and not name.startswith("__"):
                found.add(f"{parent.name}.{name}")

    visit(document, TypeInfoVisitor(info, _Collect()))
    return frozenset(found), names[0] if len(names) == 1 else None


class UsageSink(Protocol):
    async def write(self, batch: Batch) -> None: ...


class StoreUsageSink:
    """Writes usage straight into a registry store (same database as the registry)."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    async def write(self, batch: Batch) -> None:
        def write_all() -> None:
            for (application, operation, op_hash), (coordinates, count) in batch.items():
                self.store.record_usage(
                    operation, op_hash, coordinates, count, application=application
                )

        await asyncio.to_thread(write_all)


class HttpUsageSink:
    """Posts usage to the registry's ``/api/usage``."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 5.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )

    async def write(self, batch: Batch) -> None:
        operations = [
            {
                "operation": name,
                "hash": op_hash,
                "coordinates": sorted(coords),
                "count": count,
                "application": application,
            }
            for (application, name, op_hash), (coords, count) in batch.items()
        ]
        response = await self._client.post("/api/usage", json={"operations": operations})
        response.raise_for_status()

    async def aclose(self) -> None:
        await self._client.aclose()


class UsageRecorder:
    """Counts operations and their coordinates in memory; ``flush`` hands them to the sink."""

    def __init__(self, sink: UsageSink, cache_size: int = 2048) -> None:
        self.sink = sink
        self._pending: Batch = {}
        self._coordinates: OrderedDict[tuple[int, str], tuple[frozenset[str], str | None]] = (
            OrderedDict()
        )
        self._cache_size = cache_size

    def record(
        self,
        schema: GraphQLSchema,
        query: str,
        operation_name: str | None,
        application: str = ANONYMOUS_APPLICATION,
    ) -> None:
        """Count one execution of ``query`` by ``application`` (no I/O)."""
        key = (id(schema), query)
        analysed = self._coordinates.get(key)
        if analysed is None:
            analysed = _analyse(schema, query)
            self._coordinates[key] = analysed
            if len(self._coordinates) > self._cache_size:
                self._coordinates.popitem(last=False)
        else:
            self._coordinates.move_to_end(key)
        coordinates, document_name = analysed
        if not coordinates:
            return
        op_hash = hashlib.sha256(query.encode()).hexdigest()[:16]
        name = operation_name or document_name or f"(anonymous {op_hash[:8]})"
        pending = (application, name, op_hash)
        previous = self._pending.get(pending)
        count = previous[1] + 1 if previous else 1
        self._pending[pending] = (coordinates, count)

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await self.sink.write(batch)
        except Exception as exc:  # a down registry must never fail requests; keep the counts
            logger.warning("usage records not delivered (kept for the next flush): %s", exc)
            for key, (coords, count) in batch.items():
                previous = self._pending.get(key)
                self._pending[key] = (coords, count + (previous[1] if previous else 0))
