"""Walk a ``FieldSet`` (``fields:`` of ``@key``/``@requires``/``@provides``) over a subgraph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import FieldNode, GraphQLSyntaxError, InlineFragmentNode, SelectionSetNode, parse

from gateway.composition.errors import did_you_mean
from gateway.composition.subgraph import (
    BUILTIN_SCALARS,
    ENUM,
    INTERFACE,
    OBJECT,
    SCALAR,
    UNION,
    Subgraph,
    SubgraphField,
    named_type,
)


@dataclass(frozen=True, slots=True)
class FieldSetProblem:
    """Why a field set is invalid (``kind``: syntax, unknown, args, abstract, leaf, composite)."""

    kind: str
    text: str
    type_name: str = ""
    field_name: str = ""


def parse_field_set(text: str) -> SelectionSetNode:
    document = parse("{" + text + "}", no_location=True)
    operation = document.definitions[0]
    return operation.selection_set  # type: ignore[attr-defined,no-any-return]


Visit = Callable[[str, SubgraphField, bool], None]


def walk_field_set(
    subgraph: Subgraph,
    type_name: str,
    text: str,
    visit: Visit | None = None,
) -> list[FieldSetProblem]:
    """Check ``text`` selects existing fields of ``type_name``; call ``visit(type, field, top)``."""
    try:
        selection_set = parse_field_set(text)
    except GraphQLSyntaxError as exc:
        return [FieldSetProblem("syntax", f"does not parse: {exc.message}.")]
    problems: list[FieldSetProblem] = []
    _walk(subgraph, type_name, selection_set, visit, problems, top=True)
    whole = text.strip()
    return [
        FieldSetProblem(
            p.kind,
            p.text.replace(f'names "{whole}", a field', "names a field"),
            p.type_name,
            p.field_name,
        )
        if p.kind == "unknown" and p.field_name == whole
        else p
        for p in problems
    ]


def _kind(subgraph: Subgraph, name: str) -> str:
    if name in BUILTIN_SCALARS:
        return SCALAR
    t = subgraph.types.get(name)
    return t.kind if t else SCALAR


def _walk(
    subgraph: Subgraph,
    type_name: str,
    selection_set: SelectionSetNode,
    visit: Visit | None,
    problems: list[FieldSetProblem],
    top: bool,
) -> None:
    parent = subgraph.types.get(type_name)
    if parent is None:
        problems.append(
            FieldSetProblem(
                "unknown", f'names type "{type_name}", which is not defined.', type_name
            )
        )
        return
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            condition = (
                selection.type_condition.name.value if selection.type_condition else type_name
            )
            if condition not in subgraph.types:
                problems.append(
                    FieldSetProblem(
                        "unknown", f'names type "{condition}", which is not defined.', condition
                    )
                )
                continue
            _walk(subgraph, condition, selection.selection_set, visit, problems, top)
            continue
        if not isinstance(selection, FieldNode):
            problems.append(
                FieldSetProblem("syntax", "uses a fragment spread, which a field set may not.")
            )
            continue
        name = selection.name.value
        if name == "__typename":
            continue
        if parent.kind == UNION:
            problems.append(
                FieldSetProblem(
                    "unknown", f'selects "{name}" directly on union {type_name}.', type_name, name
                )
            )
            continue
        field = parent.fields.get(name)
        if field is None:
            problems.append(
                FieldSetProblem(
                    "unknown",
                    f'names "{name}", a field that {type_name} does not have.'
                    + did_you_mean(name, parent.fields),
                    type_name,
                    name,
                )
            )
            continue
        if selection.arguments or field.args:
            problems.append(
                FieldSetProblem(
                    "args",
                    f'selects "{name}" with arguments, which a field set may not.',
                    type_name,
                    name,
                )
            )
        if visit is not None:
            visit(type_name, field, top)
        inner = named_type(field.type)
        inner_kind = _kind(subgraph, inner)
        if inner_kind in (INTERFACE, UNION):
            problems.append(
                FieldSetProblem(
                    "abstract",
                    f'selects "{type_name}.{name}", of {inner_kind.lower()} type {inner}.',
                    type_name,
                    name,
                )
            )
        if inner_kind in (OBJECT, INTERFACE, UNION):
            if selection.selection_set is None:
                problems.append(
                    FieldSetProblem(
                        "composite",
                        f'selects "{type_name}.{name}" of type {inner} without a sub-selection.',
                        type_name,
                        name,
                    )
                )
            else:
                _walk(subgraph, inner, selection.selection_set, visit, problems, top=False)
        elif inner_kind in (SCALAR, ENUM) and selection.selection_set is not None:
            problems.append(
                FieldSetProblem(
                    "leaf", f'selects sub-fields of "{type_name}.{name}", a leaf.', type_name, name
                )
            )
