"""``@key`` rules: key fields exist, are selectable, take no arguments and are not abstract.

Federation 2 ``@key``: "fields" is a selection set of the type in the same subgraph; abstract
(interface/union) fields and fields with arguments cannot be part of a key. Marks the fields a key
selects (they are implicitly shareable, and an ``@external`` key field is in use).
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.fieldset import Position, Visit, walk_field_set
from gateway.composition.subgraph import Subgraph, SubgraphField, SubgraphType

_CODES = {
    "syntax": E.KEY_INVALID_FIELDS,
    "unknown": E.KEY_INVALID_FIELDS,
    "composite": E.KEY_INVALID_FIELDS,
    "leaf": E.KEY_INVALID_FIELDS,
    "args": E.KEY_FIELDS_HAS_ARGS,
    "abstract": E.KEY_FIELDS_SELECT_INVALID_TYPE,
}


def check_keys(subgraph: Subgraph) -> list[CompositionError]:
    found: list[CompositionError] = []
    for t in subgraph.types.values():
        mark = _marker(subgraph, t)
        for key in t.keys:
            for problem in walk_field_set(subgraph, t.name, key.fields, mark):
                hint = (
                    " A key may only select fields of object, scalar or enum type."
                    if problem.kind == "abstract"
                    else ""
                )
                found.append(
                    error(
                        _CODES[problem.kind],
                        f'@key(fields: "{key.fields}") {problem.text}{hint}',
                        subgraph.name,
                        t.name,
                    )
                )
    return found


def _marker(subgraph: Subgraph, keyed: SubgraphType) -> Visit:
    """Marks the fields a key of ``keyed`` selects.

    On a type declared as an extension the key fields' ``@external`` is "fake" (they are
    resolved here), as in the reference composers: every selected field for ``@extends`` and
    Federation 2 ``extend type``; only the type's own fields for a Federation 1 ``extend type``
    (its upgrade to Federation 2 keeps nested key fields of other types external).
    """
    whole_key = keyed.extends_directive or (keyed.extension and subgraph.fed2)
    own_fields = keyed.extension

    def mark(owner: str, field: SubgraphField, _: Position) -> None:
        field.used_as_key = True
        if whole_key or (own_fields and owner == keyed.name):
            field.in_extension_key = True

    return mark
