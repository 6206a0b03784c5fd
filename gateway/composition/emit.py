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

from gateway.composition.connect import SUPERGRAPH_CONNECT_VERSION, ConnectUsage, Joined
from gateway.composition.context import context_arguments_join, used_contexts
from gateway.composition.model import Composition, MergedEnumValue, MergedField, MergedType
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
    is_fake_external,
)

JoinArgs = dict[str, Any]

_JOIN_VERSION = {minor: "v0.3" for minor in range(7)} | {7: "v0.4", 8: "v0.5", 9: "v0.5"}


def join_version(composition: Composition) -> str:
    newest = max((s.version for s in composition.subgraphs.values()), default=(1, 0))
    if newest[0] < 2:
        return "v0.3"
    return _JOIN_VERSION.get(newest[1], "v0.5")


def declared_extension(merged_type: MergedType, graph: str) -> bool:
    """Declared with ``extend type`` or ``@extends`` in ``graph``."""
    declared = merged_type.by_graph[graph]
    return declared.extension or declared.extends_directive


def compact_field_set(text: str) -> str:
    """A field set printed without ignored characters (``a b{c}``), as the reference does."""
    try:
        return strip_ignored_characters(text)
    except GraphQLError:
        return text


def is_extension(composition: Composition, graph: str, merged_type: MergedType) -> bool:
    declared = merged_type.by_graph[graph]
    if declared.extends_directive:
        return True
    if not composition.subgraphs[graph].fed2:
        return False
    return declared.extension and not declared.has_definition


# --- @join__type ---------------------------------------------------------------------------------


def join_types(composition: Composition, merged_type: MergedType) -> list[JoinArgs]:
    if merged_type.name == "Query":
        return [{"graph": graph} for graph in composition.subgraphs]
    result: list[JoinArgs] = []
    for graph, declared in merged_type.by_graph.items():
        if merged_type.kind == OBJECT and not _keep_type_in_graph(composition, merged_type, graph):
            continue
        if not declared.keys:
            result.append(
                {"graph": graph, "isInterfaceObject": True}
                if declared.interface_object
                else {"graph": graph}
            )
            continue
        for key in declared.keys:
            args: JoinArgs = {"graph": graph, "key": key.fields}
            if is_extension(composition, graph, merged_type):
                args["extension"] = True
            if not key.resolvable:
                args["resolvable"] = False
            if declared.interface_object:
                args["isInterfaceObject"] = True
            result.append(args)
    return result


def _keep_type_in_graph(composition: Composition, merged_type: MergedType, graph: str) -> bool:
    declared = merged_type.by_graph[graph]
    if declared.keys or declared.has_definition:
        return True
    for merged_field in merged_type.fields.values():
        in_graph = merged_field.by_graph.get(graph)
        if in_graph is None:
            continue
        if (
            not in_graph.external
            or in_graph.provided
            or in_graph.required
            or declared.extension
            or _used_overridden(composition, merged_type, merged_field, graph, in_graph)
        ):
            return True
    return False


# --- @join__field --------------------------------------------------------------------------------


def _interface_field_graphs(composition: Composition, owner: MergedType, field: str) -> set[str]:
    graphs: set[str] = set()
    for interface in owner.interfaces:
        merged_interface = composition.types.get(interface)
        if merged_interface is not None and field in merged_interface.fields:
            graphs.update(merged_interface.fields[field].by_graph)
    return graphs


def _used_overridden(
    composition: Composition,
    owner: MergedType,
    merged_field: MergedField,
    graph: str,
    in_graph: SubgraphField,
) -> bool:
    """``graph``'s field was overridden away but the graph still needs it (a key, an interface)."""
    overridden = any(other.override == graph for other in merged_field.by_graph.values())
    if not overridden:
        return False
    return (in_graph.used_as_key and not in_graph.external) or graph in _interface_field_graphs(
        composition, owner, merged_field.name
    )


