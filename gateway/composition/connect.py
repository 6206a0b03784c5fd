"""Connector subgraphs in composition: read ``@link``/``@source``/``@connect`` as written, and
check them with the connectors' own schema rules.

A subgraph that links ``https://specs.apollo.dev/connect/vX.Y`` has no GraphQL endpoint: the
gateway calls the REST API the directives describe. The composer does not interpret them; like
``@apollo/composition`` it carries each one into the supergraph as ``@join__directive(graphs:,
name:, args:)`` with the subgraph-local directive name and the arguments exactly as written (see
``emit.py``). What it does interpret is their validity: the rules live in
``gateway.connectors.validate`` (one place for them), and every problem becomes a composition
error with the connector problem's stable code and its location (coordinate and SDL line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLError,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    ValueNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)
from graphql.language import ListValueNode
from graphql.language.print_string import print_string

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.connectors.composition_rules import composition_problems
from gateway.connectors.problems import ConnectorSchemaError
from gateway.connectors.schema import schema_info
from gateway.connectors.sdl import read_connectors

CONNECT_URL = re.compile(r"^https://specs\.apollo\.dev/connect/v(\d+)\.(\d+)$")
#: the connect versions this composer accepts and the Federation version each needs (the
#: connectors digest, §1; @apollo/composition itself does not check the pairing)
CONNECT_MIN_FEDERATION: dict[tuple[int, int], tuple[int, int]] = {(0, 1): (2, 10), (0, 2): (2, 11)}
#: what the supergraph's own ``@link`` to the connect spec names: the newest non-preview version
#: @apollo/composition 2.14.4 knows (it writes it whichever version the subgraphs link)
SUPERGRAPH_CONNECT_VERSION = (0, 3)
#: the join__Graph URL of a connector subgraph published without one: never called (the
#: gateway calls the REST API); the value Apollo's connector examples use (from memory)
CONNECTOR_ROUTING_URL = "http://ignored"


@dataclass(frozen=True, slots=True)
class Joined:
    """One directive to carry as ``@join__directive(name: NAME, args: ARGS)``."""

    name: str
    args: str  # a GraphQL object literal, block strings printed as plain strings


@dataclass(slots=True)
class ConnectUsage:
    """What one subgraph says with the connect spec, in SDL order."""

    version: tuple[int, int]
    link: Joined
    schema: list[Joined] = field(default_factory=list)  # @source
    types: dict[str, list[Joined]] = field(default_factory=dict)  # @connect on types
    fields: dict[tuple[str, str], list[Joined]] = field(default_factory=dict)
    #: coordinate (``Type[i]`` / ``Type.field[i]``, ``@source(name)``) -> SDL line
    lines: dict[str, int] = field(default_factory=dict)


def is_connector_subgraph(sdl: str | DocumentNode) -> bool:
    """The SDL links the connect spec: the gateway calls its REST API, it has no endpoint.

    Takes the parsed document where the caller has one (the composer parses each SDL once)."""
    if isinstance(sdl, str):
        try:
            document = parse(sdl)
        except GraphQLError:
            return False
    else:
        document = sdl
    return any(
        directive.name.value == "link"
        and CONNECT_URL.match(str(_args(directive).get("url") or "")) is not None
        for definition in document.definitions
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode)
        for directive in definition.directives or ()
    )


def routing_url(url: str, sdl: str | DocumentNode) -> str:
    """The URL to publish with: the one given, else for a connector subgraph the placeholder
    (``http://ignored``, as in Apollo's connector examples: the gateway never calls it)."""
    if not url and is_connector_subgraph(sdl):
        return CONNECTOR_ROUTING_URL
    return url


def local_names(link_args: dict[str, Any]) -> tuple[str, str]:
    """The subgraph-local names of ``@connect`` and ``@source`` for one connect ``@link``.

    As the link spec and @apollo/composition read it: an imported directive by its (renamed)
    name; otherwise the spec's own directive as ``@NS`` and the other as ``@NS__source``, where
    NS is the link's ``as`` (default ``connect``).
    """
    namespace = str(link_args.get("as") or "connect")
    names = {"@connect": namespace, "@source": f"{namespace}__source"}
    for item in link_args.get("import") or ():
        if isinstance(item, str) and item in names:
            names[item] = item[1:]
        elif isinstance(item, dict) and item.get("name") in names:
            names[str(item["name"])] = str(item.get("as") or item["name"]).lstrip("@")
    return names["@connect"], names["@source"]


def print_value(value: ValueNode) -> str:
    """A GraphQL value on one line, as @apollo/composition prints directive arguments
    (``{name: "x", http: {GET: "/a"}}``; block strings as ordinary strings)."""
    if isinstance(value, StringValueNode):
        return print_string(value.value)
    if isinstance(value, ListValueNode):
        return "[" + ", ".join(print_value(v) for v in value.values) + "]"
    if isinstance(value, ObjectValueNode):
        fields = (f"{f.name.value}: {print_value(f.value)}" for f in value.fields)
        return "{" + ", ".join(fields) + "}"
    return print_ast(value)


def joined(name: str, directive: ConstDirectiveNode) -> Joined:
    """The directive's written arguments as one object literal."""
    fields = (f"{a.name.value}: {print_value(a.value)}" for a in directive.arguments or ())
    return Joined(name, "{" + ", ".join(fields) + "}")


def _line(node: Any) -> int:
    loc = getattr(node, "loc", None)
    return int(loc.start_token.line) if loc is not None else 0


def read_connect(
    subgraph: str, document: DocumentNode, federation: tuple[int, int]
) -> tuple[ConnectUsage | None, list[CompositionError]]:
    """The subgraph's connect usage (None when it links no connect spec)."""
    schema_directives = [
        directive
        for definition in document.definitions
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode)
        for directive in definition.directives or ()
    ]
    links = [d for d in schema_directives if d.name.value == "link"]
    link = next((d for d in links if CONNECT_URL.match(str(_args(d).get("url") or ""))), None)
    if link is None:
        return None, _unlinked(subgraph, document, schema_directives)
    link_args = _args(link)
    match = CONNECT_URL.match(str(link_args["url"]))
    assert match is not None
    version = (int(match.group(1)), int(match.group(2)))
    problem = _version_problem(subgraph, version, federation)
    if problem is not None:
        return None, [problem]
    connect_name, source_name = local_names(link_args)
    usage = ConnectUsage(version, joined("link", link))
    for directive in schema_directives:
        if directive.name.value == source_name:
            usage.schema.append(joined(source_name, directive))
            usage.lines[f"@source({_args(directive).get('name')})"] = _line(directive)
    for definition in document.definitions:
        if isinstance(definition, _TYPES):
            _read_type(usage, definition, connect_name)
    return usage, []


