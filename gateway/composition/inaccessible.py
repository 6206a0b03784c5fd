"""``@inaccessible`` propagation and its rules (Federation 2 inaccessible spec v0.2).

An element hidden in one subgraph is hidden in the supergraph. What stays visible may not refer to
a hidden type; a type may not hide all its fields; a required argument or input field may not be
hidden; a hidden field may not implement a visible interface field; Query cannot be hidden.
"""

from __future__ import annotations

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
