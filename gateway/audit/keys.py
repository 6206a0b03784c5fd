"""The audit log's key material: the subject-hash key and the signing key.

Keys come from the configuration (``subject_key``, ``signing_key``, usually from
``JAMAJAMA_AUDIT__*`` variables) or from secret files (``subject_key_file``,
``signing_key_file``: a mounted Docker or Kubernetes secret), never from a file inside the
database's directory: whoever copies or rewrites the database must not get the key that makes a
rewrite verify, or that turns subject hashes back into NIKs by trying every NIK.

The production profile (any start that is not ``jamajama dev`` / ``--dev-auth``,
docs/configuration.md) refuses to start without both keys. Outside it (development, tools), a
missing subject key is created next to the embedded database as before, and records are unsigned.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from gateway.audit.config import AuditSection
from gateway.sections import ConfigError

logger = logging.getLogger("jamajama.audit")


class AuditKeyError(ConfigError):
    """An audit key is missing in production, given twice, unreadable, or kept beside the data."""

    code = "AUDIT_KEY_REFUSED"


@dataclass(frozen=True, slots=True)
class AuditKeys:
    subject: bytes
    signing: bytes | None


def audit_keys(section: AuditSection, *, production: bool) -> AuditKeys:
    """The keys of ``section``; raises ``AuditKeyError`` (see the module docstring)."""
    subject = _configured(section, "subject_key", section.subject_key, section.subject_key_file)
    signing = _configured(section, "signing_key", section.signing_key, section.signing_key_file)
    if production:
        missing = [
            f"audit.{name} (or audit.{name}_file)"
            for name, value in (("signing_key", signing), ("subject_key", subject))
            if value is None
        ]
        if section.backend == "postgres" and not (section.checkpoint_file or section.witness_url):
            missing.append(
                "audit.checkpoint_file or audit.witness_url (checkpoints outside the database)"
            )
        if missing:
            raise AuditKeyError(
                f"the production profile needs {' and '.join(missing)}: without a signing key the "
                "audit log can be rewritten undetectably; give it from a secret (environment "
                "variable or *_file), outside the database directory, or start with "
                "`jamajama dev` / --dev-auth for development"
            )
    if subject is None:
        if section.backend == "postgres":
            raise AuditKeyError("audit.subject_key (or subject_key_file) is required with postgres")
        subject = _generated(section.sqlite_path.with_suffix(".subject-key"))
    return AuditKeys(subject, signing)


def require_production_keys(section: AuditSection, auth_enabled: bool) -> None:
    """At a production start: refuse (``AuditKeyError``) unless the audit keys are configured.
    Nothing to check when no audit record will be written (audit or auth disabled)."""
    if section.enabled and auth_enabled:
        audit_keys(section, production=True)


def _configured(
    section: AuditSection, name: str, value: SecretStr | None, path: Path | None
) -> bytes | None:
    if value is not None and path is not None:
        raise AuditKeyError(f"give audit.{name} or audit.{name}_file, not both")
    if value is not None:
        return value.get_secret_value().encode()
    if path is None:
        return None
    if section.backend == "sqlite" and _inside(path, section.sqlite_path.parent):
        raise AuditKeyError(
            f"audit.{name}_file {path} is inside the audit database's directory "
            f"({section.sqlite_path.parent}): keep keys where a copy of the database does not go"
        )
    try:
        text = path.read_text().strip()
    except OSError as error:
        raise AuditKeyError(f"cannot read audit.{name}_file {path}: {error.strerror}") from error
    if not text:
        raise AuditKeyError(f"audit.{name}_file {path} is empty")
    return text.encode()


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _generated(path: Path) -> bytes:
    """A random key kept in ``path`` (created 0600 on first use): development only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.warning("created a new audit subject key in %s (development only)", path)
    return bytes.fromhex(path.read_text().strip())