def _unlinked(
    subgraph: str, document: DocumentNode, schema_directives: list[ConstDirectiveNode]
) -> list[CompositionError]:
    """``@connect``/``@source`` used without the connect ``@link`` (nor a definition of their
    own): an error, as in the reference, rather than a subgraph silently without connectors."""
    defined = {d.name.value for d in document.definitions if isinstance(d, DirectiveDefinitionNode)}
    used = {d.name.value for d in schema_directives}
    for definition in document.definitions:
        if isinstance(definition, _TYPES):
            used |= {d.name.value for d in definition.directives or ()}
            for field_node in definition.fields or ():
                used |= {d.name.value for d in field_node.directives or ()}
    return [
        error(
            E.INVALID_GRAPHQL,
            f'Unknown directive "@{name}": link the connect spec to use it (@link(url: '
            '"https://specs.apollo.dev/connect/v0.2", import: ["@connect", "@source"]), with '
            "Federation v2.11).",
            subgraph,
        )
        for name in ("connect", "source")
        if name in used and name not in defined
    ]


_TYPES = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
)


def _read_type(usage: ConnectUsage, definition: Any, connect_name: str) -> None:
    """The ``@connect``s on one type definition or extension and on its fields."""
    type_name = definition.name.value
    for directive in definition.directives or ():
        if directive.name.value == connect_name:
            found = usage.types.setdefault(type_name, [])
            usage.lines[f"{type_name}[{len(found)}]"] = _line(directive)
            found.append(joined(connect_name, directive))
    for field_node in definition.fields or ():
        for directive in field_node.directives or ():
            if directive.name.value == connect_name:
                key = (type_name, field_node.name.value)
                found = usage.fields.setdefault(key, [])
                usage.lines[f"{type_name}.{key[1]}[{len(found)}]"] = _line(directive)
                found.append(joined(connect_name, directive))


def _version_problem(
    subgraph: str, version: tuple[int, int], federation: tuple[int, int]
) -> CompositionError | None:
    needed = CONNECT_MIN_FEDERATION.get(version)
    if needed is None:
        known = ", ".join(f"v{a}.{b}" for a, b in CONNECT_MIN_FEDERATION)
        return error(
            E.CONNECTOR_VERSION_UNSUPPORTED,
            f"@link names connect v{version[0]}.{version[1]}, which this composer does not "
            f"accept (it accepts {known}).",
            subgraph,
        )
    if federation < needed:
        return error(
            E.CONNECTOR_VERSION_UNSUPPORTED,
            f"connect v{version[0]}.{version[1]} needs Federation v{needed[0]}.{needed[1]} or "
            f"later; this subgraph links Federation v{federation[0]}.{federation[1]}.",
            subgraph,
        )
    return None


def check_connectors(subgraph: str, sdl: str, usage: ConnectUsage) -> list[CompositionError]:
    """Every connector problem of ``sdl`` as a composition error (code, coordinate, SDL line).

    The rules are the connectors' own (``gateway.connectors.sdl`` parses, ``validate`` checks),
    so the composer, ``jamajama check`` and the gateway loading a supergraph agree. The rules
    only the composer applies (``gateway.connectors.composition_rules``: keys, fields no
    connector produces, subscriptions, abstract types) run once the connectors are valid.
    """
    try:
        model = read_connectors(subgraph, sdl)
        info = schema_info(sdl)
        problems = (
            composition_problems(model, info) if model is not None and info is not None else []
        )
    except ConnectorSchemaError as exc:
        problems = exc.problems
    return [_from_problem(subgraph, p.code, p.message, p.coordinate, usage) for p in problems]


_COORDINATE = re.compile(r"^(?:[^:]+:)?(?P<type>[A-Za-z_]\w*)(?:\.(?P<field>\w+))?(?:\[\d+\])?$")


def _from_problem(
    subgraph: str, code: str, message: str, coordinate: str, usage: ConnectUsage
) -> CompositionError:
    local = coordinate.split(":", 1)[1] if ":" in coordinate else ""
    match = _COORDINATE.match(coordinate)
    type_name = match.group("type") if match else None
    field_name = match.group("field") if match else None
    line = usage.lines.get(local)
    where = f"{local} (line {line})" if line else local
    text = f"{where}: {message}" if where else message
    return CompositionError(code, f"[{subgraph}] {text}", subgraph, type_name, field_name, line)


def _args(node: ConstDirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in node.arguments or ()}
