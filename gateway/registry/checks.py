"""Breaking changes between two supergraphs, judged against the operations actually seen.

A change is breaking when an operation that worked could stop working: a removed type, field,
argument or enum value; a changed field or argument type; a new required argument or input field;
an input field or argument made nullable -> non-null. Each change names the field coordinates
(``Type.field``) whose use makes it dangerous; a change is refused when an operation used one of
them within the usage window, and accepted with a warning otherwise. A new deprecation (field,
argument, enum value, input field) is never refused; the check names the consumer applications
that used what it endangers, as it does for every breaking change, so that they can be told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_non_null_type,
)

from gateway.registry.store import OperationUse


@dataclass(frozen=True, slots=True)
class Change:
    """One breaking change: what, where, and which field coordinates it endangers."""

    kind: str
    coordinate: str
    message: str
    endangered: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApplicationUse:
    """A consumer application's executions of operations that used an endangered field."""

    application: str
    count: int

    def to_dict(self) -> dict[str, object]:
        return {"application": self.application, "count": self.count}


def applications_of(uses: list[OperationUse]) -> list[ApplicationUse]:
    """Executions per application, most first (then by name)."""
    totals: dict[str, int] = {}
    for use in uses:
        totals[use.application] = totals.get(use.application, 0) + use.count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [ApplicationUse(name, count) for name, count in ranked]


def render_applications(applications: list[ApplicationUse]) -> str:
    """``sibansos (3x), sehat-lampung (2x)``."""
    return ", ".join(f"{a.application} ({a.count}x)" for a in applications)


@dataclass(slots=True)
class ChangeVerdict:
    """A change and the (application, operation) pairs that used its endangered fields."""

    change: Change
    used_by: list[OperationUse] = field(default_factory=list)
    #: False for a deprecation: reported with its applications, never refused
    breaking: bool = True

    @property
    def refused(self) -> bool:
        return self.breaking and bool(self.used_by)

    @property
    def applications(self) -> list[ApplicationUse]:
        return applications_of(self.used_by)

    @property
    def operations(self) -> list[tuple[str, int]]:
        """(operation name, executions) over every application, most first."""
        totals: dict[str, int] = {}
        for use in self.used_by:
            totals[use.operation] = totals.get(use.operation, 0) + use.count
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    def affected(self) -> dict[str, object]:
        """What the version log keeps: the change and the applications it affected."""
        return {
            "kind": "breaking" if self.breaking else "deprecated",
            "coordinate": self.change.coordinate,
            "message": self.change.message,
            "applications": [a.to_dict() for a in self.applications],
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.change.kind,
            "coordinate": self.change.coordinate,
            "message": self.change.message,
            "refused": self.refused,
            "used_by": [
                {
                    "operation": u.operation,
                    "hash": u.operation_hash,
                    "count": u.count,
                    "application": u.application,
                }
                for u in self.used_by
            ],
            "applications": [a.to_dict() for a in self.applications],
        }


def _fields_returning(schema: GraphQLSchema, type_name: str) -> list[str]:
    found = []
    for t in schema.type_map.values():
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) and not t.name.startswith("__"):
            for name, f in t.fields.items():
                uses_arg = any(
                    _mentions(schema, get_named_type(a.type).name, type_name)
                    for a in f.args.values()
                )
                if get_named_type(f.type).name == type_name or uses_arg:
                    found.append(f"{t.name}.{name}")
    return found


def _mentions(
    schema: GraphQLSchema, input_name: str, target: str, seen: set[str] | None = None
) -> bool:
    """Whether an input type is, or (through input fields) contains, ``target``."""
    if input_name == target:
        return True
    seen = seen or set()
    if input_name in seen:
        return False
    seen.add(input_name)
    t = schema.type_map.get(input_name)
    if isinstance(t, GraphQLInputObjectType):
        return any(
            _mentions(schema, get_named_type(f.type).name, target, seen) for f in t.fields.values()
        )
    return False


