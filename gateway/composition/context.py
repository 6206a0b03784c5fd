"""``@context`` / ``@fromContext``: checked per subgraph, printed as @apollo/composition does.

A type sets a context (``@context(name: "anggaran")``); an argument of a field below it in the
same subgraph reads a value from there (``@fromContext(field: "$anggaran { tahunAnggaran }")``).
The argument leaves the supergraph field (clients never pass it) and is carried as
``@join__field(contextArguments: [{context: "sosial__anggaran", name, type, selection}])``; the
type gets ``@context(name: "sosial__anggaran")`` for each context its subgraph uses (contexts
are per subgraph, hence the prefix). The planner asks the value of the nearest such ancestor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    SelectionNode,
    print_ast,
)

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.fieldset import Position, parse_field_set, walk_field_set
from gateway.composition.model import Composition
from gateway.composition.subgraph import (
    INTERFACE,
    OBJECT,
    UNION,
    ContextArgument,
    Subgraph,
    SubgraphArgument,
    SubgraphField,
    SubgraphType,
)

CONTEXT_NOT_SET = "CONTEXT_NOT_SET"
NO_CONTEXT_IN_SELECTION = "NO_CONTEXT_IN_SELECTION"
CONTEXT_NAME_INVALID = "CONTEXT_NAME_INVALID"
CONTEXT_INVALID_SELECTION = "CONTEXT_INVALID_SELECTION"
CONTEXT_NO_RESOLVABLE_KEY = "CONTEXT_NO_RESOLVABLE_KEY"
CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS = (
    "CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS"
)

_FIELD_VALUE = re.compile(r"^\s*\$(?P<context>[A-Za-z_][A-Za-z0-9_]*)(?P<selection>.*)$", re.S)
_CONTEXT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def parse_field_value(value: str) -> tuple[str, str] | None:
    """``"$anggaran { tahunAnggaran }"`` -> ``("anggaran", " { tahunAnggaran }")``."""
    match = _FIELD_VALUE.match(value)
    if match is None or not match["selection"].strip():
        return None
    return match["context"], match["selection"]


def check_contexts(sub: Subgraph) -> list[CompositionError]:
    """Every ``@fromContext`` names a context this subgraph sets, with a selection, on a type
    with a resolvable key (the planner always asks such a field in an entity fetch)."""
    found: list[CompositionError] = []
    set_here = {name for t in sub.types.values() for name in t.contexts}
    for name in sorted(set_here):
        if not _CONTEXT_NAME.match(name):
            found.append(
                error(
                    CONTEXT_NAME_INVALID,
                    f'Context name "{name}" may only contain letters and digits.',
                    sub.name,
                )
            )
    for type_name, declared in sub.types.items():
        contextual = any(f.context_arguments for f in declared.fields.values())
        if contextual and declared.kind == OBJECT and not _resolvable_key(declared):
            found.append(
                error(
                    CONTEXT_NO_RESOLVABLE_KEY,
                    f'Object "{type_name}" has no resolvable key but has a field with a '
                    "contextual argument.",
                    sub.name,
                )
            )
        for field_name, declared_field in declared.fields.items():
            for argument in declared_field.context_arguments:
                coordinate = f"{type_name}.{field_name}({argument.name}:)"
                parsed = parse_field_value(argument.field_value)
                if parsed is None:
                    found.append(
                        error(
                            NO_CONTEXT_IN_SELECTION,
                            f'@fromContext argument does not reference a context "$name '
                            f'{{ ... }}" at location "{coordinate}".',
                            sub.name,
                        )
                    )
                elif parsed[0] not in set_here:
                    found.append(
                        error(
                            CONTEXT_NOT_SET,
                            f'Context "{parsed[0]}" is used at location "{coordinate}" but is '
                            "never set.",
                            sub.name,
                        )
                    )
                else:
                    found.extend(_check_selection(sub, parsed, coordinate, argument.type))
    return found


def _check_selection(
    sub: Subgraph, parsed: tuple[str, str], coordinate: str, expected: str
) -> list[CompositionError]:
    """The selection is one field (a path of single fields below it) or inline fragments on
    object types, as @apollo/composition accepts; valid on every type setting the context (a
    type takes the fragments on its possible types), its value of the argument's type
    (``expected``); its fields count as used."""
    context, selection = parsed
    text = selection_text(selection)

    def invalid(reason: str) -> CompositionError:
        return error(
            CONTEXT_INVALID_SELECTION,
            f'Context "{context}" is used in "{coordinate}" but the selection is invalid: {reason}',
            sub.name,
        )

    try:
        top = parse_field_set(text).selections
    except GraphQLSyntaxError as exc:
        return [invalid(exc.message)]
    fragments = {
        s.type_condition.name.value: s
        for s in top
        if isinstance(s, InlineFragmentNode) and s.type_condition is not None
    }
    conditions = list(fragments)
    shape = _shape_problem(top, conditions)
    if shape is not None:
        return [invalid(shape)]
    found: list[CompositionError] = []
    used: set[str] = set()
    for type_name, declared in sub.types.items():
        if context not in declared.contexts:
            continue
        parts = [(type_name, text)]
        if conditions:
            possible = _possible_types(sub, type_name)
            parts = [
                (condition, print_ast(fragment.selection_set)[1:-1])
                for condition, fragment in fragments.items()
                if condition in possible
            ]
            used.update(condition for condition, _ in parts)
            if not parts:
                found.append(invalid(f'no type condition matches the location "{type_name}"'))
        walked = _walk_parts(sub, context, coordinate, type_name, parts)
        found.extend(walked)
        mismatch = (
            None if walked else _type_mismatch(sub, parts, expected, fragments=bool(conditions))
        )
        if mismatch is not None:
            found.append(invalid(mismatch))
            return found
    found.extend(
        invalid(f'type condition "{condition}" is never used.')
        for condition in conditions
        if condition not in used
    )
    return found


def _type_mismatch(
    sub: Subgraph, parts: list[tuple[str, str]], expected: str, *, fragments: bool
) -> str | None:
    """Why the selected value cannot be the argument's value, as @apollo/composition words it:
    non-null is dropped from the selection's type, list depths and names must be equal (so a
    non-null contextual argument never matches)."""
    for type_name, text in parts:
        resolved = _resolved_type(sub, type_name, parse_field_set(text).selections)
        if resolved == expected:
            continue
        if resolved is None and fragments:
            return f'the type of the selection does not match the expected type "{expected}"'
        return (
            f'the type of the selection "{resolved or "undefined"}" does not match the '
            f'expected type "{expected}"'
        )
    return None


def _resolved_type(
    sub: Subgraph, type_name: str, selections: Sequence[SelectionNode]
) -> str | None:
    """The type of the value a single-field path selects (lists kept, non-null dropped)."""
    resolved: list[str | None] = []
    for selection in selections:
        if not isinstance(selection, FieldNode):
            resolved.append(None)
            continue
        declared = sub.types.get(type_name)
        target = declared.fields.get(selection.name.value) if declared is not None else None
        if target is None:
            resolved.append(None)
            continue
        depth = target.type.count("[")
        leaf: str | None = target.type.replace("[", "").replace("]", "").replace("!", "")
        if selection.selection_set is not None:
            leaf = _resolved_type(sub, leaf or "", selection.selection_set.selections)
        resolved.append(None if leaf is None else "[" * depth + leaf + "]" * depth)
    if not resolved or any(r != resolved[0] for r in resolved):
        return None
    return resolved[0]


def selection_text(selection: str) -> str:
    """A context selection without its optional outer braces (``{ a }`` and ``a`` are one)."""
    text = selection.strip()
    return text[1:-1] if text.startswith("{") and text.endswith("}") else text


def _shape_problem(top: Sequence[SelectionNode], conditions: list[str]) -> str | None:
    """Apollo's shape rules: one field, or only inline fragments with distinct conditions."""
    if not top:
        return "no selection is made"
    if isinstance(top[0], FieldNode):
        return None if len(top) == 1 else "multiple selections are made"
    if not all(isinstance(s, InlineFragmentNode) for s in top):
        return (
            "fragment spread is not allowed"
            if isinstance(top[0], FragmentSpreadNode)
            else "multiple fields could be selected"
        )
    if len(conditions) != len(top) or len(set(conditions)) != len(top):
        return "type conditions have same name"
    return None


