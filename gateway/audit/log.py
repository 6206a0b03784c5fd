"""The audit log the gateway writes to: events in, hash-chained durable records out.

Data subjects (NIK, KK numbers) are stored only as keyed hashes (HMAC-SHA256 with
``audit.subject_key``), so the log itself reveals no identifier, yet ``subject(nik)`` finds every
operation that touched a resident. ``append`` returns only once the record is durable; it raises
``AuditUnavailableError`` otherwise — also when the store does not answer within
``write_timeout`` — and the gateway then withholds personal data (fail closed).

Records of operations without personal data nobody waits for: ``append_later`` puts them in a
bounded queue written by one background task. A full queue drops the record (counted, logged)
instead of piling up work that would later stand between a personal request and the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.audit.anchor import Anchor
from gateway.audit.checkpoints import Checkpoint, CheckpointSigner, check_checkpoints
from gateway.audit.config import AuditSection
from gateway.audit.hashing import KeyedHash
from gateway.audit.keys import audit_keys
from gateway.audit.records import AuditEvent, AuditRecord, VerifyReport, verify_chain
from gateway.audit.store import (
    AuditStore,
    AuditUnavailableError,
    PostgresAuditStore,
    SqliteAuditStore,
)
from gateway.audit.witness import CheckpointFile, UrlWitness

logger = logging.getLogger("jamajama.audit")

#: background records handed to the store at once (its group commit batches them)
_BATCH = 256


class AuditLog:
    """Appends, verifies and searches one audit chain; anchors its head with checkpoints."""

    def __init__(
        self,
        store: AuditStore,
        subject_key: bytes,
        signing_key: bytes | None = None,
        *,
        anchor: Anchor | None = None,
        write_timeout: float = 2.0,
        queue_size: int = 1000,
    ) -> None:
        self.store = store
        self._subject_hash = KeyedHash(subject_key)
        self._signing_key = signing_key
        self.anchor = anchor
        self.write_timeout = write_timeout
        self._queue: deque[AuditEvent] = deque()
        self._queue_size = queue_size
        self._writer: asyncio.Task[None] | None = None
        self._in_flight = 0
        #: background records not written: ``queue_full`` or ``unavailable``
        self.dropped: dict[str, int] = {"queue_full": 0, "unavailable": 0}
        #: observers (metrics): the queue depth when it changes, a dropped record's reason
        self.on_queue_depth: Callable[[int], None] | None = None
        self.on_dropped: Callable[[str], None] | None = None

    @property
    def public_key(self) -> str | None:
        """The checkpoints' Ed25519 public key (hex), to hand to whoever verifies them."""
        if self._signing_key is None:
            return None
        return CheckpointSigner(self._signing_key).public_key

    def subject_hash(self, value: str) -> str:
        """The keyed hash under which ``value`` (a NIK, a KK number) is filed."""
        return self._subject_hash(value)

    async def append(self, event: AuditEvent) -> AuditRecord:
        try:
            async with asyncio.timeout(self.write_timeout):
                record = await self.store.append(event, self._signing_key)
        except TimeoutError as error:
            raise AuditUnavailableError(
                f"the audit store did not answer within {self.write_timeout:g} s"
            ) from error
        if self.anchor is not None:
            self.anchor.appended()
        return record

    @property
    def queue_depth(self) -> int:
        """Background records not written yet: queued, or handed to the store and not committed."""
        return len(self._queue) + self._in_flight

    def append_later(self, event: AuditEvent) -> bool:
        """Queue the record of an operation without personal data; False when the queue is full
        and the record is dropped (never blocks the request)."""
        if self.queue_depth >= self._queue_size:
            self._drop("queue_full", "the background queue is full")
            return False
        self._queue.append(event)
        self._depth_changed()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())
        return True

    async def drain(self) -> None:
        """Wait until the queued records are written (shutdown, tests)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer])

    async def _write_queued(self) -> None:
        while self._queue:
            # everything queued at once: the store commits them together (group commit)
            events = [self._queue.popleft() for _ in range(min(len(self._queue), _BATCH))]
            self._in_flight = len(events)
            try:
                results = await asyncio.gather(
                    *(self.append(event) for event in events), return_exceptions=True
                )
            finally:
                self._in_flight = 0
            for result in results:
                if isinstance(result, AuditUnavailableError):
                    self._drop("unavailable", result.message)
                elif isinstance(result, Exception):  # a bug must not stop the writer
                    logger.error(
                        "audit record of an operation without personal data lost",
                        exc_info=result,
                    )
                    self._drop("unavailable", "unexpected error")
            self._depth_changed()

    def _drop(self, reason: str, detail: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if self.on_dropped is not None:
            self.on_dropped(reason)
        count = self.dropped[reason]
        if count & (count - 1) == 0:  # 1st, 2nd, 4th, 8th...: a log line, not a log flood
            logger.warning(
                "audit record of an operation without personal data dropped (%s, %d so far): %s",
                reason,
                count,
                detail,
            )

    def _depth_changed(self) -> None:
        if self.on_queue_depth is not None:
            self.on_queue_depth(self.queue_depth)

    async def checkpoint(self) -> Checkpoint | None:
        """Anchor the head now (``jamajama audit checkpoint``, tests)."""
        if self.anchor is None:
            return None
        return await self.anchor.write()

    async def verify(
        self, files: Sequence[Path] = (), public_key: str | None = None
    ) -> VerifyReport:
        """The chain's links, hashes and signatures, then every checkpoint (the store's, the
        configured file's and ``files``, e.g. a witness's copy) against it. ``public_key``
        (default: derived from the signing key) makes unsigned or forged checkpoints problems."""
        records = await self.store.records()
        report = verify_chain(records, self._signing_key)
        found: list[tuple[str, Checkpoint]] = [
            ("database", c) for c in await self.store.checkpoints()
        ]
        sources = [CheckpointFile(p) for p in files]
        if self.anchor is not None and self.anchor.file is not None:
            sources.append(self.anchor.file)
        for source in sources:
            found += [(str(source.path), c) for c in await asyncio.to_thread(source.read)]
        if self.anchor is not None:  # a file may be shared by several chains
            found = [(where, c) for where, c in found if c.chain == self.anchor.chain]
        key = public_key or self.public_key
        checked = check_checkpoints(records, found, key)
        return dataclasses.replace(
            report,
            problems=report.problems + checked.problems,
            checkpoints=checked.checkpoints,
            anchored=checked.anchored,
        )

    async def subject(self, value: str) -> list[AuditRecord]:
        """Every record of an operation that returned data of the subject ``value`` (a NIK)."""
        return await self.store.by_subject(self.subject_hash(value))

    async def aclose(self) -> None:
        """Write the queued records, anchor the final head, then close the store."""
        await self.drain()
        if self.anchor is not None:
            await self.anchor.aclose()
        await self.store.aclose()


def checkpoint_file(section: AuditSection) -> Path | None:
    """The append-only checkpoint file: configured, or next to an embedded database."""
    if section.checkpoint_file is not None:
        return section.checkpoint_file
    if section.backend == "sqlite":
        return section.sqlite_path.with_suffix(".checkpoints.jsonl")
    return None


def open_audit_log(section: AuditSection, *, production: bool = False) -> AuditLog:
    """The configured audit log. A PostgreSQL store checks its schema now (an older one is
    refused: `jamajama migrate`) and connects on first use. ``production`` refuses to open
    without the keys (gateway/audit/keys.py)."""
    keys = audit_keys(section, production=production)
    store: AuditStore
    if section.backend == "postgres":
        if not section.postgres_url:
            raise AuditUnavailableError("audit.postgres_url is required for backend postgres")
        postgres = PostgresAuditStore(
            section.postgres_url,
            section.table,
            section.migrate_at_start,
            pool_size=section.pool_size,
            lock_timeout=section.lock_timeout_seconds,
            statement_timeout=section.statement_timeout_seconds,
        )
        postgres.check_schema()  # at start: an older schema refuses to start
        store = postgres
    else:
        store = SqliteAuditStore(
            section.sqlite_path, section.table, busy_timeout=section.write_timeout_seconds
        )
    checkpoints = checkpoint_file(section)
    anchor = Anchor(
        store,
        section.table,
        CheckpointSigner(keys.signing) if keys.signing is not None else None,
        file=CheckpointFile(checkpoints) if checkpoints is not None else None,
        witness=UrlWitness(section.witness_url, section.witness_timeout_seconds)
        if section.witness_url
        else None,
        every_records=section.checkpoint_every_records,
        every_seconds=section.checkpoint_every_seconds,
    )
    return AuditLog(
        store,
        keys.subject,
        keys.signing,
        anchor=anchor,
        write_timeout=section.write_timeout_seconds,
        queue_size=section.background_queue_size,
    )
