"""``@inaccessible`` propagation and its rules (Federation 2 inaccessible spec v0.2).

An element hidden in one subgraph is hidden in the supergraph. What stays visible may not refer to
a hidden type; a type may not hide all its fields; a required argument or input field may not be
hidden; a hidden field may not implement a visible interface field; Query cannot be hidden; a
visible default value may not use a hidden enum value.
"""

from __future__ import annotations

from graphql import (
    EnumValueNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    parse_value,
)

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition, MergedField, MergedType
from gateway.composition.subgraph import ENUM, INPUT_OBJECT, INTERFACE, OBJECT, named_type


def check_inaccessible(composition: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    hidden = {name for name, t in composition.types.items() if t.applied.inaccessible}
    query = composition.types.get("Query")
    if query is not None and query.applied.inaccessible:
        found.append(
            error(
                E.QUERY_ROOT_TYPE_INACCESSIBLE,
                "is @inaccessible; the query root type must stay visible.",
                None,
                "Query",
            )
        )
    for merged_type in composition.types.values():
        if merged_type.applied.inaccessible:
            continue
        found.extend(_only_hidden_children(merged_type))
        for merged_field in merged_type.fields.values():
            if merged_field.applied.inaccessible:
                found.extend(_hidden_field(composition, merged_type, merged_field))
            else:
                found.extend(_visible_field(merged_type, merged_field, hidden))
                found.extend(_visible_defaults(composition, merged_type, merged_field))
    return found


def _only_hidden_children(merged_type: MergedType) -> list[CompositionError]:
    if (
        merged_type.kind in (OBJECT, INTERFACE, INPUT_OBJECT)
        and merged_type.fields
        and all(f.applied.inaccessible for f in merged_type.fields.values())
    ):
        return [
            error(
                E.ONLY_INACCESSIBLE_CHILDREN,
                "has only @inaccessible fields; hide the type too, or keep a field visible.",
                None,
                merged_type.name,
            )
        ]
    if (
        merged_type.kind == ENUM
        and merged_type.values
        and all(v.applied.inaccessible for v in merged_type.values.values())
    ):
        return [
            error(
                E.ONLY_INACCESSIBLE_CHILDREN,
                "has only @inaccessible values; hide the enum too, or keep a value visible.",
                None,
                merged_type.name,
            )
        ]
    return []


def _hidden_field(
    composition: Composition, owner: MergedType, merged_field: MergedField
) -> list[CompositionError]:
    """A hidden input field may not be required; a hidden field may not implement a visible one."""
    found: list[CompositionError] = []
    if (
        owner.kind == INPUT_OBJECT
        and merged_field.type.endswith("!")
        and merged_field.default is None
    ):
        found.append(
            error(
                E.REQUIRED_INACCESSIBLE,
                "is a required input field and @inaccessible; clients could never "
                "send it. Make it optional or visible.",
                None,
                owner.name,
                merged_field.name,
            )
        )
    if owner.kind != OBJECT:
        return found
    for interface in owner.interfaces:
        merged_interface = composition.types.get(interface)
        if merged_interface is None or merged_interface.applied.inaccessible:
            continue
        interface_field = merged_interface.fields.get(merged_field.name)
        if interface_field is not None and not interface_field.applied.inaccessible:
            found.append(
                error(
                    E.IMPLEMENTED_BY_INACCESSIBLE,
                    f"is @inaccessible but implements the visible field "
                    f"{interface}.{merged_field.name}.",
                    None,
                    owner.name,
                    merged_field.name,
                )
            )
    return found


def _visible_field(
    owner: MergedType, merged_field: MergedField, hidden: set[str]
) -> list[CompositionError]:
    """A visible field may not return a hidden type, nor take a required hidden argument or an
    argument of a hidden type."""
    found: list[CompositionError] = []
    where = (None, owner.name, merged_field.name)
    returned = named_type(merged_field.type)
    if returned in hidden:
        found.append(
            error(
                E.REFERENCED_INACCESSIBLE,
                f"is visible but returns {returned}, which is @inaccessible. Hide the "
                "field too, or make the type visible.",
                *where,
            )
        )
    for argument in merged_field.args.values():
        if argument.applied.inaccessible:
            if argument.type.endswith("!") and argument.default is None:
                found.append(
                    error(
                        E.REQUIRED_INACCESSIBLE,
                        f'argument "{argument.name}" is required and @inaccessible.',
                        *where,
                    )
                )
        elif named_type(argument.type) in hidden:
            found.append(
                error(
                    E.REFERENCED_INACCESSIBLE,
                    f'argument "{argument.name}" is visible but of type '
                    f"{named_type(argument.type)}, which is @inaccessible.",
                    *where,
                )
            )
    return found


def _visible_defaults(
    composition: Composition, owner: MergedType, merged_field: MergedField
) -> list[CompositionError]:
    """DEFAULT_VALUE_USES_INACCESSIBLE: a client could not send the default value it sees."""
    defaults = [
        (f"{owner.name}.{merged_field.name}({a.name}:)", a.type, a.default)
        for a in merged_field.args.values()
        if not a.applied.inaccessible
    ]
    if owner.kind == INPUT_OBJECT:
        defaults.append(
            (f"{owner.name}.{merged_field.name}", merged_field.type, merged_field.default)
        )
    found: list[CompositionError] = []
    for coordinate, type_string, default in defaults:
        if default is None:
            continue
        try:
            value = parse_value(default)
        except GraphQLError:
            continue
        for hidden_value in _hidden_values(composition, named_type(type_string), value):
            found.append(
                error(
                    E.DEFAULT_VALUE_USES_INACCESSIBLE,
                    f'the default value of "{coordinate}" uses the enum value {hidden_value}, '
                    "which is @inaccessible. Use a visible value, or hide the argument or field.",
                    None,
                    owner.name,
                    merged_field.name,
                )
            )
    return found


def _hidden_values(composition: Composition, type_name: str, value: ValueNode) -> list[str]:
    """The ``@inaccessible`` enum values (``Enum.VALUE``) a value of ``type_name`` uses."""
    merged = composition.types.get(type_name)
    if isinstance(value, ListValueNode):
        return [h for item in value.values for h in _hidden_values(composition, type_name, item)]
    if merged is None:
        return []
    if merged.kind == ENUM and isinstance(value, EnumValueNode):
        declared = merged.values.get(value.value)
        hidden = declared is not None and declared.applied.inaccessible
        return [f"{type_name}.{value.value}"] if hidden else []
    if merged.kind == INPUT_OBJECT and isinstance(value, ObjectValueNode):
        found: list[str] = []
        for field_node in value.fields:
            field = merged.fields.get(field_node.name.value)
            if field is not None:
                found.extend(_hidden_values(composition, named_type(field.type), field_node.value))
        return found
    return []
