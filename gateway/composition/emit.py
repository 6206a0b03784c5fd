"""Print the merged model as a Federation 2 supergraph (join spec v0.3-v0.5 with ``@link``s).

Which ``@join__field``s a field carries follows the rules the reference composers apply: none when
every graph of the type resolves it alike; otherwise one per graph, with ``external``,
``requires``, ``provides``, ``override``/``overrideLabel``/``usedOverridden`` and ``type`` (when a
graph's type differs from the merged one).
"""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLError
from graphql.utilities import strip_ignored_characters

from gateway.composition.model import Composition, MergedField, MergedType
from gateway.composition.subgraph import (
    BUILTIN_SCALARS,
    ENUM,
    INPUT_OBJECT,
    INTERFACE,
    OBJECT,
    SCALAR,
    UNION,
    Applied,
    SubgraphField,
)

JoinArgs = dict[str, Any]

_JOIN_VERSION = {minor: "v0.3" for minor in range(7)} | {7: "v0.4", 8: "v0.5", 9: "v0.5"}


def join_version(c: Composition) -> str:
    newest = max((s.version for s in c.subgraphs.values()), default=(1, 0))
    if newest[0] < 2:
        return "v0.3"
    return _JOIN_VERSION.get(newest[1], "v0.5")


def declared_extension(t: MergedType, graph: str) -> bool:
    """Declared with ``extend type`` or ``@extends`` in ``graph``."""
    st = t.by_graph[graph]
    return st.extension or st.extends_directive


def compact_field_set(text: str) -> str:
    """A field set printed without ignored characters (``a b{c}``), as the reference does."""
    try:
        return strip_ignored_characters(text)
    except GraphQLError:
        return text


def is_extension(c: Composition, graph: str, t: MergedType) -> bool:
    st = t.by_graph[graph]
    if st.extends_directive:
        return True
    if not c.subgraphs[graph].fed2:
        return False
    return st.extension and not st.has_definition


# --- @join__type ---------------------------------------------------------------------------------


def join_types(c: Composition, t: MergedType) -> list[JoinArgs]:
    if t.name == "Query":
        return [{"graph": g} for g in c.subgraphs]
    result: list[JoinArgs] = []
    for g, st in t.by_graph.items():
        if t.kind == OBJECT and not _keep_type_in_graph(c, t, g):
            continue
        base: JoinArgs = {"graph": g}
        if st.keys:
            for key in st.keys:
                args: JoinArgs = {"graph": g, "key": key.fields}
                if is_extension(c, g, t):
                    args["extension"] = True
                if not key.resolvable:
                    args["resolvable"] = False
                if st.interface_object:
                    args["isInterfaceObject"] = True
                result.append(args)
        else:
            if st.interface_object:
                base["isInterfaceObject"] = True
            result.append(base)
    return result


def _keep_type_in_graph(c: Composition, t: MergedType, graph: str) -> bool:
    st = t.by_graph[graph]
    if st.keys or st.has_definition:
        return True
    for f in t.fields.values():
        sf = f.by_graph.get(graph)
        if sf is None:
            continue
        if not sf.external or sf.provided or sf.required or st.extension:
            return True
        if _used_overridden(c, t, f, graph, sf):
            return True
    return False


# --- @join__field --------------------------------------------------------------------------------


def _interface_field_graphs(c: Composition, t: MergedType, field: str) -> set[str]:
    graphs: set[str] = set()
    for iface in t.interfaces:
        it = c.types.get(iface)
        if it is not None and field in it.fields:
            graphs.update(it.fields[field].by_graph)
    return graphs


def _used_overridden(
    c: Composition, t: MergedType, f: MergedField, graph: str, sf: SubgraphField
) -> bool:
    overridden = any(o.override == graph for o in f.by_graph.values())
    if not overridden:
        return False
    return (sf.used_as_key and not sf.external) or graph in _interface_field_graphs(c, t, f.name)


def _external_on_join(c: Composition, t: MergedType, graph: str, sf: SubgraphField) -> bool:
    if not sf.external:
        return False
    if sf.provided:
        return True
    return not (sf.used_as_key and declared_extension(t, graph))


