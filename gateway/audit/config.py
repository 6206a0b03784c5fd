"""The ``[audit]`` configuration section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from gateway.sections import Section

_SUBJECTS: dict[str, str | list[str]] = {
    "Penduduk": "nik",
    "Keluarga": ["noKk", "anggota.nik"],
    "PesertaDidik": "penduduk.nik",
}


class AuditSection(Section):
    """Where audit records go and how they are protected (see docs/security.md)."""

    enabled: bool = True
    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path = Path("var/audit.sqlite3")
    postgres_url: str | None = None
    table: str = Field(default="jamajama_audit", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
    #: PostgreSQL: apply schema migrations at start (default: refuse an older schema and name
    #: ``jamajama migrate``; SQLite always migrates at start)
    migrate_at_start: bool = False
    #: HMAC key for the data-subject hashes (NIKs are never stored in clear). Required in the
    #: production profile and with PostgreSQL (gateway/audit/keys.py)
    subject_key: SecretStr | None = None
    #: the same, read from a secret file (never inside the database's directory)
    subject_key_file: Path | None = None
    #: key signing every record (HMAC) and every checkpoint (Ed25519 derived from it); required
    #: in the production profile. A hash chain alone can be recomputed by whoever can write the
    #: store; a signature needs this key, kept outside the store
    signing_key: SecretStr | None = None
    signing_key_file: Path | None = None
    #: signed checkpoints of the chain head (gateway/audit/anchor.py): every N records or T
    #: seconds after the first record not yet anchored, whichever comes first
    checkpoint_every_records: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=60.0, gt=0)
    #: append-only file of checkpoints (one JSON per line); put it on another volume than the
    #: database. Unset: SQLite, next to the database (``<name>.checkpoints.jsonl``); PostgreSQL,
    #: none (the production profile then needs ``witness_url``)
    checkpoint_file: Path | None = None
    #: optional external witness: each checkpoint is POSTed there as JSON (best effort)
    witness_url: str | None = None
    witness_timeout_seconds: float = Field(default=5.0, gt=0)
    #: type -> path(s) to the identifiers of the data subjects an object of it concerns
    #: (collected for every object returned; gateway/audit/subjects.py)
    subject_fields: dict[str, str | list[str]] = Field(default_factory=lambda: dict(_SUBJECTS))
    #: refuse operations touching personal data while the audit store is unavailable
    fail_closed: bool = True
    #: seconds a request waits for its audit record before the store counts as unavailable
    #: (``AUDIT_UNAVAILABLE``): a stalled database withholds personal data, it never hangs requests
    write_timeout_seconds: float = Field(default=2.0, gt=0)
    #: PostgreSQL: connections of this process's pool (psycopg_pool)
    pool_size: int = Field(default=4, ge=1)
    #: PostgreSQL ``lock_timeout`` / ``statement_timeout`` of the audit connections (SQLite waits
    #: for its file lock up to ``write_timeout_seconds``)
    lock_timeout_seconds: float = Field(default=1.0, gt=0)
    statement_timeout_seconds: float = Field(default=2.0, gt=0)
    #: records of operations without personal data waiting to be written in the background;
    #: beyond this they are dropped (``jamajama_audit_records_dropped{reason="queue_full"}``)
    background_queue_size: int = Field(default=1000, ge=1)
