"""Signed subgraph requests: a subgraph can refuse traffic that did not come through the gateway.

The gateway adds three headers to every subgraph request::

    x-jamajama-timestamp: 1764400000
    x-jamajama-nonce: 5f0c...  (128 random bits, hex)
    x-jamajama-signature: v2=<hex HMAC-SHA256(key, canonical request)>

The canonical request (version 2) is, one per line: ``v2``, the method, the raw path, the raw query
string, the SHA-256 of the body (hex), the timestamp, the subgraph name and the nonce. Binding
method, path and query string stops a captured signature from being re-aimed (replayed as a GET
whose query string carries another query); binding the subgraph name stops it from being replayed
to another subgraph; the nonce lets the subgraph refuse the same request twice (its replay cache,
subgraphs/kit/signing.py); the timestamp bounds how long the cache must remember a nonce
(``tolerance`` seconds either way). Several keys may be accepted at once (rotation).

Version 1 (timestamp, subgraph and body only) is no longer accepted: it is the hole this version
closes. Gateway and subgraphs are upgraded together (docs/security.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from yarl import URL

TIMESTAMP_HEADER = "x-jamajama-timestamp"
NONCE_HEADER = "x-jamajama-nonce"
SIGNATURE_HEADER = "x-jamajama-signature"
VERSION = "v2"
#: seconds a signature is valid either side of the subgraph's clock (and a nonce is remembered)
DEFAULT_TOLERANCE = 60


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What a signature covers, besides the key."""

    method: str
    path: str
    query: str
    body: bytes
    timestamp: str
    subgraph: str
    nonce: str

    def canonical(self) -> bytes:
        digest = hashlib.sha256(self.body).hexdigest()
        fields = (VERSION, self.method.upper(), self.path, self.query, digest)
        return "\n".join((*fields, self.timestamp, self.subgraph, self.nonce)).encode()


def signature(key: bytes, request: SignedRequest) -> str:
    return f"{VERSION}={hmac.new(key, request.canonical(), hashlib.sha256).hexdigest()}"


class RequestSigner:
    """Signs subgraph requests with one key (the gateway side)."""

    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode() if isinstance(key, str) else key

    def __call__(
        self, subgraph: str, url: str, body: bytes, method: str = "POST"
    ) -> dict[str, str]:
        """The headers for ``method url`` with ``body``; path and query as aiohttp (yarl)
        sends them, so a client that encodes them otherwise must send ``str(URL(url))``."""
        target = URL(url)
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        request = SignedRequest(
            method, target.raw_path, target.raw_query_string, body, timestamp, subgraph, nonce
        )
        return {
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(self._key, request),
        }


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose signature matched: its nonce and timestamp (for the replay cache)."""

    nonce: str
    timestamp: int


def verify(
    keys: Iterable[bytes],
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    subgraph: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Verified | str:
    """``Verified`` if the request is signed by one of ``keys``, else why it is refused."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    nonce = headers.get(NONCE_HEADER)
    given = headers.get(SIGNATURE_HEADER)
    if not timestamp or not given:
        return "the request is not signed by the gateway"
    if not given.startswith(f"{VERSION}="):
        return f"the signature is not version {VERSION}"
    if not nonce or len(nonce) > 64:
        return "the signature has no nonce"
    try:
        seconds = int(timestamp)
    except ValueError:
        return "the signature timestamp is not a number"
    if abs((time.time() if now is None else now) - seconds) > tolerance:
        return "the signature has expired"
    request = SignedRequest(method, path, query, body, timestamp, subgraph, nonce)
    for key in keys:
        if hmac.compare_digest(signature(key, request), given):
            return Verified(nonce, seconds)
    return "the signature does not match"
