"""Reading a multipart/mixed response with Python's own MIME parser (``email``), as a client."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

import httpx


def parts_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON parts of a ``multipart/mixed`` response, in order."""
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/mixed"), content_type
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + response.content,
        policy=email.policy.HTTP,
    )
    assert message.is_multipart()
    parts = []
    for part in message.iter_parts():
        assert part.get_content_type() == "application/json"
        parts.append(json.loads(part.get_payload(decode=True)))
    return parts