def _possible_types(sub: Subgraph, type_name: str) -> set[str]:
    declared = sub.types[type_name]
    if declared.kind == UNION:
        return set(declared.members)
    if declared.kind == INTERFACE:
        return {t.name for t in sub.types.values() if type_name in t.interfaces}
    return {type_name}


def _walk_parts(
    sub: Subgraph, context: str, coordinate: str, location: str, parts: list[tuple[str, str]]
) -> list[CompositionError]:
    def mark(_owner: str, target: SubgraphField, _position: Position) -> None:
        target.required = True  # an @external field read by a context is used

    return [
        error(
            CONTEXT_INVALID_SELECTION,
            f'Context "{context}" is used in "{coordinate}" but the selection is invalid '
            f"for type {location}: {problem.text}",
            sub.name,
        )
        for type_name, text in parts
        for problem in walk_field_set(sub, type_name, text, mark)
    ]


def _resolvable_key(declared: SubgraphType) -> bool:
    return any(key.resolvable for key in declared.keys)


def contextual_elsewhere(
    coordinate: str, plain: Iterable[SubgraphArgument]
) -> list[CompositionError]:
    """An argument contextual in one subgraph leaves the supergraph field; where another
    subgraph declares it as a plain argument, it must be optional there (as Apollo's merge)."""
    return [
        error(
            CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS,
            f'Argument "{coordinate}" is contextual in at least one subgraph but in '
            f'"{coordinate}" it does not have @fromContext, is not nullable and has no default '
            "value.",
        )
        for argument in plain
        if argument.type.endswith("!") and argument.default is None
    ]


