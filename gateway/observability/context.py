"""The request id of the request being served, visible to every log line written for it."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("jamajama_request_id", default=None)

_PREFIX = os.urandom(4).hex()
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A process-unique id, cheap enough for every request (a random prefix and a counter)."""
    return f"{_PREFIX}{next(_COUNTER):010x}"
