"""Group commit: the records that concurrent requests wait for go to the store in one transaction.

One commit (one fsync) per record capped a store at its commit latency: ~166 records/s on
PostgreSQL on a busy 2-core machine. Here each ``submit`` queues its event and awaits its own
future; one writer task per process takes everything queued (up to ``max_batch``), hands it to the
store's ``write`` — one transaction that reads the head under the store's writer lock, chains the
records in queue order and commits — and only then resolves the futures. While one batch commits,
the next one gathers, so batches grow with the load and a lone request still commits at once
(no waiting to fill a batch).

What stays true: a future resolves only after its record is committed, so nothing is released
before it is durable; if the transaction fails, every request of the batch gets
``AuditUnavailableError`` (stable code ``AUDIT_UNAVAILABLE``) and none of their records exists (the
transaction rolled back), so a crash mid-batch loses no released record. The chain is built
exactly as by one record at a time (same ``chain``), so ``audit verify`` cannot tell the
difference. A caller that stops waiting (timeout) before its batch is taken is not written.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from gateway.audit.records import AuditEvent, AuditRecord
from gateway.errors import GatewayError

logger = logging.getLogger("jamajama.audit")

#: what one batch writes: (event, signing key) in chain order
Item = tuple[AuditEvent, bytes | None]
#: one transaction for a batch; returns the records in the order of the items
WriteBatch = Callable[[Sequence[Item]], Awaitable[list[AuditRecord]]]

#: records in one transaction at most (bounds the transaction's size and time)
MAX_BATCH = 512


class GroupCommit:
    """Queues events and commits them in batches through ``write``; one writer per event loop."""

    def __init__(
        self,
        write: WriteBatch,
        unavailable: Callable[[str], GatewayError],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._write = write
        self._unavailable = unavailable
        self.max_batch = max_batch
        self._queue: deque[tuple[AuditEvent, bytes | None, asyncio.Future[AuditRecord]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: batches committed and records in them (observability, benchmarks)
        self.batches = 0
        self.records = 0

    async def submit(self, event: AuditEvent, signing_key: bytes | None) -> AuditRecord:
        """The committed record of ``event`` (raises the store's unavailable error)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a store reused by another event loop (tests, CLI)
            self._loop, self._queue, self._writer = loop, deque(), None
        future: asyncio.Future[AuditRecord] = loop.create_future()
        self._queue.append((event, signing_key, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._run())
        return await future

    async def drain(self) -> None:
        """Wait until everything queued is committed or failed (close)."""
        writer = self._writer
        if writer is not None and not writer.done() and writer.get_loop() is _running_loop():
            await asyncio.wait([writer])

    async def _run(self) -> None:
        batch: list[tuple[AuditEvent, bytes | None, asyncio.Future[AuditRecord]]] = []
        try:
            while self._queue:
                batch = []
                while self._queue and len(batch) < self.max_batch:
                    item = self._queue.popleft()
                    if not item[2].done():  # its caller stopped waiting: not released, not written
                        batch.append(item)
                if batch:
                    await self._commit(batch)
                batch = []
        finally:  # cancelled (loop shutting down): nobody may wait forever
            self._fail([*batch, *self._queue], "the audit writer stopped")
            self._queue.clear()

    async def _commit(
        self, batch: list[tuple[AuditEvent, bytes | None, asyncio.Future[AuditRecord]]]
    ) -> None:
        try:
            records = await self._write([(event, key) for event, key, _ in batch])
        except GatewayError as error:
            self._fail(batch, error.message)
            return
        except Exception:  # a bug must not leave requests waiting nor stop the writer
            logger.exception("audit batch of %d records not written", len(batch))
            self._fail(batch, "the audit store failed")
            return
        self.batches += 1
        self.records += len(records)
        for (_, _, future), record in zip(batch, records, strict=True):
            if not future.done():
                future.set_result(record)

    def _fail(
        self,
        items: Sequence[tuple[AuditEvent, bytes | None, asyncio.Future[AuditRecord]]],
        message: str,
    ) -> None:
        for _, _, future in items:
            if not future.done():
                future.set_exception(self._unavailable(message))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
