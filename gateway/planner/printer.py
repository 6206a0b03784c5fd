"""Canonical text form of a query plan, in the shape the reference routers print."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gateway.planner.plan import (
    ConditionNode,
    ContextInput,
    DeferPlan,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RepresentationRule,
    RequiredField,
    RequiredSelection,
    SequenceNode,
)

_INDENT = "  "

#: ``(service, operation) -> lines`` printed first in a fetch (connector subgraphs: the HTTP
#: calls it makes, ``connect GET "/kendaraan/{$args.nopol}" (bapenda.samsat)``)
DescribeFetch = Callable[[str, str], Sequence[str]]


def print_plan(plan: QueryPlan | DeferPlan, describe: DescribeFetch | None = None) -> str:
    """Print ``plan`` as ``QueryPlan { ... }`` with two-space indentation."""
    if isinstance(plan, DeferPlan):
        lines = ["QueryPlan {"]
        _print_defer(plan, 1, lines, describe)
        lines.append("}")
        return "\n".join(lines)
    if plan.node is None:
        return "QueryPlan {}"
    lines = ["QueryPlan {"]
    _print_node(plan.node, 1, lines, describe)
    lines.append("}")
    return "\n".join(lines)


def _print_defer(
    plan: DeferPlan, depth: int, lines: list[str], describe: DescribeFetch | None
) -> None:
    """Apollo's form: ``Defer { Primary { <selections>: <node> }, [Deferred(depends: [...],
    path: "a/b", label: "...") { <selections>: <node> }, ...] }``."""
    pad = _INDENT * depth
    lines.append(f"{pad}Defer {{")
    lines.append(f"{pad}{_INDENT}Primary {{")
    _print_part(plan.subselection, plan.primary, depth + 2, lines, describe)
    lines.append(f"{pad}{_INDENT}}}, [")
    for deferred in plan.deferred:
        label = f', label: "{deferred.label}"' if deferred.label is not None else ""
        lines.append(
            f"{pad}{_INDENT * 2}Deferred(depends: [{', '.join(deferred.depends)}], "
            f'path: "{"/".join(deferred.path)}"{label}) {{'
        )
        _print_part(deferred.subselection, deferred.plan, depth + 3, lines, describe)
        lines.append(f"{pad}{_INDENT * 2}}},")
    lines.append(f"{pad}{_INDENT}]")
    lines.append(f"{pad}}},")


def _print_part(
    subselection: str,
    plan: QueryPlan,
    depth: int,
    lines: list[str],
    describe: DescribeFetch | None,
) -> None:
    pad = _INDENT * depth
    selection = subselection.splitlines()
    lines.extend(f"{pad}{line}" for line in selection[:-1])
    lines.append(f"{pad}{selection[-1]}:")
    if plan.node is not None:
        _print_node(plan.node, depth, lines, describe)


def _print_node(
    node: PlanNode, depth: int, lines: list[str], describe: DescribeFetch | None = None
) -> None:
    pad = _INDENT * depth
    match node:
        case FetchNode():
            _print_fetch(node, depth, lines, describe)
        case MergedFetchNode():
            _print_merged(node, depth, lines, describe)
        case FlattenNode(path=path, node=inner):
            lines.append(f'{pad}Flatten(path: "{".".join(path)}") {{')
            _print_fetch(inner, depth + 1, lines, describe)
            lines.append(f"{pad}}},")
        case SequenceNode(nodes=nodes) | ParallelNode(nodes=nodes):
            lines.append(f"{pad}{'Sequence' if isinstance(node, SequenceNode) else 'Parallel'} {{")
            for child in nodes:
                _print_node(child, depth + 1, lines, describe)
            lines.append(f"{pad}}},")
        case ConditionNode(condition=condition, if_clause=if_clause, else_clause=else_clause):
            if else_clause is None:
                lines.append(f"{pad}Include(if: ${condition}) {{")
                if if_clause is not None:
                    _print_node(if_clause, depth + 1, lines, describe)
                lines.append(f"{pad}}},")
            elif if_clause is None:
                lines.append(f"{pad}Skip(if: ${condition}) {{")
                _print_node(else_clause, depth + 1, lines, describe)
                lines.append(f"{pad}}},")
            else:
                lines.append(f"{pad}Condition(if: ${condition}) {{")
                lines.append(f"{pad}{_INDENT}Then {{")
                _print_node(if_clause, depth + 2, lines, describe)
                lines.append(f"{pad}{_INDENT}}} Else {{")
                _print_node(else_clause, depth + 2, lines, describe)
                lines.append(f"{pad}{_INDENT}}},")
                lines.append(f"{pad}}},")


def _print_fetch(
    node: FetchNode, depth: int, lines: list[str], describe: DescribeFetch | None = None
) -> None:
    pad = _INDENT * depth
    lines.append(f'{pad}Fetch(service: "{node.service}") {{')
    inner = pad + _INDENT
    if describe is not None:
        lines += [f"{inner}{line}" for line in describe(node.service, node.operation)]
    if node.requires is not None:
        lines.append(f"{inner}{{")
        for rule in node.requires:
            lines.append(f"{inner}{_INDENT}{_print_rule(rule)}")
        lines.append(f"{inner}}} =>")
    for context in node.context_inputs:  # where each @fromContext value is read (ours only)
        at = ".".join(context.ancestor_path)
        lines.append(f"{inner}${context.variable} = {at} {{ {_context_value(context)} }} =>")
    for text_line in node.operation.splitlines():
        lines.append(f"{inner}{text_line}")
    lines.append(f"{pad}}},")


def _context_value(context: ContextInput) -> str:
    """``a { b }``, or ``... on A { x } ... on B { y { z } }``."""

    def path(steps: tuple[str, ...]) -> str:
        return " { ".join(steps) + " }" * (len(steps) - 1)

    if not context.by_type:
        return path(context.value_path)
    return " ".join(f"... on {t} {{ {path(steps)} }}" for t, steps in context.by_type)


def _print_merged(
    node: MergedFetchNode, depth: int, lines: list[str], describe: DescribeFetch | None = None
) -> None:
    """Each part (where its answer goes, what it sends), then the one document sent."""
    pad = _INDENT * depth
    inner = pad + _INDENT
    lines.append(f'{pad}MergedFetch(service: "{node.service}") {{')
    if describe is not None:
        lines += [f"{inner}{line}" for line in describe(node.service, node.operation)]
    for part in node.parts:
        if part.fetch.requires is None:
            lines.append(f'{inner}Root(keys: "{", ".join(sorted(part.keys))}"),')
            continue
        path = ".".join(part.path)
        lines.append(
            f'{inner}Flatten(path: "{path}", alias: {part.alias}, representations: '
            f"${part.variable}) {{"
        )
        for rule in part.fetch.requires:
            lines.append(f"{inner}{_INDENT}{_print_rule(rule)}")
        lines.append(f"{inner}}},")
    for text_line in node.operation.splitlines():
        lines.append(f"{inner}{text_line}")
    lines.append(f"{pad}}},")


def _print_rule(rule: RepresentationRule) -> str:
    typename = f" as {rule.typename}" if rule.typename else ""
    fields = _print_selections(rule.selections)
    return f"... on {rule.type_condition}{typename} {{ __typename {fields[2:]}"


def _print_selections(selections: tuple[RequiredSelection, ...]) -> str:
    parts: list[str] = []
    for selection in selections:
        if isinstance(selection, RequiredField):
            key = selection.name
            if selection.response_key != selection.name:
                key = f"{selection.response_key}: {selection.name}"
            if selection.selections:
                key += " " + _print_selections(selection.selections)
            parts.append(key)
        else:
            parts.append(
                f"... on {selection.type_condition} {_print_selections(selection.selections)}"
            )
    return "{ " + " ".join(parts) + " }"
