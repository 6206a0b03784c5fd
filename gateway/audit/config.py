"""The ``[audit]`` configuration section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from gateway.sections import Section


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
    #: HMAC key for the data-subject hashes (NIKs are never stored in clear). Required with
    #: PostgreSQL; with SQLite a random key is created next to the database when absent.
    subject_key: SecretStr | None = None
    #: optional HMAC key signing every record (a hash chain alone can be recomputed by whoever
    #: can write the store; a signature needs this key, kept outside the store)
    signing_key: SecretStr | None = None
    #: entity type -> field that identifies a data subject (collected for every object returned)
    subject_fields: dict[str, str] = Field(
        default_factory=lambda: {"Penduduk": "nik", "Keluarga": "noKk"}
    )
    #: refuse operations touching personal data while the audit store is unavailable
    fail_closed: bool = True