def _user_types(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {
        n: t
        for n, t in schema.type_map.items()
        if not n.startswith("__") and n not in ("String", "Int", "Float", "Boolean", "ID")
    }


def find_breaking_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    """Breaking changes from ``old`` to ``new`` (API schemas)."""
    changes: list[Change] = []
    old_types, new_types = _user_types(old), _user_types(new)
    for name, old_type in old_types.items():
        new_type = new_types.get(name)
        if new_type is None:
            changes.append(
                Change(
                    "TYPE_REMOVED",
                    name,
                    f"type {name} was removed",
                    tuple(_fields_returning(old, name))
                    + tuple(f"{name}.{f}" for f in getattr(old_type, "fields", {}) or {}),
                )
            )
        elif type(new_type) is not type(old_type):
            changes.append(
                Change(
                    "TYPE_KIND_CHANGED",
                    name,
                    f"type {name} changed kind",
                    tuple(_fields_returning(old, name)),
                )
            )
        else:
            changes.extend(_same_kind_changes(old, name, old_type, new_type))
    return changes


def _same_kind_changes(
    old: GraphQLSchema, name: str, old_type: GraphQLNamedType, new_type: GraphQLNamedType
) -> list[Change]:
    """Breaking changes inside a type that kept its kind, by kind."""
    if isinstance(old_type, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(new_type, GraphQLObjectType | GraphQLInterfaceType)
        return _output_field_changes(name, old_type, new_type)
    if isinstance(old_type, GraphQLEnumType):
        assert isinstance(new_type, GraphQLEnumType)
        return _enum_value_changes(old, name, old_type, new_type)
    if isinstance(old_type, GraphQLUnionType):
        assert isinstance(new_type, GraphQLUnionType)
        return _union_member_changes(old, name, old_type, new_type)
    if isinstance(old_type, GraphQLInputObjectType):
        assert isinstance(new_type, GraphQLInputObjectType)
        return _input_field_changes(old, name, old_type, new_type)
    return []


def _output_field_changes(
    name: str,
    old_type: GraphQLObjectType | GraphQLInterfaceType,
    new_type: GraphQLObjectType | GraphQLInterfaceType,
) -> list[Change]:
    changes: list[Change] = []
    for fname, old_field in old_type.fields.items():
        coordinate = f"{name}.{fname}"
        new_field = new_type.fields.get(fname)
        if new_field is None:
            changes.append(
                Change(
                    "FIELD_REMOVED",
                    coordinate,
                    f"field {coordinate} was removed",
                    (coordinate,),
                )
            )
            continue
        changes.extend(_field_changes(coordinate, old_field, new_field))
    return changes


def _enum_value_changes(
    old: GraphQLSchema, name: str, old_type: GraphQLEnumType, new_type: GraphQLEnumType
) -> list[Change]:
    return [
        Change(
            "ENUM_VALUE_REMOVED",
            f"{name}.{value}",
            f"enum value {name}.{value} was removed",
            tuple(_fields_returning(old, name)),
        )
        for value in old_type.values
        if value not in new_type.values
    ]


def _union_member_changes(
    old: GraphQLSchema, name: str, old_type: GraphQLUnionType, new_type: GraphQLUnionType
) -> list[Change]:
    new_members = {t.name for t in new_type.types}
    return [
        Change(
            "UNION_MEMBER_REMOVED",
            name,
            f"{member.name} is no longer a member of union {name}",
            tuple(_fields_returning(old, name)),
        )
        for member in old_type.types
        if member.name not in new_members
    ]


def _input_field_changes(
    old: GraphQLSchema,
    name: str,
    old_type: GraphQLInputObjectType,
    new_type: GraphQLInputObjectType,
) -> list[Change]:
    changes: list[Change] = []
    endangered = tuple(_fields_returning(old, name))
    for fname, old_input in old_type.fields.items():
        coordinate = f"{name}.{fname}"
        new_input = new_type.fields.get(fname)
        if new_input is None:
            changes.append(
                Change(
                    "INPUT_FIELD_REMOVED",
                    coordinate,
                    f"input field {coordinate} was removed",
                    endangered,
                )
            )
        elif str(new_input.type) != str(old_input.type):
            made_required = str(new_input.type) == f"{old_input.type}!"
            changes.append(
                Change(
                    "INPUT_FIELD_MADE_REQUIRED" if made_required else "INPUT_FIELD_TYPE_CHANGED",
                    coordinate,
                    f"input field {coordinate} changed type from {old_input.type} to "
                    f"{new_input.type}",
                    endangered,
                )
            )
    for fname, new_input in new_type.fields.items():
        if (
            fname not in old_type.fields
            and is_non_null_type(new_input.type)
            and (new_input.default_value is None or new_input.default_value is _undefined())
        ):
            changes.append(
                Change(
                    "REQUIRED_INPUT_FIELD_ADDED",
                    f"{name}.{fname}",
                    f"required input field {name}.{fname} was added",
                    endangered,
                )
            )
    return changes


def _newly_deprecated(before: object, after: object) -> str | None:
    """The deprecation reason ``after`` has and ``before`` had not (None otherwise)."""
    reason = getattr(after, "deprecation_reason", None)
    if before is None or reason is None or getattr(before, "deprecation_reason", None):
        return None
    return str(reason)


def find_new_deprecations(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    """Fields, arguments, enum values and input fields deprecated in ``new`` but not in ``old``.

    Each endangers what its breaking removal would: the field itself (a field, an argument), or
    the fields that return or take the type (an enum value, an input field).
    """
    changes: list[Change] = []
    for name, t in _user_types(new).items():
        before = old.type_map.get(name)
        if type(before) is not type(t):
            continue
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(before, GraphQLObjectType | GraphQLInterfaceType)
            for field_name, f in t.fields.items():
                coordinate = f"{name}.{field_name}"
                previous = before.fields.get(field_name)
                reason = _newly_deprecated(previous, f)
                if reason is not None:
                    message = f"field {coordinate} was deprecated: {reason}"
                    changes.append(Change("FIELD_DEPRECATED", coordinate, message, (coordinate,)))
                for arg_name, arg in f.args.items():
                    old_arg = previous.args.get(arg_name) if previous is not None else None
                    reason = _newly_deprecated(old_arg, arg)
                    if reason is not None:
                        where = f"{coordinate}({arg_name}:)"
                        message = f"argument {where} was deprecated: {reason}"
                        changes.append(Change("ARG_DEPRECATED", where, message, (coordinate,)))
        elif isinstance(t, GraphQLEnumType | GraphQLInputObjectType):
            assert isinstance(before, GraphQLEnumType | GraphQLInputObjectType)
            members = t.values if isinstance(t, GraphQLEnumType) else t.fields
            previous_members = (
                before.values if isinstance(before, GraphQLEnumType) else before.fields
            )
            what, kind = (
                ("enum value", "ENUM_VALUE_DEPRECATED")
                if isinstance(t, GraphQLEnumType)
                else ("input field", "INPUT_FIELD_DEPRECATED")
            )
            for member, value in members.items():
                reason = _newly_deprecated(previous_members.get(member), value)
                if reason is not None:
                    where = f"{name}.{member}"
                    changes.append(
                        Change(
                            kind,
                            where,
                            f"{what} {where} was deprecated: {reason}",
                            tuple(_fields_returning(old, name)),
                        )
                    )
    return changes


def _undefined() -> object:
    from graphql.pyutils import Undefined

    return Undefined


def _field_changes(coordinate: str, old: GraphQLField, new: GraphQLField) -> list[Change]:
    changes: list[Change] = []
    old_type, new_type = str(old.type), str(new.type)
    # Output types may become non-null (safe); any other change breaks clients.
    if old_type != new_type and not _only_stricter(old_type, new_type):
        changes.append(
            Change(
                "FIELD_TYPE_CHANGED",
                coordinate,
                f"field {coordinate} changed type from {old_type} to {new_type}",
                (coordinate,),
            )
        )
    for arg_name, old_arg in old.args.items():
        new_arg = new.args.get(arg_name)
        arg_coordinate = f"{coordinate}({arg_name}:)"
        if new_arg is None:
            changes.append(
                Change(
                    "ARG_REMOVED",
                    arg_coordinate,
                    f"argument {arg_coordinate} was removed",
                    (coordinate,),
                )
            )
        elif str(new_arg.type) != str(old_arg.type):
            made_required = str(new_arg.type) == f"{old_arg.type}!"
            changes.append(
                Change(
                    "ARG_MADE_REQUIRED" if made_required else "ARG_TYPE_CHANGED",
                    arg_coordinate,
                    f"argument {arg_coordinate} changed type from {old_arg.type} to {new_arg.type}",
                    (coordinate,),
                )
            )
    for arg_name, new_arg in new.args.items():
        if (
            arg_name not in old.args
            and is_non_null_type(new_arg.type)
            and (new_arg.default_value is _undefined())
        ):
            changes.append(
                Change(
                    "REQUIRED_ARG_ADDED",
                    f"{coordinate}({arg_name}:)",
                    f"required argument {coordinate}({arg_name}:) was added",
                    (coordinate,),
                )
            )
    return changes


def _only_stricter(old: str, new: str) -> bool:
    """``[A]`` -> ``[A!]!``: the new output type only adds non-null markers (safe for clients)."""
    if new.endswith("!"):
        inner_new = new[:-1]
        return (
            _only_stricter(old[:-1], inner_new)
            if old.endswith("!")
            else (_only_stricter(old, inner_new) or old == inner_new)
        )
    if old.endswith("!"):
        return False
    if old.startswith("[") and new.startswith("["):
        return old == new or _only_stricter(old[1:-1], new[1:-1])
    return old == new