def _external_on_join(in_graph: SubgraphField) -> bool:
    """The graph declares the field ``@external`` and does not resolve it (a provided field is
    resolved only under the providing field, so it stays external)."""
    if not in_graph.external:
        return False
    if in_graph.provided:
        return True
    return not is_fake_external(in_graph)


def _dropped_federation_1_external(
    composition: Composition, owner: MergedType, merged_field: MergedField
) -> bool:
    """A field only one Federation 1 graph declares, ``@external`` there and used by nothing:
    the reference composers leave it out of the supergraph."""
    if owner.name == "Query" or len(merged_field.by_graph) != 1:
        return False
    graph, in_graph = next(iter(merged_field.by_graph.items()))
    return (
        in_graph.external
        and not in_graph.used_as_key
        and not in_graph.required
        and not in_graph.provided
        and not _used_overridden(composition, owner, merged_field, graph, in_graph)
        and not composition.subgraphs[graph].fed2
    )


def join_fields(
    composition: Composition,
    owner: MergedType,
    merged_field: MergedField,
    type_joins: list[JoinArgs],
) -> list[JoinArgs] | None:
    """The ``@join__field`` arguments of ``merged_field``; ``None`` drops it from the supergraph.

    ``type_joins`` are the owner's ``@join__type`` arguments: a field of a type that lives in one
    graph only needs no ``@join__field``.
    """
    if merged_field.from_interface_object:
        return [{}]
    if _dropped_federation_1_external(composition, owner, merged_field):
        return None
    choice = _FieldJoins(composition, owner, merged_field, type_joins)
    joins = choice.root_joins() if owner.name == "Query" else choice.object_joins()
    if len(joins) == 1 and len(type_joins) == 1 and set(joins[0]) == {"graph"}:
        return []
    return joins


def input_joins(merged_field: MergedField) -> list[JoinArgs]:
    """An input field says nothing per graph unless its type differs in some graph (as Apollo's
    composer: then every graph's own type, so each subgraph is sent values it accepts)."""
    if all(f.type == merged_field.type for f in merged_field.by_graph.values()):
        return []
    return [{"graph": graph, "type": f.type} for graph, f in merged_field.by_graph.items()]


