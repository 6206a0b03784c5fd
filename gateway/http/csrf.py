"""CSRF prevention (as Apollo Router and GraphQL Yoga do it).

A browser sends a cross-site request without asking first (no CORS preflight) only when it is a
GET, or a POST whose content type is missing or one of the three "simple" ones. Such a request
must carry one of the configured headers: setting a custom header forces a preflight, which the
closed CORS policy then refuses. JSON POSTs are always preflighted and pass.
"""

from __future__ import annotations

from collections.abc import Mapping

SIMPLE_CONTENT_TYPES = frozenset(
    {"", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
CSRF_ERROR = "CSRF_ERROR"


def media_type_of(content_type: str | None) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def needs_preflight_header(method: str, media_type: str) -> bool:
    """Whether a browser could have sent this request cross-site without a preflight."""
    return method == "GET" or media_type in SIMPLE_CONTENT_TYPES


def has_preflight_header(headers: Mapping[str, str], required: tuple[str, ...]) -> bool:
    return any(name in headers for name in required)


def csrf_message(required: tuple[str, ...]) -> str:
    return (
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). "
        "Send it as a POST with content-type application/json, or add one of these headers: "
        + ", ".join(required)
        + "."
    )