def join_fields(
    c: Composition, t: MergedType, f: MergedField, jtypes: list[JoinArgs]
) -> list[JoinArgs] | None:
    """The ``@join__field`` arguments of ``f``; ``None`` drops the field from the supergraph."""
    if f.from_interface_object:
        return [{}]
    is_query = t.name == "Query"
    in_graphs = list(f.by_graph.items())
    diff_type = any(sf.type != f.type for _, sf in in_graphs)
    everywhere = len(f.by_graph) == (len(c.subgraphs) if is_query else len(t.by_graph))
    diffs = {
        "external": any(
            sf.external and not (f.used_as_key and declared_extension(t, g)) for g, sf in in_graphs
        ),
        "override": any(sf.override for _, sf in in_graphs),
        "label": any(sf.override_label for _, sf in in_graphs),
        "provides": any(sf.provides for _, sf in in_graphs),
        "requires": any(sf.requires for _, sf in in_graphs),
        "type": diff_type,
    }
    if not is_query and len(in_graphs) == 1:
        g, sf = in_graphs[0]
        if (
            sf.external
            and not sf.used_as_key
            and not sf.required
            and not sf.provided
            and not _used_overridden(c, t, f, g, sf)
            and not c.subgraphs[g].fed2
        ):
            return None
    overridden: set[str] = set()
    labels: dict[str, str] = {}
    for g, sf in in_graphs:
        if sf.override and sf.override in c.subgraphs:
            overridden.add(sf.override)
            if sf.override_label:
                labels[sf.override] = sf.override_label
                labels[g] = sf.override_label

    def override_field(g: str, sf: SubgraphField, mode: str) -> JoinArgs:
        ext = _external_on_join(c, t, g, sf)
        used = _used_overridden(c, t, f, g, sf) or (g in overridden and sf.required and not ext)
        return _clean(
            {
                "graph": g,
                "requires": compact_field_set(sf.requires) if sf.requires else None,
                "provides": compact_field_set(sf.provides) if sf.provides else None,
                "type": sf.type if diffs["type"] else None,
                "external": (sf.external or None) if mode == "query" else (True if ext else None),
                "override": sf.override,
                "usedOverridden": used if mode == "object" else None,
                "overrideLabel": sf.override_label if mode == "query" else labels.get(g),
            }
        )

    def emit_override(g: str, sf: SubgraphField, mode: str) -> bool:
        if mode == "query":
            return bool(sf.override or labels.get(g) or (sf.shareable and g not in overridden))
        ext = _external_on_join(c, t, g, sf)
        is_source = g in overridden
        used = _used_overridden(c, t, f, g, sf) or (is_source and sf.required and not ext)
        return bool(
            (ext and sf.required) or sf.override_label or labels.get(g) or used or not is_source
        )

    def plain_fields() -> list[JoinArgs]:
        result: list[JoinArgs] = []
        iface_graphs = _interface_field_graphs(c, t, f.name)
        for g, sf in in_graphs:
            ext = _external_on_join(c, t, g, sf)
            used = _used_overridden(c, t, f, g, sf)
            meta = bool(diff_type or sf.override or sf.provides or sf.requires or used)
            required_or_provided = sf.provided or sf.required
            if (
                sf.external
                and not sf.used_as_key
                and not required_or_provided
                and not used
                and not c.subgraphs[g].fed2
            ):
                continue
            if (
                ext
                and declared_extension(t, g)
                and not meta
                and not required_or_provided
                and g not in iface_graphs
            ):
                continue
            result.append(
                _clean(
                    {
                        "graph": g,
                        "requires": compact_field_set(sf.requires) if sf.requires else None,
                        "provides": compact_field_set(sf.provides) if sf.provides else None,
                        "type": sf.type if diff_type else None,
                        "external": True if ext else None,
                        "override": sf.override,
                        "usedOverridden": used or None,
                        "overrideLabel": sf.override_label,
                    }
                )
            )
        return result

    joins: list[JoinArgs] = []
    if is_query:
        if diffs["override"] and len(c.subgraphs) > 1:
            joins = [
                override_field(g, sf, "query")
                for g, sf in in_graphs
                if emit_override(g, sf, "query")
            ]
        elif len(c.subgraphs) > 1 and not everywhere:
            joins = [
                _clean(
                    {
                        "graph": g,
                        "provides": compact_field_set(sf.provides)
                        if diffs["provides"] and sf.provides
                        else None,
                    }
                )
                for g, sf in in_graphs
            ]
    elif everywhere:
        if diffs["override"]:
            emit = [(g, sf) for g, sf in in_graphs if emit_override(g, sf, "object")]
            if not (len(emit) == 1 and len(jtypes) == 1 and jtypes[0]["graph"] == emit[0][0]):
                joins = [override_field(g, sf, "object") for g, sf in emit]
        elif any(diffs.values()):
            joins = plain_fields()
    elif diffs["override"]:
        joins = [
            override_field(g, sf, "object") for g, sf in in_graphs if emit_override(g, sf, "object")
        ]
    else:
        joins = plain_fields()
    if len(joins) == 1 and len(jtypes) == 1 and set(joins[0]) == {"graph"}:
        return []
    return joins


