"""Identifiers (NIK, No. KK, NISN, JKN card number): declared once, pseudonymised wherever they go.

``[auth.identifiers]`` says which response fields carry each kind of identifier, which arguments
look a record up by it, and which scope reveals it. A caller without the reveal rights (the scope
and every reveal policy, i.e. an approved purpose) reads a **per-application pseudonym** instead:
a keyed HMAC of (kind, application, value). It is stable for that application, so its joins and
de-duplication still work, and it is useless to anyone else: another application reads another
pseudonym for the same person, and nothing in it (no region digits, no birth date) can be
rebuilt from the other fields of the response. Pseudonyms are not reversible; a lookup by
identifier needs the reveal rights (docs/security.md, "Identifiers").

The key comes from configuration (``key`` or ``key_file``, a secret file); ``jamajama dev`` uses
the development key. Without either, a random key per process is used (and a warning logged).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from gateway.audit.hashing import KeyedHash
from gateway.auth.config import IdentifiersSection
from gateway.auth.principal import Grants
from gateway.errors import GatewayError

logger = logging.getLogger("jamajama.identifiers")

#: shortest acceptable key (bytes)
MIN_KEY_BYTES = 32


def identifier_key(section: IdentifiersSection) -> bytes:
    """The configured key material (``key`` or the ``key_file`` secret), else a random one."""
    if section.key is not None:
        key = section.key.get_secret_value().encode()
    elif section.key_file is not None:
        try:
            key = section.key_file.read_bytes().strip()
        except OSError as error:
            raise GatewayError(
                f"auth.identifiers.key_file cannot be read: {error}", code="CONFIG_INVALID"
            ) from error
    else:
        logger.warning(
            "auth.identifiers has no key: pseudonyms and cursors use a random key of this process "
            "(they change at restart and differ between replicas); set key_file"
        )
        return _process_key()
    if len(key) < MIN_KEY_BYTES:
        raise GatewayError(
            f"auth.identifiers key must be at least {MIN_KEY_BYTES} bytes", code="CONFIG_INVALID"
        )
    return key


def require_identifier_key(section: IdentifiersSection) -> None:
    """At a production start: refuse unless a shared key is configured. Without one every
    replica and every restart would pseudonymise differently and refuse each other's cursors."""
    if section.key is None and section.key_file is None:
        raise GatewayError(
            "auth.identifiers needs key or key_file (at least 32 bytes, shared by every replica) "
            "outside development: `openssl rand -hex 32 > /run/secrets/identifier-key` and set "
            "JAMAJAMA_AUTH__IDENTIFIERS__KEY_FILE",
            code="IDENTIFIER_KEY_REFUSED",
        )


@functools.cache
def _process_key() -> bytes:
    """One random key per process: a hot reload keeps pseudonyms and open cursors valid."""
    return secrets.token_bytes(MIN_KEY_BYTES)


def derive(key: bytes, purpose: str) -> bytes:
    """A sub-key for one use (pseudonyms, cursors), so no two uses share a key."""
    return hmac.new(key, f"jamajama/{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    reveal_scope: str
    pattern: re.Pattern[str]


class Identifiers:
    """The declaration, read once: what is an identifier, who sees it, and its pseudonym."""

    def __init__(self, section: IdentifiersSection, key: bytes) -> None:
        self.section = section
        self._key = KeyedHash(derive(key, "pseudonym"))
        self.kinds = {
            name: Kind(name, kind.reveal_scope, re.compile(rf"(?<!\d){kind.pattern}(?!\d)"))
            for name, kind in section.kinds.items()
        }
        #: response field coordinate -> kind
        self.fields = {c: name for name, kind in section.kinds.items() for c in kind.fields}
        #: ``Type.field`` -> (argument, kind) of each lookup by identifier
        self.arguments: dict[str, tuple[str, str]] = {}
        for name, kind in section.kinds.items():
            for coordinate in kind.arguments:
                field, _, argument = coordinate.rpartition(".")
                self.arguments[field] = (argument, name)
        self.cursor_fields = frozenset(section.cursor_fields)
        self.cursor_argument = section.cursor_argument
        # longest patterns first: a 16-digit NIK is not scrubbed as a 13-digit JKN number
        self._text = sorted(self.kinds.values(), key=lambda k: -len(k.pattern.pattern))

    def revealed(self, grants: Grants) -> frozenset[str]:
        """The kinds ``grants`` see in clear: the reveal scope and every reveal policy."""
        if not all(grants.policy_granted(p) for p in self.section.reveal_policies):
            return frozenset()
        return frozenset(k.name for k in self.kinds.values() if k.reveal_scope in grants.scopes)

    def hidden(self, grants: Grants) -> frozenset[str]:
        return frozenset(self.kinds) - self.revealed(grants)

    def pseudonym(self, kind: str, application: str | None, value: str) -> str:
        """``NIK-…``: stable for (kind, application, value), unlinkable across applications."""
        message = "\0".join((kind, application or "", value)).encode()
        digest = self._key.digest(message)[:15]
        return f"{kind.upper().replace('_', '')}-{base64.b32encode(digest).decode().lower()}"

    def scrub_text(self, text: str, hidden: frozenset[str]) -> str:
        """Every identifier of a hidden kind in free text replaced by a full mask."""
        for kind in self._text:
            if kind.name in hidden:
                text = kind.pattern.sub(lambda m: "x" * len(m.group(0)), text)
        return text
