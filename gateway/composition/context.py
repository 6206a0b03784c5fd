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
from collections.abc import Iterable
from typing import Any

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.fieldset import Position, walk_field_set
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
                    found.extend(_check_selection(sub, parsed, coordinate))
    return found


def _check_selection(
    sub: Subgraph, parsed: tuple[str, str], coordinate: str
) -> list[CompositionError]:
    """The selection is valid on every type setting the context; its fields count as used."""
    context, selection = parsed
    text = selection.strip().removeprefix("{").removesuffix("}")

    def mark(_owner: str, target: SubgraphField, _position: Position) -> None:
        target.required = True  # an @external field read by a context is used

    found: list[CompositionError] = []
    for type_name, declared in sub.types.items():
        if context not in declared.contexts:
            continue
        for problem in walk_field_set(sub, type_name, text, mark):
            found.append(
                error(
                    CONTEXT_INVALID_SELECTION,
                    f'Context "{context}" is used in "{coordinate}" but the selection is invalid '
                    f"for type {type_name}: {problem.text}",
                    sub.name,
                )
            )
    return found


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
