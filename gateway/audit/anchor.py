"""When checkpoints are written: every N appended records or T seconds after the first record not
yet anchored, whichever comes first, and once more at shutdown.

Writing happens in the background: an append (on the request path) never waits for a
checkpoint, and a failing checkpoint (store, file or witness down) is logged, never raised into
the request. The store records the checkpoint under its writer lock; then it goes to the
append-only file and the witness. Every replica anchors what it appended; one at a time.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.audit.checkpoints import Checkpoint, CheckpointSigner, unsigned
from gateway.audit.store import AuditStore, AuditUnavailableError
from gateway.audit.witness import CheckpointFile, UrlWitness

logger = logging.getLogger("jamajama.audit")


class Anchor:
    """Writes signed checkpoints of one chain to the store, a file and a witness."""

    def __init__(
        self,
        store: AuditStore,
        chain: str,
        signer: CheckpointSigner | None,
        *,
        file: CheckpointFile | None = None,
        witness: UrlWitness | None = None,
        every_records: int = 1000,
        every_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.chain = chain
        self.signer = signer
        self.file = file
        self.witness = witness
        self.every_records = every_records
        self.every_seconds = every_seconds
        self._pending = 0
        self._timer: asyncio.Task[None] | None = None
        self._writing: set[asyncio.Task[Checkpoint | None]] = set()
        self._lock = asyncio.Lock()

    def _make(self, count: int, head: str) -> Checkpoint:
        if self.signer is None:
            return unsigned(self.chain, count, head)
        return self.signer.sign(self.chain, count, head)

    def appended(self) -> None:
        """One more record: write now if N are waiting, else make sure the timer runs."""
        self._pending += 1
        if self._pending >= self.every_records:
            self._pending = 0
            self._cancel_timer()
            task = asyncio.get_running_loop().create_task(self._write_quietly())
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._after_delay())

    async def _after_delay(self) -> None:
        await asyncio.sleep(self.every_seconds)
        self._timer = None
        self._pending = 0
        await self._write_quietly()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _write_quietly(self) -> Checkpoint | None:
        try:
            return await self.write()
        except (AuditUnavailableError, OSError) as error:
            logger.warning("audit checkpoint not written: %s", error)
            return None

    async def write(self) -> Checkpoint | None:
        """Checkpoint the head now (None: nothing new, or another writer holds the lock)."""
        async with self._lock:
            checkpoint = await self.store.checkpoint(self._make)
            if checkpoint is None:
                return None
            if self.file is not None:
                await asyncio.to_thread(self.file.append, checkpoint)
            if self.witness is not None:
                await self.witness.send(checkpoint)
            return checkpoint

    async def aclose(self) -> None:
        """Stop the timer, finish writes in flight and anchor the final head (shutdown)."""
        self._cancel_timer()
        while self._writing:
            await asyncio.gather(*list(self._writing), return_exceptions=True)
        if self._pending:
            self._pending = 0
            await self._write_quietly()
