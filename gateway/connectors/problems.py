"""Findings about a connector subgraph: coded problems, and the error listing them all."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import GatewayError

SCHEMA_INVALID = "CONNECTOR_SCHEMA_INVALID"
VERSION_UNSUPPORTED = "CONNECTOR_VERSION_UNSUPPORTED"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a connector subgraph: a stable code, a message, where."""

    code: str
    message: str
    coordinate: str = ""

    def __str__(self) -> str:
        where = f"{self.coordinate}: " if self.coordinate else ""
        return f"[{self.code}] {where}{self.message}"


class ConnectorSchemaError(GatewayError):
    """A connector subgraph that cannot be served; ``problems`` lists every finding."""

    code = SCHEMA_INVALID

    def __init__(self, subgraph: str, problems: list[Problem]) -> None:
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"the connectors of subgraph {subgraph!r} are invalid:\n{lines}",
            problems=[{"code": p.code, "message": p.message, "coordinate": p.coordinate}
                      for p in problems],
        )  # fmt: skip
        self.problems = problems