class _FieldJoins:
    """Chooses the ``@join__field``s of one field from what each graph declares for it."""

    def __init__(
        self,
        composition: Composition,
        owner: MergedType,
        merged_field: MergedField,
        type_joins: list[JoinArgs],
    ) -> None:
        self.composition = composition
        self.owner = owner
        self.field = merged_field
        self.type_joins = type_joins
        self.in_graphs = list(merged_field.by_graph.items())
        self.type_differs = any(f.type != merged_field.type for _, f in self.in_graphs)
        graph_count = len(composition.subgraphs) if owner.name == "Query" else len(owner.by_graph)
        #: every graph that has the owner type declares the field
        self.everywhere = len(merged_field.by_graph) == graph_count
        self.has_override = any(f.override for _, f in self.in_graphs)
        #: graphs the field was moved away from, and the progressive-override label per graph
        self.overridden: set[str] = set()
        self.labels: dict[str, str] = {}
        for graph, in_graph in self.in_graphs:
            if in_graph.override and in_graph.override in composition.subgraphs:
                self.overridden.add(in_graph.override)
                if in_graph.override_label:
                    self.labels[in_graph.override] = in_graph.override_label
                    self.labels[graph] = in_graph.override_label

    def differs_between_graphs(self) -> bool:
        """Something beyond "resolved here" must be said for some graph."""
        return self.type_differs or any(
            (f.external and not is_fake_external(f))
            or f.override_label
            or f.provides
            or f.requires
            or f.context_arguments
            for g, f in self.in_graphs
        )

    def root_joins(self) -> list[JoinArgs]:
        if len(self.composition.subgraphs) <= 1:
            return []
        if self.has_override:
            return [
                self.override_join(graph, in_graph, root=True)
                for graph, in_graph in self.in_graphs
                if self.root_override_emitted(graph, in_graph)
            ]
        if self.everywhere and not self.type_differs:
            return []
        return [
            _clean(
                {
                    "graph": graph,
                    "provides": compact_field_set(in_graph.provides) if in_graph.provides else None,
                    "type": in_graph.type if self.type_differs else None,
                }
            )
            for graph, in_graph in self.in_graphs
        ]

    def object_joins(self) -> list[JoinArgs]:
        if self.has_override:
            emitted = [(g, f) for g, f in self.in_graphs if self.object_override_emitted(g, f)]
            only_graph = len(self.type_joins) == 1 and self.type_joins[0]["graph"]
            if self.everywhere and len(emitted) == 1 and emitted[0][0] == only_graph:
                return []
            return [self.override_join(graph, in_graph, root=False) for graph, in_graph in emitted]
        if self.everywhere and not self.differs_between_graphs():
            return []
        return self.plain_joins()

    def used_overridden(self, graph: str, in_graph: SubgraphField) -> bool:
        return _used_overridden(self.composition, self.owner, self.field, graph, in_graph)

    def still_used_after_override(self, graph: str, in_graph: SubgraphField) -> bool:
        external = _external_on_join(in_graph)
        return self.used_overridden(graph, in_graph) or (
            graph in self.overridden and in_graph.required and not external
        )

    def root_override_emitted(self, graph: str, in_graph: SubgraphField) -> bool:
        return bool(
            in_graph.override
            or self.labels.get(graph)
            or (in_graph.shareable and graph not in self.overridden)
        )

    def object_override_emitted(self, graph: str, in_graph: SubgraphField) -> bool:
        external = _external_on_join(in_graph)
        return bool(
            (external and in_graph.required)
            or in_graph.override_label
            or self.labels.get(graph)
            or self.still_used_after_override(graph, in_graph)
            or graph not in self.overridden
        )

    def override_join(self, graph: str, in_graph: SubgraphField, *, root: bool) -> JoinArgs:
        if root:
            external = in_graph.external or None
            label = in_graph.override_label
        else:
            external = True if _external_on_join(in_graph) else None
            label = self.labels.get(graph)
        return self.join(
            graph,
            in_graph,
            external=external,
            used_overridden=None if root else self.still_used_after_override(graph, in_graph),
            label=label,
        )

    def plain_joins(self) -> list[JoinArgs]:
        return [
            self.join(
                graph,
                in_graph,
                external=True if _external_on_join(in_graph) else None,
                used_overridden=self.used_overridden(graph, in_graph) or None,
                label=in_graph.override_label,
            )
            for graph, in_graph in self.in_graphs
            if not self.left_out_of_plain_joins(graph, in_graph)
        ]

    def left_out_of_plain_joins(self, graph: str, in_graph: SubgraphField) -> bool:
        """An ``@external`` declaration that tells the planner nothing: Federation 1 unused
        externals, and externals of an extension that nothing of this graph needs."""
        if not in_graph.external:
            return False
        used = self.used_overridden(graph, in_graph)
        needed = in_graph.provided or in_graph.required or used
        if not in_graph.used_as_key and not needed and not self.composition.subgraphs[graph].fed2:
            return True
        carries_metadata = bool(
            self.type_differs or in_graph.override or in_graph.provides or in_graph.requires
        )
        return (
            _external_on_join(in_graph)
            and declared_extension(self.owner, graph)
            and not in_graph.used_as_key
            and not carries_metadata
            and not needed
            and graph not in _interface_field_graphs(self.composition, self.owner, self.field.name)
        )

    def join(
        self,
        graph: str,
        in_graph: SubgraphField,
        *,
        external: bool | None,
        used_overridden: bool | None,
        label: str | None,
    ) -> JoinArgs:
        return _clean(
            {
                "graph": graph,
                "requires": compact_field_set(in_graph.requires) if in_graph.requires else None,
                "provides": compact_field_set(in_graph.provides) if in_graph.provides else None,
                "type": in_graph.type if self.type_differs else None,
                "external": external,
                "override": in_graph.override,
                "usedOverridden": used_overridden,
                "overrideLabel": label,
                "contextArguments": context_arguments_join(graph, in_graph.context_arguments)
                or None,
            }
        )


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
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return str(value)


