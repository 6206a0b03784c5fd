"""The gateway's error tree; each error has a stable ``code``, sent as ``extensions.code``.

GatewayError
├── SupergraphError          the supergraph SDL cannot be served (malformed, unsupported feature)
├── PlanningError            an operation could not be planned against the supergraph
└── SubgraphError            a subgraph call failed (HTTP error, malformed response, timeout)

Errors of a client's request (parse, validation, variables, limits, authorization) are not
exceptions: they are GraphQL error objects (``ErrorDict``) in the response, built where found.
Other packages add their subclasses (gateway/auth/errors.py, gateway/sections.py, ...).
"""

from __future__ import annotations

from typing import Any

#: a GraphQL error object of a response: ``message``, optional ``path``, ``extensions.code``
ErrorDict = dict[str, Any]


class GatewayError(Exception):
    """Base of all gateway errors: ``code`` is stable and documented, ``message`` is for people."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, code: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extensions = extensions

    def to_graphql_error(self) -> ErrorDict:
        """The error as a GraphQL response error object."""
        return {"message": self.message, "extensions": {"code": self.code, **self.extensions}}


class SupergraphError(GatewayError):
    """The supergraph cannot be served: malformed, or using a feature this gateway lacks."""

    code = "INVALID_SUPERGRAPH"


class PlanningError(GatewayError):
    """No correct plan exists for the operation (a bug, or an unsatisfiable supergraph)."""

    code = "QUERY_PLANNING_FAILED"


class SubgraphError(GatewayError):
    """A subgraph call failed; only the fields it was asked for degrade."""

    code = "SUBREQUEST_HTTP_ERROR"
