"""``@inaccessible`` propagation and its rules (Federation 2 inaccessible spec v0.2).

An element hidden in one subgraph is hidden in the supergraph. What stays visible may not refer to
a hidden type; a type may not hide all its fields; a required argument or input field may not be
hidden; a hidden field may not implement a visible interface field; Query cannot be hidden.
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition
from gateway.composition.subgraph import ENUM, INPUT_OBJECT, INTERFACE, OBJECT, named_type


def check_inaccessible(c: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    hidden = {name for name, t in c.types.items() if t.applied.inaccessible}
    query = c.types.get("Query")
    if query is not None and query.applied.inaccessible:
        found.append(
            error(
                E.QUERY_ROOT_TYPE_INACCESSIBLE,
                "is @inaccessible; the query root type must stay visible.",
                None,
                "Query",
            )
        )
    for t in c.types.values():
        if t.applied.inaccessible:
            continue
        if (
            t.kind in (OBJECT, INTERFACE, INPUT_OBJECT)
            and t.fields
            and all(f.applied.inaccessible for f in t.fields.values())
        ):
            found.append(
                error(
                    E.ONLY_INACCESSIBLE_CHILDREN,
                    "has only @inaccessible fields; hide the type too, or keep a field visible.",
                    None,
                    t.name,
                )
            )
        if t.kind == ENUM and t.values and all(v.applied.inaccessible for v in t.values.values()):
            found.append(
                error(
                    E.ONLY_INACCESSIBLE_CHILDREN,
                    "has only @inaccessible values; hide the enum too, or keep a value visible.",
                    None,
                    t.name,
                )
            )
        for f in t.fields.values():
            if f.applied.inaccessible:
                if t.kind == INPUT_OBJECT and f.type.endswith("!") and f.default is None:
                    found.append(
                        error(
                            E.REQUIRED_INACCESSIBLE,
                            "is a required input field and @inaccessible; clients could never "
                            "send it. Make it optional or visible.",
                            None,
                            t.name,
                            f.name,
                        )
                    )
                if t.kind == OBJECT:
                    for iface in t.interfaces:
                        it = c.types.get(iface)
                        if it is None or it.applied.inaccessible:
                            continue
                        iface_field = it.fields.get(f.name)
                        if iface_field is not None and not iface_field.applied.inaccessible:
                            found.append(
                                error(
                                    E.IMPLEMENTED_BY_INACCESSIBLE,
                                    f"is @inaccessible but implements the visible field "
                                    f"{iface}.{f.name}.",
                                    None,
                                    t.name,
                                    f.name,
                                )
                            )
                continue
            ref = named_type(f.type)
            if ref in hidden:
                found.append(
                    error(
                        E.REFERENCED_INACCESSIBLE,
                        f"is visible but returns {ref}, which is @inaccessible. Hide the "
                        "field too, or make the type visible.",
                        None,
                        t.name,
                        f.name,
                    )
                )
            for a in f.args.values():
                if a.applied.inaccessible:
                    if a.type.endswith("!") and a.default is None:
                        found.append(
                            error(
                                E.REQUIRED_INACCESSIBLE,
                                f'argument "{a.name}" is required and @inaccessible.',
                                None,
                                t.name,
                                f.name,
                            )
                        )
                    continue
                if named_type(a.type) in hidden:
                    found.append(
                        error(
                            E.REFERENCED_INACCESSIBLE,
                            f'argument "{a.name}" is visible but of type {named_type(a.type)}, '
                            "which is @inaccessible.",
                            None,
                            t.name,
                            f.name,
                        )
                    )
    return found
