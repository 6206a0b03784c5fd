"""The audit log the gateway writes to: events in, hash-chained durable records out.

Data subjects (NIK, KK numbers) are stored only as keyed hashes (HMAC-SHA256 with
``audit.subject_key``), so the log itself reveals no identifier, yet ``subject(nik)`` finds every
operation that touched a resident. ``append`` returns only once the record is durable; it raises
``AuditUnavailableError`` otherwise, and the gateway then withholds personal data (fail closed).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from gateway.audit.config import AuditSection
from gateway.audit.records import AuditEvent, AuditRecord, VerifyReport, subject_hash, verify_chain
from gateway.audit.store import (
    AuditStore,
    AuditUnavailableError,
    PostgresAuditStore,
    SqliteAuditStore,
)

logger = logging.getLogger("jamajama.audit")


class AuditLog:
    """Appends, verifies and searches one audit chain."""

    def __init__(
        self, store: AuditStore, subject_key: bytes, signing_key: bytes | None = None
    ) -> None:
        self.store = store
        self._subject_key = subject_key
        self._signing_key = signing_key

    def subject_hash(self, value: str) -> str:
        return subject_hash(self._subject_key, value)

    async def append(self, event: AuditEvent) -> AuditRecord:
        return await self.store.append(event, self._signing_key)

    async def verify(self) -> VerifyReport:
        return verify_chain(await self.store.records(), self._signing_key)

    async def subject(self, value: str) -> list[AuditRecord]:
        """Every record of an operation that returned data of the subject ``value`` (a NIK)."""
        return await self.store.by_subject(self.subject_hash(value))

    async def aclose(self) -> None:
        await self.store.aclose()


def _file_key(path: Path) -> bytes:
    """A random key kept in ``path`` (created 0600 on first use): the embedded default."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.warning("created a new audit subject key in %s; keep it with the log", path)
    return bytes.fromhex(path.read_text().strip())


def open_audit_log(section: AuditSection) -> AuditLog:
    """The configured audit log. A PostgreSQL store checks its schema now (an older one is
    refused: `jamajama migrate`) and connects on first use."""
    store: AuditStore
    if section.backend == "postgres":
        if not section.postgres_url:
            raise AuditUnavailableError("audit.postgres_url is required for backend postgres")
        if section.subject_key is None:
            raise AuditUnavailableError("audit.subject_key is required for backend postgres")
        postgres = PostgresAuditStore(section.postgres_url, section.table, section.migrate_at_start)
        postgres.check_schema()  # at start: an older schema refuses to start
        store = postgres
    else:
        store = SqliteAuditStore(section.sqlite_path, section.table)
    if section.subject_key is not None:
        subject_key = section.subject_key.get_secret_value().encode()
    else:
        subject_key = _file_key(section.sqlite_path.with_suffix(".subject-key"))
    signing = section.signing_key.get_secret_value().encode() if section.signing_key else None
    return AuditLog(store, subject_key, signing)
