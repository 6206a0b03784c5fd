"""Walk a ``FieldSet`` (``fields:`` of ``@key``/``@requires``/``@provides``) over a subgraph."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import (
    FieldNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    SelectionSetNode,
    parse,
    print_ast,
)

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
    SubgraphType,
    is_fake_external,
    named_type,
)


@dataclass(frozen=True, slots=True)
class FieldSetProblem:
    """Why a field set is invalid (``kind``: syntax, unknown, args, abstract, leaf, composite)."""

    kind: str
    text: str
    type_name: str = ""
    field_name: str = ""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a selected field sits in the field set.

    ``leaf``: selected without a sub-selection. ``under_external``: some field above it in the
    selection is ``@external`` (or, on an interface, is ``@external`` in an implementation), which
    makes the fields below it come from elsewhere too.
    """

    top: bool
    leaf: bool
    under_external: bool


def parse_field_set(text: str) -> SelectionSetNode:
    document = parse("{" + text + "}", no_location=True)
    operation = document.definitions[0]
    return operation.selection_set  # type: ignore[attr-defined,no-any-return]


#: called as ``visit(owner type name, field, position)`` for every field the set selects
Visit = Callable[[str, SubgraphField, Position], None]


def walk_field_set(
    subgraph: Subgraph,
    type_name: str,
    text: str,
    visit: Visit | None = None,
) -> list[FieldSetProblem]:
    """Check ``text`` selects existing fields of ``type_name``; call ``visit`` on each field."""
    try:
        selection_set = parse_field_set(text)
    except GraphQLSyntaxError as exc:
        return [FieldSetProblem("syntax", f"does not parse: {exc.message}.")]
    walker = _FieldSetWalker(subgraph, visit)
    walker.walk(type_name, selection_set, top=True, under_external=False)
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
        for p in walker.problems
    ]


def _kind(subgraph: Subgraph, name: str) -> str:
    if name in BUILTIN_SCALARS:
        return SCALAR
    t = subgraph.types.get(name)
    return t.kind if t else SCALAR


def external_in_some_implementation(subgraph: Subgraph, interface: str, field_name: str) -> bool:
    """An interface field counts as external when an implementation marks its field so."""
    for implementation in subgraph.types.values():
        if implementation.kind != OBJECT or interface not in implementation.interfaces:
            continue
        field = implementation.fields.get(field_name)
        if field is not None and field.external:
            return True
    return False


