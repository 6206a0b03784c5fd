"""Signed subgraph requests: a subgraph can refuse traffic that did not come through the gateway.

The gateway adds two headers to every subgraph request::

    x-jamajama-timestamp: 1764400000
    x-jamajama-signature: v1=<hex HMAC-SHA256(key, "<timestamp>.<subgraph name>." + body)>

The subgraph recomputes the HMAC with the shared key over the exact body bytes it received and
its own name, and refuses a request whose signature differs or whose timestamp is more than
``tolerance`` seconds away from its clock. Binding the subgraph name stops a request signed for
one subgraph from being replayed to another. Several keys may be accepted at once (rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

TIMESTAMP_HEADER = "x-jamajama-timestamp"
SIGNATURE_HEADER = "x-jamajama-signature"
VERSION = "v1"
DEFAULT_TOLERANCE = 300


def signature(key: bytes, timestamp: str, subgraph: str, body: bytes) -> str:
    message = b"%s.%s." % (timestamp.encode(), subgraph.encode()) + body
    return f"{VERSION}={hmac.new(key, message, hashlib.sha256).hexdigest()}"


class RequestSigner:
    """Signs subgraph requests with one key (the gateway side)."""

    def __init__(self, key: str | bytes) -> None:
        self._key = key.encode() if isinstance(key, str) else key

    def __call__(self, subgraph: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._key, timestamp, subgraph, body),
        }


def verify(
    keys: Iterable[bytes],
    headers: Mapping[str, str],
    body: bytes,
    subgraph: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str | None:
    """``None`` if the request is signed by one of ``keys``, else why it is refused."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER)
    if not timestamp or not given:
        return "the request is not signed by the gateway"
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return "the signature timestamp is not a number"
    if age > tolerance:
        return "the signature has expired"
    for key in keys:
        if hmac.compare_digest(signature(key, timestamp, subgraph, body), given):
            return None
    return "the signature does not match"
