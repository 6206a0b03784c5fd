"""Codes of the limit errors (Apollo Router's names where it has one)."""

from __future__ import annotations

from typing import Any

MAX_LENGTH = "MAX_LENGTH_LIMIT"
MAX_TOKENS = "MAX_TOKENS_LIMIT"
MAX_DEPTH = "MAX_DEPTH_LIMIT"
MAX_ALIASES = "MAX_ALIASES_LIMIT"
MAX_ROOT_FIELDS = "MAX_ROOT_FIELDS_LIMIT"
MAX_DIRECTIVES = "MAX_DIRECTIVES_LIMIT"
COST_TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"


class LimitExceeded(Exception):
    """A document over a limit; ``errors`` are the response errors (one per exceeded limit)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


def limit_error(code: str, message: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}
