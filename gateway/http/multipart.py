"""GraphQL responses as ``multipart/mixed``, byte for byte as Hive Gateway 2.15.1 sends them.

A client that puts ``multipart/mixed`` (e.g. Apollo Client's
``multipart/mixed;deferSpec=20220824,application/json``) before any JSON type in its ``Accept``
gets ``Content-Type: multipart/mixed; boundary="-"`` and the body

    \\r\\n---\\r\\nContent-Type: application/json; charset=utf-8\\r\\nContent-Length: N\\r\\n\\r\\n
    {response JSON}\\r\\n-----\\r\\n

one part per result (graphql-yoga's multipart processor): the complete result when the operation
defers nothing, else the primary part (``hasNext: true``) sent at once and each ``incremental``
part (gateway/executor/incremental.py) as soon as it is ready. See docs/defer.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, Final

import orjson
from starlette.responses import Response, StreamingResponse

MULTIPART_MIXED: Final = "multipart/mixed"
CONTENT_TYPE: Final = 'multipart/mixed; boundary="-"'
_JSON_TYPES = frozenset(
    {"application/json", "application/graphql-response+json", "application/*", "*/*"}
)


def takes_multipart(accept: str | None) -> bool:
    """The client accepts ``multipart/mixed`` at all (no ``Accept``, or ``*/*``, counts): what
    an operation with ``@defer`` needs; Hive answers 406 otherwise."""
    if not accept:
        return True
    return any(
        part.split(";", 1)[0].strip().lower() in (MULTIPART_MIXED, "multipart/*", "*/*")
        for part in accept.split(",")
    )


def wants_multipart(accept: str | None) -> bool:
    """``multipart/mixed`` comes before any JSON type the client accepts (Hive's negotiation:
    the first media type in the client's order that a result processor serves)."""
    if not accept:
        return False
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == MULTIPART_MIXED:
            return True
        if media in _JSON_TYPES:
            return False
    return False


def _part(result: dict[str, Any]) -> bytes:
    """One JSON part and the boundary after it."""
    encoded = orjson.dumps(result)
    return (
        b"\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: "
        + str(len(encoded)).encode()
        + b"\r\n\r\n"
        + encoded
        + b"\r\n---"
    )


_OPENING: Final = b"\r\n---"
_CLOSING: Final = b"--\r\n"


def multipart_body(results: Iterable[dict[str, Any]]) -> bytes:
    """The multipart body carrying ``results`` in order, each one JSON part."""
    return b"".join((_OPENING, *(_part(result) for result in results), _CLOSING))


def multipart_response(
    parts: list[dict[str, Any]], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The parts of one response (one: the complete result) as a multipart response."""
    return Response(
        multipart_body(parts),
        status_code=status_code,
        headers={"content-type": CONTENT_TYPE, **(headers or {})},
    )


def multipart_stream(
    first: dict[str, Any],
    later: AsyncIterator[dict[str, Any]],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """An incremental response: ``first`` (the primary part) is sent at once, each of ``later``
    as soon as it is produced; the bytes are ``multipart_body``'s for the same parts."""

    async def body() -> AsyncIterator[bytes]:
        try:
            yield _OPENING + _part(first)
            async for part in later:
                yield _part(part)
            yield _CLOSING
        finally:
            await _close(later)  # the client left: the deferred operations still running stop

    return StreamingResponse(
        body(),
        status_code=status_code,
        headers={"content-type": CONTENT_TYPE, **(headers or {})},
    )


async def _close(parts: AsyncIterator[dict[str, Any]]) -> None:
    close = getattr(parts, "aclose", None)
    if close is not None:
        await close()
