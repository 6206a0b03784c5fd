"""Structural comparison of two supergraph SDLs: same types, fields, arguments, join directives.

Order is ignored where it carries no meaning (types, fields, repeated directives, interfaces, union
members); descriptions are ignored.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)
from graphql.utilities import strip_ignored_characters

Shape = dict[str, Any]


def _directives(nodes: Any) -> list[str]:
    out = []
    for d in nodes or ():
        if d.name.value == "join__graph":
            continue
        args = {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}
        if d.name.value == "join__field":
            args = {k: v for k, v in args.items() if not (v is False or v is None)}
        if isinstance(args.get("graphs"), list):
            args["graphs"] = sorted(args["graphs"])
        for name in ("requires", "provides", "key"):
            if isinstance(args.get(name), str):
                args[name] = strip_ignored_characters(args[name])
        out.append(f"@{d.name.value}{sorted(args.items())}")
    return sorted(out)


def _link_urls(node: SchemaDefinitionNode) -> list[str]:
    urls = []
    for d in node.directives or ():
        if d.name.value == "link":
            args: dict[str, Any] = {
                a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()
            }
            urls.append(f"{args.get('url')} for={args.get('for')}")
    return sorted(urls)


def shape(sdl: str) -> Shape:
    document = parse(sdl)
    types: Shape = {}
    result: Shape = {"types": types}
    for node in document.definitions:
        if isinstance(node, SchemaDefinitionNode):
            result["links"] = _link_urls(node)
            result["schema_joins"] = _directives(
                [d for d in node.directives or () if d.name.value == "join__directive"]
            )
            continue
        if isinstance(node, DirectiveDefinitionNode):
            continue
        name = node.name.value  # type: ignore[attr-defined]
        if name.startswith(("join__", "link__")) and name != "join__Graph":
            continue
        entry: Shape = {"kind": type(node).__name__, "directives": _directives(node.directives)}  # type: ignore[attr-defined]
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            entry["interfaces"] = sorted(i.name.value for i in node.interfaces or ())
        if isinstance(node, UnionTypeDefinitionNode):
            entry["members"] = sorted(m.name.value for m in node.types or ())
        if isinstance(node, EnumTypeDefinitionNode):
            if name == "join__Graph":
                entry["values"] = {
                    v.name.value: sorted(
                        f"{a.name.value}={value_from_ast_untyped(a.value)}"
                        for d in v.directives
                        for a in d.arguments
                        if a.name.value == "name"
                    )
                    for v in node.values or ()
                }
            else:
                entry["values"] = {v.name.value: _directives(v.directives) for v in node.values}
        if isinstance(
            node,
            ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode,
        ):
            fields: Shape = {}
            for f in node.fields or ():
                fields[f.name.value] = {
                    "type": print_ast(f.type),
                    "directives": _directives(f.directives),
                    "args": {
                        a.name.value: (
                            print_ast(a.type),
                            print_ast(a.default_value) if a.default_value else None,
                            _directives(a.directives),
                        )
                        for a in getattr(f, "arguments", None) or ()
                    },
                    "default": print_ast(f.default_value)
                    if getattr(f, "default_value", None)
                    else None,
                }
            entry["fields"] = fields
        if isinstance(node, ScalarTypeDefinitionNode):
            pass
        types[name] = entry
    return result


def _walk(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                out.append(f"{path}/{key}: only in expected")
            elif key not in b:
                out.append(f"{path}/{key}: only in ours")
            else:
                _walk(a[key], b[key], f"{path}/{key}", out)
    elif a != b:
        out.append(f"{path}: ours {a!r} != expected {b!r}")


def diff_supergraphs(ours: str, expected: str) -> list[str]:
    """Differences (empty when structurally equivalent)."""
    out: list[str] = []
    _walk(shape(ours), shape(expected), "", out)
    return out


def _unused(_: ConstDirectiveNode) -> None:  # keeps the import list honest for readers
    return None