class _FieldSetWalker:
    """One walk over a field set; collects problems and calls ``visit`` on each field."""

    def __init__(self, subgraph: Subgraph, visit: Visit | None) -> None:
        self.subgraph = subgraph
        self.visit = visit
        self.problems: list[FieldSetProblem] = []

    def walk(
        self, type_name: str, selection_set: SelectionSetNode, *, top: bool, under_external: bool
    ) -> None:
        parent = self.subgraph.types.get(type_name)
        if parent is None:
            self.problems.append(
                FieldSetProblem(
                    "unknown", f'names type "{type_name}", which is not defined.', type_name
                )
            )
            return
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                self.fragment(type_name, selection, top=top, under_external=under_external)
            elif isinstance(selection, FieldNode):
                self.field(parent, selection, top=top, under_external=under_external)
            else:
                self.problems.append(
                    FieldSetProblem("syntax", "uses a fragment spread, which a field set may not.")
                )

    def fragment(
        self, type_name: str, fragment: InlineFragmentNode, *, top: bool, under_external: bool
    ) -> None:
        condition = fragment.type_condition.name.value if fragment.type_condition else type_name
        if condition not in self.subgraph.types:
            self.problems.append(
                FieldSetProblem(
                    "unknown", f'names type "{condition}", which is not defined.', condition
                )
            )
            return
        self.walk(condition, fragment.selection_set, top=top, under_external=under_external)

    def field(
        self, parent: SubgraphType, selection: FieldNode, *, top: bool, under_external: bool
    ) -> None:
        name = selection.name.value
        if name == "__typename":
            return
        field = self.selected_field(parent, name)
        if field is None:
            return
        if selection.arguments or field.args:
            self.problems.append(
                FieldSetProblem(
                    "args",
                    f'selects "{name}" with arguments, which a field set may not.',
                    parent.name,
                    name,
                )
            )
        if self.visit is not None:
            position = Position(top, selection.selection_set is None, under_external)
            self.visit(parent.name, field, position)
        external_here = field.external or (
            parent.kind == INTERFACE
            and external_in_some_implementation(self.subgraph, parent.name, name)
        )
        self.field_type(parent.name, field, selection, under_external or external_here)

    def selected_field(self, parent: SubgraphType, name: str) -> SubgraphField | None:
        if parent.kind == UNION:
            self.problems.append(
                FieldSetProblem(
                    "unknown",
                    f'selects "{name}" directly on union {parent.name}.',
                    parent.name,
                    name,
                )
            )
            return None
        field = parent.fields.get(name)
        if field is None:
            self.problems.append(
                FieldSetProblem(
                    "unknown",
                    f'names "{name}", a field that {parent.name} does not have.'
                    + did_you_mean(name, parent.fields),
                    parent.name,
                    name,
                )
            )
        return field

    def field_type(
        self, owner: str, field: SubgraphField, selection: FieldNode, under_external: bool
    ) -> None:
        """The selection below ``field`` must fit its type: sub-fields for composites only."""
        inner = named_type(field.type)
        inner_kind = _kind(self.subgraph, inner)
        where = f"{owner}.{field.name}"
        if inner_kind in (INTERFACE, UNION):
            self.problems.append(
                FieldSetProblem(
                    "abstract",
                    f'selects "{where}", of {inner_kind.lower()} type {inner}.',
                    owner,
                    field.name,
                )
            )
        if inner_kind in (OBJECT, INTERFACE, UNION):
            if selection.selection_set is None:
                self.problems.append(
                    FieldSetProblem(
                        "composite",
                        f'selects "{where}" of type {inner} without a sub-selection.',
                        owner,
                        field.name,
                    )
                )
            else:
                self.walk(inner, selection.selection_set, top=False, under_external=under_external)
        elif inner_kind in (SCALAR, ENUM) and selection.selection_set is not None:
            self.problems.append(
                FieldSetProblem(
                    "leaf", f'selects sub-fields of "{where}", a leaf.', owner, field.name
                )
            )


def active_field_set(subgraph: Subgraph, type_name: str, text: str) -> str | None:
    """A Federation 1 ``@requires``/``@provides`` field set without the leaves the subgraph
    resolves itself (no ``@external`` on them or above them).

    Federation 1 ignored such leaves; the reference composers' upgrade to Federation 2 drops
    them, and the whole directive when nothing is left (``None``). A set that does not parse or
    names unknown fields is returned unchanged, for the checks to report.
    """
    try:
        selection_set = parse_field_set(text)
    except GraphQLSyntaxError:
        return text
    active = _active_selections(subgraph, type_name, selection_set)
    if active is None:
        return text
    kept, changed = active
    if not changed:
        return text
    return " ".join(kept) or None


def _really_external(subgraph: Subgraph, parent: SubgraphType, field: SubgraphField) -> bool:
    if field.external and not is_fake_external(field):
        return True
    return parent.kind == INTERFACE and external_in_some_implementation(
        subgraph, parent.name, field.name
    )


def _active_selections(
    subgraph: Subgraph, type_name: str, selection_set: SelectionSetNode
) -> tuple[list[str], bool] | None:
    """(the selections kept, printed; whether any was dropped), or None when invalid."""
    parent = subgraph.types.get(type_name)
    if parent is None:
        return None
    kept: list[str] = []
    changed = False
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            condition = (
                selection.type_condition.name.value if selection.type_condition else type_name
            )
            inner = _active_selections(subgraph, condition, selection.selection_set)
            head = f"... on {condition}"
        elif isinstance(selection, FieldNode) and not (selection.alias or selection.arguments):
            field = parent.fields.get(selection.name.value)
            if field is None:
                return None
            if _really_external(subgraph, parent, field):
                kept.append(print_ast(selection))
                continue
            if selection.selection_set is None:
                changed = True
                continue
            inner = _active_selections(subgraph, named_type(field.type), selection.selection_set)
            head = field.name
        else:
            return None
        if inner is None:
            return None
        parts, inner_changed = inner
        changed = changed or inner_changed or not parts
        if parts:
            kept.append(f"{head} {{ {' '.join(parts)} }}")
    return kept, changed