def used_contexts(sub: Subgraph) -> set[str]:
    """The contexts some ``@fromContext`` of ``sub`` reads."""
    used: set[str] = set()
    for declared in sub.types.values():
        for declared_field in declared.fields.values():
            for argument in declared_field.context_arguments:
                parsed = parse_field_value(argument.field_value)
                if parsed is not None:
                    used.add(parsed[0])
    return used


def context_arguments_join(graph: str, arguments: list[ContextArgument]) -> list[dict[str, Any]]:
    """The ``contextArguments`` of one ``@join__field`` (context names prefixed by subgraph)."""
    result: list[dict[str, Any]] = []
    for argument in arguments:
        parsed = parse_field_value(argument.field_value)
        assert parsed is not None  # checked by check_contexts
        context, selection = parsed
        result.append(
            {
                "context": f"{graph}__{context}",
                "name": argument.name,
                "type": argument.type,
                "selection": selection,
            }
        )
    return result


def check_context_reachable(c: Composition) -> list[CompositionError]:
    """A field with ``@fromContext`` must not be reachable from a root without passing a type
    that sets its context (both npm composers report it as a satisfiability error).

    Walks the merged schema (fields, union members, interface implementations) from the roots,
    never entering a type that sets the context; reaching the field's type is the error.
    """
    found: list[CompositionError] = []
    for graph, sub in c.subgraphs.items():
        for type_name, declared in sub.types.items():
            for field_name, declared_field in declared.fields.items():
                contexts = {
                    parsed[0]
                    for argument in declared_field.context_arguments
                    if (parsed := parse_field_value(argument.field_value)) is not None
                }
                for context in sorted(contexts):
                    setters = {t for t, d in sub.types.items() if context in d.contexts}
                    path = _path_avoiding(c, type_name, setters)
                    if path is not None:
                        found.append(
                            error(
                                E.SATISFIABILITY_ERROR,
                                "The following supergraph API query:\n"
                                + _query(path, field_name)
                                + "\ncannot be satisfied by the subgraphs because:\n"
                                f'- from subgraph "{graph}": could not find a match for '
                                f'required context for field "{type_name}.{field_name}".',
                            )
                        )
    return found


def _path_avoiding(c: Composition, target: str, setters: set[str]) -> list[str] | None:
    """Selections from a root to ``target`` that pass no type of ``setters``, if any."""
    roots: tuple[str, ...] = ("Query", "Mutation", "Subscription")
    queue: list[tuple[str, list[str]]] = [(root, [root]) for root in roots if root in c.types]
    seen = {root for root, _ in queue}
    for type_name, path in queue:
        if type_name == target:
            return path[1:]
        merged = c.types[type_name]
        steps: list[tuple[str, str]] = [(f"... on {member}", member) for member in merged.members]
        steps += [
            (f"... on {t.name}", t.name) for t in c.types.values() if type_name in t.interfaces
        ]
        steps += [
            (name, _named(f.type))
            for name, f in merged.fields.items()
            if not f.applied.inaccessible
        ]
        for selection, child in steps:
            if child in seen or child in setters or child not in c.types:
                continue
            if c.types[child].kind not in (OBJECT, INTERFACE, UNION):
                continue
            seen.add(child)
            queue.append((child, [*path, selection]))
    return None


def _named(type_text: str) -> str:
    return type_text.replace("[", "").replace("]", "").replace("!", "")


def _query(path: list[str], field_name: str) -> str:
    lines = ["{"]
    for depth, selection in enumerate(path, start=1):
        lines.append("  " * depth + selection + " {")
    lines.append("  " * (len(path) + 1) + field_name)
    for depth in range(len(path), -1, -1):
        lines.append("  " * depth + "}")
    return "\n".join(lines)
