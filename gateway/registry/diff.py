"""The schema diff a publisher reads: what a new supergraph adds, changes and removes for clients.

Each change is graded: **breaking** (an operation that worked may stop working; the registry's own
definition, ``checks.find_breaking_changes``), **dangerous** (operations keep validating but may
behave differently: a new enum value or union member a client may not handle, a changed default,
a new deprecation) or **safe** (a new type or field). The diff compares API schemas, i.e.
what clients see, not the subgraph SDL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graphql import (
    DangerousChangeType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    find_dangerous_changes,
)

from gateway.registry.checks import find_breaking_changes, find_new_deprecations

Action = Literal["added", "changed", "removed"]
Severity = Literal["breaking", "dangerous", "safe"]
SEVERITIES: tuple[Severity, ...] = ("breaking", "dangerous", "safe")

_ADDED_DANGERS = {
    DangerousChangeType.VALUE_ADDED_TO_ENUM,
    DangerousChangeType.TYPE_ADDED_TO_UNION,
    DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED,
    DangerousChangeType.OPTIONAL_ARG_ADDED,
    DangerousChangeType.IMPLEMENTED_INTERFACE_ADDED,
}


@dataclass(frozen=True, slots=True)
class SchemaChange:
    action: Action
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "severity": self.severity, "message": self.message}


def _action_of(kind: str) -> Action:
    if "REMOVED" in kind:
        return "removed"
    return "added" if kind.endswith("_ADDED") else "changed"


def _composite(schema: GraphQLSchema) -> dict[str, GraphQLObjectType | GraphQLInterfaceType]:
    return {
        name: t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) and not name.startswith("__")
    }


def _safe_and_deprecations(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    for name in new.type_map:
        if name.startswith("__") or name in old.type_map:
            continue
        changes.append(SchemaChange("added", "safe", f"type {name} was added"))
    old_types = _composite(old)
    for name, t in _composite(new).items():
        before = old_types.get(name)
        if before is None:
            continue
        for field_name in t.fields:
            if field_name not in before.fields:
                message = f"field {name}.{field_name} was added"
                changes.append(SchemaChange("added", "safe", message))
    deprecated = find_new_deprecations(old, new)
    changes += [SchemaChange("changed", "dangerous", c.message) for c in deprecated]
    return changes


def diff_schemas(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Every client-visible change from ``old`` to ``new``, breaking first."""
    changes = [
        SchemaChange(_action_of(c.kind), "breaking", c.message)
        for c in find_breaking_changes(old, new)
    ]
    for danger in find_dangerous_changes(old, new):
        action: Action = "added" if danger.type in _ADDED_DANGERS else "changed"
        changes.append(SchemaChange(action, "dangerous", danger.description.rstrip(".")))
    changes += _safe_and_deprecations(old, new)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(changes, key=lambda c: order[c.severity])


def render_diff(changes: list[SchemaChange]) -> list[str]:
    """Human lines (``  + field X.y was added (safe)``): + added, ~ changed, - removed."""
    if not changes:
        return ["  no change visible to clients"]
    sign = {"added": "+", "changed": "~", "removed": "-"}
    return [f"  {sign[c.action]} {c.message} ({c.severity})" for c in changes]
