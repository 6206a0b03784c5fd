"""What clients may see of errors: internal errors masked, subgraph details redacted by default.

An ``INTERNAL_SERVER_ERROR`` carries only a generic message and the request id
(``extensions.requestId``) that finds the details in the logs. A subgraph's own errors
(``extensions.serviceName``) keep their path and code; their message is replaced unless the
configuration passes subgraph errors through. An error a subgraph caused is named by one of
``SUBGRAPH_TAGS``: ``serviceName`` on its own GraphQL errors (Apollo Gateway's shape),
``service`` on the gateway's failures to call it — HTTP status text, timeout, size — (Apollo
Router's shape, which the reference corpus checks). ``subgraph_of`` reads both, so this is the
one place that decides what of a subgraph reaches clients.
"""

from __future__ import annotations

from typing import Any

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
REDACTED = "Subgraph errors redacted"
#: the extensions naming the subgraph an error came from
SUBGRAPH_TAGS = ("serviceName", "service")


def subgraph_of(extensions: dict[str, Any]) -> tuple[str, Any] | None:
    """``(tag, subgraph)`` of an error a subgraph caused, else None."""
    for tag in SUBGRAPH_TAGS:
        if extensions.get(tag) is not None:
            return tag, extensions[tag]
    return None


def mask_errors(
    errors: list[dict[str, Any]], request_id: str, redact_subgraphs: bool
) -> list[dict[str, Any]]:
    masked = []
    for error in errors:
        extensions = error.get("extensions")
        if not isinstance(extensions, dict):
            masked.append(error)
            continue
        code = extensions.get("code")
        origin = subgraph_of(extensions)
        service = origin[1] if origin is not None else None
        if redact_subgraphs and origin is not None:
            redacted: dict[str, Any] = {"message": REDACTED}
            if "path" in error:
                redacted["path"] = error["path"]
            redacted["extensions"] = {"code": code, origin[0]: service}
            if code == INTERNAL_SERVER_ERROR:
                redacted["extensions"]["requestId"] = request_id
            masked.append(redacted)
        elif code == INTERNAL_SERVER_ERROR:
            masked.append(
                {
                    **{k: v for k, v in error.items() if k != "extensions"},
                    "message": error.get("message") if service else "Internal server error",
                    "extensions": {**extensions, "requestId": request_id},
                }
            )
        else:
            masked.append(error)
    return masked