def _clean(args: JoinArgs) -> JoinArgs:
    return {k: v for k, v in args.items() if v is not None and v is not False}


# --- printing ------------------------------------------------------------------------------------


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _description(text: str | None, indent: str = "") -> str:
    if not text:
        return ""
    body = text.replace('"""', '\\"""')
    lines = "\n".join(f"{indent}{line}" if line else "" for line in body.split("\n"))
    return f'{indent}"""\n{lines}\n{indent}"""\n'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


class _Printer:
    def __init__(self, c: Composition) -> None:
        self.c = c
        self.version = join_version(c)
        self.used: set[str] = set()

    def graph(self, name: str) -> str:
        return self.c.graph_enum[name]

    def join(self, directive: str, args: JoinArgs) -> str:
        if not args:
            return f"@{directive}"
        parts = []
        for key, value in args.items():
            if key == "graph":
                parts.append(f"graph: {self.graph(value)}")
            else:
                parts.append(f"{key}: {_value(value)}")
        return f"@{directive}(" + ", ".join(parts) + ")"

    def applied(self, applied: Applied) -> str:
        out = []
        if applied.deprecated is not None:
            if applied.deprecated == "No longer supported":
                out.append("@deprecated")
            else:
                out.append(f"@deprecated(reason: {_string(applied.deprecated)})")
        if applied.inaccessible:
            self.used.add("inaccessible")
            out.append("@inaccessible")
        for tag in applied.tags:
            self.used.add("tag")
            out.append(f"@tag(name: {_string(tag)})")
        if applied.auth.authenticated:
            self.used.add("authenticated")
            out.append("@authenticated")
        if applied.auth.policies:
            self.used.add("policy")
            out.append(f"@policy(policies: {_value(applied.auth.policies)})")
        if applied.auth.scopes:
            self.used.add("requiresScopes")
            out.append(f"@requiresScopes(scopes: {_value(applied.auth.scopes)})")
        return "".join(f" {d}" for d in out)

    def type_block(self, t: MergedType) -> str | None:
        if t.kind == SCALAR and t.name in BUILTIN_SCALARS:
            return None
        jtypes = join_types(self.c, t)
        directives = " ".join(self.join("join__type", a) for a in jtypes)
        head = _description(t.description)
        implements = ""
        if t.interfaces:
            implements = " implements " + " & ".join(t.interfaces)
            for g, st in t.by_graph.items():
                for iface in st.interfaces:
                    directives += " " + self.join(
                        "join__implements", {"graph": g, "interface": iface}
                    )
        if t.kind == UNION:
            for g, st in t.by_graph.items():
                for member in st.members:
                    directives += " " + self.join(
                        "join__unionMember", {"graph": g, "member": member}
                    )
        directives += self.applied(t.applied)
        keyword = {
            OBJECT: "type",
            INTERFACE: "interface",
            UNION: "union",
            ENUM: "enum",
            INPUT_OBJECT: "input",
            SCALAR: "scalar",
        }[t.kind]
        line = f"{head}{keyword} {t.name}{implements} {directives}".rstrip()
        if t.kind == SCALAR:
            return line
        if t.kind == UNION:
            return f"{line} = " + " | ".join(t.members)
        body: list[str] = []
        if t.kind == ENUM:
            for v in t.values.values():
                value_dirs = "".join(
                    " " + self.join("join__enumValue", {"graph": g}) for g in v.by_graph
                )
                body.append(
                    _description(v.description, "  ")
                    + f"  {v.name}{value_dirs}{self.applied(v.applied)}"
                )
        else:
            for f in t.fields.values():
                printed = self.field(t, f, jtypes)
                if printed is not None:
                    body.append(printed)
        return line + " {\n" + "\n".join(body) + "\n}"

    def field(self, t: MergedType, f: MergedField, jtypes: list[JoinArgs]) -> str | None:
        args = ""
        if f.args:
            printed = []
            for a in f.args.values():
                default = f" = {a.default}" if a.default is not None else ""
                desc = f"{_string(a.description)} " if a.description else ""
                printed.append(f"{desc}{a.name}: {a.type}{default}{self.applied(a.applied)}")
            args = "(" + ", ".join(printed) + ")"
        if t.kind == INPUT_OBJECT:
            default = f" = {f.default}" if f.default is not None else ""
            desc = _description(f.description, "  ")
            return f"{desc}  {f.name}: {f.type}{default}{self.applied(f.applied)}"
        joins = join_fields(self.c, t, f, jtypes)
        if joins is None:
            return None
        directives = "".join(" " + self.join("join__field", j) for j in joins)
        return (
            f"{_description(f.description, '  ')}  {f.name}{args}: {f.type}"
            f"{directives}{self.applied(f.applied)}"
        )


