"""Coded errors of the mapping language (a selection that cannot be parsed)."""

from __future__ import annotations

from gateway.errors import GatewayError

SELECTION_SYNTAX = "CONNECTOR_SELECTION_SYNTAX"


class SelectionSyntaxError(GatewayError):
    """A selection (or URL/header expression) that does not parse; says where."""

    code = SELECTION_SYNTAX

    def __init__(self, message: str, source: str, offset: int) -> None:
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
        super().__init__(
            f"{message} (line {line}, column {column})", line=line, column=column, offset=offset
        )
        self.reason = message
        self.offset = offset
        self.line = line
        self.column = column
