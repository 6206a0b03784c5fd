"""Errors an OPD subgraph returns to its callers, each with a stable ``extensions.code``.

    GraphQLError                      (graphql-core)
     └── SubgraphError                 code, reason: the base of every expected error
          └── InvalidInput             BAD_USER_INPUT + a reason such as INVALID_NIK

Anything else raised while resolving is a bug: the schema masks it as ``INTERNAL_SERVER_ERROR``
with a generic message (see :func:`subgraphs.kit.app.federation_schema`), never a stack trace.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class SubgraphError(GraphQLError):
    """An expected error: its message is meant for the OPD developer who sent the request."""

    code = INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, extensions={"code": self.code, "reason": reason, **details})
        self.reason = reason


class InvalidInput(SubgraphError):
    """An argument or entity key is malformed (`reason` says which check failed)."""

    code = BAD_USER_INPUT