_KEYWORD = {
    OBJECT: "type",
    INTERFACE: "interface",
    UNION: "union",
    ENUM: "enum",
    INPUT_OBJECT: "input",
    SCALAR: "scalar",
}


class _Printer:
    def __init__(self, composition: Composition) -> None:
        self.composition = composition
        self.version = join_version(composition)
        #: the security/tag features some element uses (each gets its @link)
        self.used: set[str] = set()

    def graph(self, name: str) -> str:
        return self.composition.graph_enum[name]

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

    def joined(self, per_graph: list[tuple[str, list[Joined]]]) -> list[str]:
        """``@join__directive``s: one per distinct (name, args), listing every graph that wrote
        it, grouped by name in first-seen order (as @apollo/composition does)."""
        by_name: dict[str, dict[str, list[str]]] = {}
        for graph, directives in per_graph:
            for directive in directives:
                graphs = by_name.setdefault(directive.name, {}).setdefault(directive.args, [])
                if self.graph(graph) not in graphs:
                    graphs.append(self.graph(graph))
        if by_name:
            self.used.add("join__directive")
        return [
            f"@join__directive(graphs: [{', '.join(graphs)}], name: {_string(name)}, args: {args})"
            for name, groups in by_name.items()
            for args, graphs in groups.items()
        ]

    def connect_usages(self) -> list[tuple[str, ConnectUsage]]:
        return [
            (name, sub.connect)
            for name, sub in self.composition.subgraphs.items()
            if sub.connect is not None
        ]

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

    def type_block(self, merged_type: MergedType) -> str | None:
        if merged_type.kind == SCALAR and merged_type.name in BUILTIN_SCALARS:
            return None
        type_joins = join_types(self.composition, merged_type)
        implements = ""
        if merged_type.interfaces:
            implements = " implements " + " & ".join(merged_type.interfaces)
        directives = self.type_directives(merged_type, type_joins)
        head = _description(merged_type.description)
        keyword = _KEYWORD[merged_type.kind]
        line = f"{head}{keyword} {merged_type.name}{implements} {directives}".rstrip()
        if merged_type.kind == SCALAR:
            return line
        if merged_type.kind == UNION:
            return f"{line} = " + " | ".join(merged_type.members)
        if merged_type.kind == ENUM:
            body = [self.enum_value(value) for value in merged_type.values.values()]
        else:
            printed = (
                self.field(merged_type, merged_field, type_joins)
                for merged_field in merged_type.fields.values()
            )
            body = [text for text in printed if text is not None]
        return line + " {\n" + "\n".join(body) + "\n}"

    def type_directives(self, merged_type: MergedType, type_joins: list[JoinArgs]) -> str:
        """``@join__type``s, ``@join__implements``, ``@join__unionMember``s, then the rest."""
        directives = [self.join("join__type", args) for args in type_joins]
        for graph, declared in merged_type.by_graph.items():
            if merged_type.interfaces:
                directives.extend(
                    self.join("join__implements", {"graph": graph, "interface": interface})
                    for interface in declared.interfaces
                )
        if merged_type.kind == UNION:
            for graph, declared in merged_type.by_graph.items():
                directives.extend(
                    self.join("join__unionMember", {"graph": graph, "member": member})
                    for member in declared.members
                )
        directives += self.joined(
            [(g, usage.types.get(merged_type.name, [])) for g, usage in self.connect_usages()]
        )
        for graph, declared in merged_type.by_graph.items():
            used = used_contexts(self.composition.subgraphs[graph])
            for context in declared.contexts:
                if context in used:
                    self.used.add("context")
                    directives.append(f"@context(name: {_string(f'{graph}__{context}')})")
        return " ".join(directives) + self.applied(merged_type.applied)

    def enum_value(self, value: MergedEnumValue) -> str:
        joins = "".join(" " + self.join("join__enumValue", {"graph": g}) for g in value.by_graph)
        return (
            _description(value.description, "  ")
            + f"  {value.name}{joins}{self.applied(value.applied)}"
        )

    def field(
        self, owner: MergedType, merged_field: MergedField, type_joins: list[JoinArgs]
    ) -> str | None:
        args = ""
        if merged_field.args:
            printed = []
            for argument in merged_field.args.values():
                default = f" = {argument.default}" if argument.default is not None else ""
                desc = f"{_string(argument.description)} " if argument.description else ""
                printed.append(
                    f"{desc}{argument.name}: {argument.type}{default}"
                    f"{self.applied(argument.applied)}"
                )
            args = "(" + ", ".join(printed) + ")"
        if owner.kind == INPUT_OBJECT:
            default = f" = {merged_field.default}" if merged_field.default is not None else ""
            desc = _description(merged_field.description, "  ")
            directives = "".join(
                " " + self.join("join__field", j) for j in input_joins(merged_field)
            )
            return (
                f"{desc}  {merged_field.name}: {merged_field.type}{default}"
                f"{directives}{self.applied(merged_field.applied)}"
            )
        joins = join_fields(self.composition, owner, merged_field, type_joins)
        if joins is None:
            return None
        directives = "".join(" " + self.join("join__field", j) for j in joins)
        key = (owner.name, merged_field.name)
        connects = [(g, usage.fields.get(key, [])) for g, usage in self.connect_usages()]
        directives += "".join(" " + d for d in self.joined(connects))
        return (
            f"{_description(merged_field.description, '  ')}  {merged_field.name}{args}: "
            f"{merged_field.type}{directives}{self.applied(merged_field.applied)}"
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

_JOIN_DIRECTIVE = (
    "directive @join__directive(graphs: [join__Graph!], name: String!, args: "
    "join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION\n\n"
    "scalar join__DirectiveArguments"
)

_FEATURES = {
    "context": (
        '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)',
        "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION\n\n"
        "directive @context__fromContext(field: context__ContextFieldValue) on "
        "ARGUMENT_DEFINITION\n\nscalar context__ContextFieldValue",
    ),
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


def print_supergraph(composition: Composition) -> str:
    """The supergraph SDL of a successful composition."""
    printer = _Printer(composition)
    blocks = [b for t in composition.types.values() if (b := printer.type_block(t)) is not None]
    version = printer.version
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        f'@link(url: "https://specs.apollo.dev/join/{version}", for: EXECUTION)',
    ]
    usages = printer.connect_usages()
    schema_joins: list[str] = []
    if usages:
        major, minor = SUPERGRAPH_CONNECT_VERSION
        links.append(
            f'@link(url: "https://specs.apollo.dev/connect/v{major}.{minor}", for: EXECUTION)'
        )
        schema_joins = printer.joined([(g, [u.link, *u.schema]) for g, u in usages])
    feature_defs = []
    if "join__directive" in printer.used:
        feature_defs.append(_JOIN_DIRECTIVE)
    for name in ("context", "tag", "inaccessible", "policy", "requiresScopes", "authenticated"):
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
        if name in composition.types
    )
    parts = [
        "schema " + " ".join(links + schema_joins) + " {\n" + roots + "\n}\n",
        _HEADER_DIRECTIVES[version]
        + _COMMON
        + ("\nscalar join__FieldValue\n" if version == "v0.5" else "")
        + _LINK,
        *[d + "\n" for d in feature_defs],
        "enum join__Graph {\n"
        + "\n".join(
            f"  {enum} @join__graph(name: {_string(name)}, "
            f"url: {_string(composition.subgraphs[name].url)})"
            for name, enum in composition.graph_enum.items()
        )
        + "\n}\n",
        *[b + "\n" for b in blocks],
    ]
    return "\n".join(parts)