_HEADER_DIRECTIVES = {
    "v0.3": """directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
""",
    "v0.4": """directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
  overrideLabel: String
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
""",
    "v0.5": """directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
  overrideLabel: String
  contextArguments: [join__ContextArgument!]
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}
""",
}

_COMMON = """
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT \
| INTERFACE

directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

scalar join__FieldSet
"""

_LINK = '''
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) \
repeatable on SCHEMA

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY
  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
'''

_FEATURES = {
    "inaccessible": (
        '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)',
        "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
        "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION",
    ),
    "tag": (
        '@link(url: "https://specs.apollo.dev/tag/v0.3")',
        "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | "
        "UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | "
        "INPUT_FIELD_DEFINITION | SCHEMA",
    ),
    "policy": (
        '@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)',
        "directive @policy(policies: [[policy__Policy!]!]!) on ENUM | FIELD_DEFINITION | "
        "INTERFACE | OBJECT | SCALAR\n\nscalar policy__Policy",
    ),
    "requiresScopes": (
        '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | "
        "OBJECT | INTERFACE | SCALAR | ENUM\n\nscalar requiresScopes__Scope",
    ),
    "authenticated": (
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)',
        "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    ),
}


def print_supergraph(c: Composition) -> str:
    """The supergraph SDL of a successful composition."""
    printer = _Printer(c)
    blocks = [b for t in c.types.values() if (b := printer.type_block(t)) is not None]
    version = printer.version
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        f'@link(url: "https://specs.apollo.dev/join/{version}", for: EXECUTION)',
    ]
    feature_defs = []
    for name in ("tag", "inaccessible", "policy", "requiresScopes", "authenticated"):
        if name in printer.used:
            links.append(_FEATURES[name][0])
            feature_defs.append(_FEATURES[name][1])
    roots = "\n".join(
        f"  {op}: {name}"
        for op, name in (
            ("query", "Query"),
            ("mutation", "Mutation"),
            ("subscription", "Subscription"),
        )
        if name in c.types
    )
    parts = [
        "schema " + " ".join(links) + " {\n" + roots + "\n}\n",
        _HEADER_DIRECTIVES[version]
        + _COMMON
        + ("\nscalar join__FieldValue\n" if version == "v0.5" else "")
        + _LINK,
        *[d + "\n" for d in feature_defs],
        "enum join__Graph {\n"
        + "\n".join(
            f"  {enum} @join__graph(name: {_string(name)}, url: {_string(c.subgraphs[name].url)})"
            for name, enum in c.graph_enum.items()
        )
        + "\n}\n",
        *[b + "\n" for b in blocks],
    ]
    return "\n".join(parts)
