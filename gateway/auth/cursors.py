"""Sealed cursors: what a subgraph calls a cursor never reaches the client as it is.

A subgraph's cursor says where a page ends, often with the last key (a NIK). The gateway seals it
on the way out (AES-GCM, authenticated with the application and the field coordinate the page
belongs to, ``Query.daftarPenduduk``) and unseals it when it comes back as ``after``. A cursor
that was forged, altered, minted for another application or taken from another list fails to
unseal: the request is answered with ``BAD_USER_INPUT`` (reason ``INVALID_CURSOR``) and no
subgraph is called with it.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.auth.identifiers import derive
from gateway.errors import GatewayError

PREFIX = "c1."
INVALID_CURSOR = "INVALID_CURSOR"


class InvalidCursorError(GatewayError):
    """An ``after`` argument that is not a cursor this gateway sealed for this caller and list."""

    code = "BAD_USER_INPUT"


class CursorSeal:
    """Seals and unseals cursors with a key derived from the identifiers key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(derive(key, "cursor"))

    @staticmethod
    def _context(application: str | None, coordinate: str) -> bytes:
        return f"{application or ''}\0{coordinate}".encode()

    def seal(self, cursor: str, application: str | None, coordinate: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, cursor.encode(), self._context(application, coordinate))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, token: object, application: str | None, coordinate: str) -> str:
        """The subgraph's cursor; ``InvalidCursorError`` unless this gateway sealed ``token``
        for ``application`` and ``coordinate``."""
        if isinstance(token, str) and token.startswith(PREFIX):
            body = token[len(PREFIX) :]
            try:
                raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
                if len(raw) > 12:
                    context = self._context(application, coordinate)
                    return self._aead.decrypt(raw[:12], raw[12:], context).decode()
            except (binascii.Error, ValueError, InvalidTag, UnicodeError):
                pass
        raise InvalidCursorError(
            f"`{coordinate.rpartition('.')[2]}`'s cursor is not one this gateway gave this "
            "application for this list: use an endCursor returned by a previous page",
            reason=INVALID_CURSOR,
        )
