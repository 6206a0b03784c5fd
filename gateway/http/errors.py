"""What clients may see of errors: internal errors masked, subgraph details redacted by default.

An ``INTERNAL_SERVER_ERROR`` carries only a generic message and the request id
(``extensions.requestId``) that finds the details in the logs. A subgraph's own errors
(``extensions.serviceName``) keep their path and code; their message is replaced unless the
configuration passes subgraph errors through. ``serviceName`` is the one tag of every error a
subgraph caused — its GraphQL errors and the transport's failures (status, timeout, size) alike —
so this is the one place that decides what of a subgraph reaches clients.
"""

from __future__ import annotations

from typing import Any

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
REDACTED = "Subgraph errors redacted"


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
        service = extensions.get("serviceName")
        if redact_subgraphs and service is not None:
            redacted: dict[str, Any] = {"message": REDACTED}
            if "path" in error:
                redacted["path"] = error["path"]
            redacted["extensions"] = {"code": code, "serviceName": service}
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
