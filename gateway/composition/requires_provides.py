"""``@external``, ``@requires`` and ``@provides`` references.

Federation 2: a ``@requires`` field set selects fields of the same type, a ``@provides`` field set
fields of the field's (object or interface) return type; in both, each leaf of the selection is
``@external`` in the subgraph unless a field above it is (``dim { w }`` may mark ``dim`` or ``w``
external: what is external comes from elsewhere, with everything below it). An ``@external`` field
is used by a key, a ``@requires`` or a ``@provides`` of its subgraph (or implements an interface
field), and some other subgraph defines it.
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.fieldset import Position, active_field_set, walk_field_set
from gateway.composition.model import Composition
from gateway.composition.subgraph import (
    INTERFACE,
    OBJECT,
    UNION,
    Subgraph,
    SubgraphField,
    named_type,
)


def check_requires_provides(subgraph: Subgraph) -> list[CompositionError]:
    """Check and mark the fields each ``@requires``/``@provides`` of ``subgraph`` names."""
    found: list[CompositionError] = []
    for declared in subgraph.types.values():
        for field in declared.fields.values():
            if not subgraph.fed2:
                _drop_inactive_leaves(subgraph, declared.name, field)
            if field.requires is not None:
                found.extend(_requires(subgraph, declared.name, field))
            if field.provides is not None:
                found.extend(_provides(subgraph, declared.name, field))
    return found


def _drop_inactive_leaves(subgraph: Subgraph, type_name: str, field: SubgraphField) -> None:
    """Federation 1: leaves the subgraph resolves itself do nothing in a @requires/@provides."""
    if field.requires is not None:
        field.requires = active_field_set(subgraph, type_name, field.requires)
    if field.provides is not None:
        field.provides = active_field_set(subgraph, named_type(field.type), field.provides)


def _must_be_external(field: SubgraphField, position: Position) -> bool:
    """A selected leaf that nothing above it makes external, and that is resolved here."""
    return (
        position.leaf
        and not position.under_external
        and not field.external
        and not field.used_as_key
    )


def _requires(subgraph: Subgraph, type_name: str, field: SubgraphField) -> list[CompositionError]:
    assert field.requires is not None
    found: list[CompositionError] = []
    not_external: list[str] = []

    def visit(owner: str, target: SubgraphField, position: Position) -> None:
        target.required = True
        if _must_be_external(target, position):
            not_external.append(f"{owner}.{target.name}")

    directive = f'@requires(fields: "{field.requires}")'
    for problem in walk_field_set(subgraph, type_name, field.requires, visit):
        if problem.kind in ("abstract", "args"):
            continue
        found.append(
            error(
                E.REQUIRES_INVALID_FIELDS,
                f"{directive} {problem.text}",
                subgraph.name,
                type_name,
                field.name,
            )
        )
    if subgraph.fed2:
        for coordinate in not_external:
            found.append(
                error(
                    E.REQUIRES_FIELDS_MISSING_EXTERNAL,
                    f'{directive} names "{coordinate}", which this subgraph resolves itself. '
                    "A required field comes from another subgraph: mark it (or a field above "
                    "it in the selection) @external here.",
                    subgraph.name,
                    type_name,
                    field.name,
                )
            )
    return found


def _provides(subgraph: Subgraph, type_name: str, field: SubgraphField) -> list[CompositionError]:
    assert field.provides is not None
    directive = f'@provides(fields: "{field.provides}")'
    target = named_type(field.type)
    target_type = subgraph.types.get(target)
    if target_type is None or target_type.kind not in (OBJECT, INTERFACE, UNION):
        return [
            error(
                E.PROVIDES_ON_NON_OBJECT_FIELD,
                f"{directive} is on a field of type {field.type}; only fields returning an "
                "object or interface type can provide fields.",
                subgraph.name,
                type_name,
                field.name,
            )
        ]
    found: list[CompositionError] = []
    not_external: list[str] = []

    def visit(owner: str, provided: SubgraphField, position: Position) -> None:
        provided.provided = True
        if _must_be_external(provided, position):
            not_external.append(f"{owner}.{provided.name}")

    for problem in walk_field_set(subgraph, target, field.provides, visit):
        if problem.kind in ("abstract", "args"):
            continue
        found.append(
            error(
                E.PROVIDES_INVALID_FIELDS,
                f"{directive} {problem.text}",
                subgraph.name,
                type_name,
                field.name,
            )
        )
    if subgraph.fed2:
        for coordinate in not_external:
            found.append(
                error(
                    E.PROVIDES_FIELDS_MISSING_EXTERNAL,
                    f'{directive} names "{coordinate}", which is not @external here. A '
                    "provided field (or a field above it in the selection) must be declared "
                    "@external in the providing subgraph.",
                    subgraph.name,
                    type_name,
                    field.name,
                )
            )
    return found


def check_external(composition: Composition) -> list[CompositionError]:
    """EXTERNAL_UNUSED and EXTERNAL_MISSING_ON_BASE across the merged model."""
    found: list[CompositionError] = []
    for t in composition.types.values():
        for f in t.fields.values():
            externals = {g: sf for g, sf in f.by_graph.items() if sf.external}
            if not externals:
                continue
            if len(externals) == len(f.by_graph) and not f.from_interface_object:
                if not any(
                    sf.used_as_key and not composition.subgraphs[g].fed2
                    for g, sf in externals.items()
                ):
                    graphs = ", ".join(f"[{g}]" for g in externals)
                    found.append(
                        error(
                            E.EXTERNAL_MISSING_ON_BASE,
                            f"is marked @external in {graphs}, but no subgraph defines it. "
                            "An @external field must be resolved by some other subgraph.",
                            None,
                            t.name,
                            f.name,
                        )
                    )
                continue
            for g, sf in externals.items():
                if not composition.subgraphs[g].fed2:
                    continue
                if sf.used_as_key or sf.required or sf.provided:
                    continue
                sub_type = composition.subgraphs[g].types[t.name]
                if _implements_interface_field(composition, g, sub_type.interfaces, f.name):
                    continue
                found.append(
                    error(
                        E.EXTERNAL_UNUSED,
                        "is marked @external but no @key, @requires or @provides of this "
                        "subgraph uses it. Remove the field, or use it.",
                        g,
                        t.name,
                        f.name,
                    )
                )
    return found


def _implements_interface_field(
    composition: Composition, graph: str, interfaces: list[str], name: str
) -> bool:
    sub = composition.subgraphs[graph]
    return any(name in sub.types[i].fields for i in interfaces if i in sub.types)
