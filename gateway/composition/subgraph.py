"""Read one subgraph's SDL into a normalised model: federation directives resolved, types merged.

Federation 2 subgraphs name their directives through ``@link(url: ".../federation/vX.Y", import:
[...])`` (imports may be renamed; the rest are reachable as ``@federation__name``). Federation 1
subgraphs (no ``@link``) use the bare names. Either way the model below speaks canonical names, and
a type's definition and its extensions are one :class:`SubgraphType`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ConstDirectiveNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLError,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
    print_ast,
    validate_schema,
    value_from_ast_untyped,
)

from gateway.composition import errors as E
from gateway.composition.connect import ConnectUsage, read_connect
from gateway.composition.errors import CompositionError, error

FEDERATION_URL = re.compile(r"^https://specs\.apollo\.dev/federation/v(\d+)\.(\d+)$")
#: the Federation versions this composer knows: v2.0-v2.9 (The Guild's composer knows these),
#: v2.10 and v2.11 (@apollo/composition; they add the connect spec and nothing else here)
KNOWN_FEDERATION_VERSIONS = {(2, minor) for minor in range(12)}
FEDERATION_DIRECTIVES = {
    "key",
    "requires",
    "provides",
    "external",
    "shareable",
    "extends",
    "override",
    "inaccessible",
    "interfaceObject",
    "tag",
    "composeDirective",
    "authenticated",
    "requiresScopes",
    "policy",
    "context",
    "fromContext",
    "cost",
    "listSize",
}
BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy", "skip", "include", "oneOf", "link", "defer"}
BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
#: types a subgraph carries for the federation machinery, never part of the supergraph
FEDERATION_TYPES = {
    "_Service",
    "_Any",
    "_Entity",
    "_FieldSet",
    "FieldSet",
    "link__Import",
    "link__Purpose",
}
ROOT_KINDS = ("query", "mutation", "subscription")
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

OBJECT = "OBJECT"
INTERFACE = "INTERFACE"
UNION = "UNION"
ENUM = "ENUM"
INPUT_OBJECT = "INPUT_OBJECT"
SCALAR = "SCALAR"

_DEF_KIND: dict[type[Any], str] = {
    ObjectTypeDefinitionNode: OBJECT,
    ObjectTypeExtensionNode: OBJECT,
    InterfaceTypeDefinitionNode: INTERFACE,
    InterfaceTypeExtensionNode: INTERFACE,
    UnionTypeDefinitionNode: UNION,
    UnionTypeExtensionNode: UNION,
    EnumTypeDefinitionNode: ENUM,
    EnumTypeExtensionNode: ENUM,
    InputObjectTypeDefinitionNode: INPUT_OBJECT,
    InputObjectTypeExtensionNode: INPUT_OBJECT,
    ScalarTypeDefinitionNode: SCALAR,
    ScalarTypeExtensionNode: SCALAR,
}
_EXTENSIONS = (
    ObjectTypeExtensionNode,
    InterfaceTypeExtensionNode,
    UnionTypeExtensionNode,
    EnumTypeExtensionNode,
    InputObjectTypeExtensionNode,
    ScalarTypeExtensionNode,
)


@dataclass(slots=True)
class Auth:
    """The authorization directives on one element (``@authenticated``, scopes, policies)."""

    authenticated: bool = False
    scopes: list[list[str]] = field(default_factory=list)
    policies: list[list[str]] = field(default_factory=list)

    def any(self) -> bool:
        return self.authenticated or bool(self.scopes) or bool(self.policies)


@dataclass(slots=True)
class Applied:
    """Directives every element may carry and that reach the supergraph."""

    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)
    deprecated: str | None = None  # the reason; "" when deprecated without a reason
    auth: Auth = field(default_factory=Auth)


@dataclass(slots=True)
class SubgraphArgument:
    name: str
    type: str
    default: str | None
    description: str | None
    applied: Applied


@dataclass(frozen=True, slots=True)
class ContextArgument:
    """An argument with ``@fromContext(field: "$context selection")``."""

    name: str
    type: str
    field_value: str  # as written, e.g. "$anggaran { tahunAnggaran }"


@dataclass(slots=True)
class SubgraphField:
    """A field (or input field) as one subgraph declares it."""

    name: str
    type: str
    description: str | None
    args: dict[str, SubgraphArgument]
    applied: Applied
    default: str | None = None  # input fields only
    external: bool = False
    requires: str | None = None
    provides: str | None = None
    shareable: bool = False
    override: str | None = None
    override_label: str | None = None
    #: set while validating: used in a key / a @requires / a @provides of this subgraph
    used_as_key: bool = False
    #: selected by a key of a type declared as an extension: an ``@external`` here is "fake"
    in_extension_key: bool = False
    required: bool = False
    provided: bool = False
    #: ``@fromContext`` arguments (left out of ``args``: they are not in the supergraph field)
    context_arguments: list[ContextArgument] = field(default_factory=list)


@dataclass(slots=True)
class SubgraphEnumValue:
    name: str
    description: str | None
    applied: Applied


@dataclass(slots=True)
class Key:
    fields: str
    resolvable: bool = True


@dataclass(slots=True)
class SubgraphType:
    """A named type as one subgraph declares it (definition plus extensions)."""

    name: str
    kind: str
    description: str | None = None
    fields: dict[str, SubgraphField] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, SubgraphEnumValue] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    has_definition: bool = False
    extension: bool = False  # declared with `extend type`
    extends_directive: bool = False  # declared with `@extends`
    shareable: bool = False
    interface_object: bool = False
    applied: Applied = field(default_factory=Applied)
    #: ``@context(name:)`` names this subgraph sets on the type
    contexts: list[str] = field(default_factory=list)
    specified_by: str | None = None


def is_fake_external(field: SubgraphField) -> bool:
    """An ``@external`` key field of a type extension, which the subgraph does resolve.

    Federation 1 marked the key fields of an ``extend type`` ``@external``; the reference
    composers read them as resolved there (see ``keys.py`` for which key fields count).
    """
    return field.external and field.in_extension_key


@dataclass(slots=True)
class Subgraph:
    """One subgraph, normalised."""

    name: str
    url: str
    version: tuple[int, int]  # (1, 0) for a Federation 1 subgraph
    types: dict[str, SubgraphType]
    #: what it says with the connect spec (None: not a connector subgraph)
    connect: ConnectUsage | None = None

    @property
    def fed2(self) -> bool:
        return self.version[0] >= 2


# --- type strings --------------------------------------------------------------------------------


def named_type(type_str: str) -> str:
    """``[Foo!]!`` -> ``Foo``."""
    return type_str.strip("[]!")


def type_string(node: TypeNode) -> str:
    if isinstance(node, NonNullTypeNode):
        return type_string(node.type) + "!"
    if isinstance(node, ListTypeNode):
        return "[" + type_string(node.type) + "]"
    assert isinstance(node, NamedTypeNode)
    return node.name.value


# --- reading -------------------------------------------------------------------------------------


class _Directives:
    """Maps the names a subgraph uses to canonical federation directive names."""

    def __init__(self, local_to_canonical: dict[str, str], defined: set[str], fed2: bool) -> None:
        self.local_to_canonical = local_to_canonical
        self.defined = defined
        self.fed2 = fed2

    def canonical(self, name: str) -> str | None:
        if name in self.local_to_canonical:
            return self.local_to_canonical[name]
        if not self.fed2 and name in FEDERATION_DIRECTIVES:
            return name
        return None


def _args(node: ConstDirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in node.arguments or ()}


def read_subgraph(
    name: str, sdl: str | DocumentNode, url: str = ""
) -> tuple[Subgraph | None, list[CompositionError]]:
    """Parse (unless given the document) and normalise one subgraph; errors name the subgraph."""
    if isinstance(sdl, DocumentNode):
        return _Reader(name, url, sdl).read()
    try:
        document = parse(sdl)
    except GraphQLSyntaxError as exc:
        return None, [error(E.INVALID_GRAPHQL, f"the SDL does not parse: {exc.message}", name)]
    return _Reader(name, url, document).read()


class _Reader:
    def __init__(self, name: str, url: str, document: DocumentNode) -> None:
        self.name = name
        self.url = url
        self.document = document
        self.errors: list[CompositionError] = []

    def read(self) -> tuple[Subgraph | None, list[CompositionError]]:
        version, directives, roots = self._schema()
        if self.errors:
            return None, self.errors
        self.directives = directives
        types: dict[str, SubgraphType] = {}
        for definition in self.document.definitions:
            kind = _DEF_KIND.get(type(definition))
            if kind is None:
                continue
            type_name = definition.name.value  # type: ignore[attr-defined]
            if type_name in FEDERATION_TYPES or type_name.startswith(
                ("federation__", "link__", "join__")
            ):
                continue
            current = types.get(type_name)
            if current is None:
                current = types[type_name] = SubgraphType(type_name, kind)
            elif current.kind != kind:
                self.errors.append(
                    error(
                        E.INVALID_GRAPHQL,
                        f"is declared both as {current.kind} and {kind}.",
                        self.name,
                        type_name,
                    )
                )
                continue
            self._add(current, definition)
        self._rename_roots(types, roots)
        for type_name in ("Query",):
            query = types.get(type_name)
            if query is not None:
                query.fields.pop("_service", None)
                query.fields.pop("_entities", None)
                if not query.fields and type_name == "Query":
                    del types[type_name]
        self._check_references(types)
        if not self.errors:
            self._validate_graphql(types)
        connect, errors = read_connect(self.name, self.document, version)
        self.errors.extend(errors)
        if self.errors:
            return None, self.errors
        subgraph = Subgraph(self.name, self.url, version, types, connect)
        return subgraph, []

    def _validate_graphql(self, types: dict[str, SubgraphType]) -> None:
        """GraphQL schema validity (type system rules, default values), directives aside."""
        sdl = _model_sdl(types)
        try:
            schema = build_ast_schema(parse(sdl), assume_valid_sdl=True)
        except (TypeError, GraphQLError) as exc:
            self.errors.append(error(E.INVALID_GRAPHQL, f"is not a valid schema: {exc}", self.name))
            return
        for problem in validate_schema(schema):
            self.errors.append(error(E.INVALID_GRAPHQL, problem.message, self.name))
        # (graphql-core's schema validation also checks default values against their types)

    # schema and @link ----------------------------------------------------------------------------

    def _schema(self) -> tuple[tuple[int, int], _Directives, dict[str, str]]:
        """The Federation version, the directive names in use, and the renamed root types."""
        roots: dict[str, str] = {}
        version = (1, 0)
        local: dict[str, str] = {}
        defined = {
            d.name.value
            for d in self.document.definitions
            if isinstance(d, DirectiveDefinitionNode)
        }
        for definition in self.document.definitions:
            if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
                continue
            for op in definition.operation_types or ():
                roots[op.operation.value] = op.type.name.value
            for directive in definition.directives or ():
                linked = self._federation_link(directive)
                if linked is not None:
                    version = linked
                    local.update(_linked_names(_args(directive)))
        return version, _Directives(local, defined, version[0] >= 2), roots

    def _federation_link(self, directive: ConstDirectiveNode) -> tuple[int, int] | None:
        """The version a federation ``@link`` names (None for other directives and links)."""
        if directive.name.value != "link":
            return None
        match = FEDERATION_URL.match(str(_args(directive).get("url") or ""))
        if not match:
            return None
        major, minor = int(match.group(1)), int(match.group(2))
        if (major, minor) not in KNOWN_FEDERATION_VERSIONS:
            self.errors.append(
                error(
                    E.UNKNOWN_FEDERATION_LINK_VERSION,
                    f"@link names Federation v{major}.{minor}, which this composer does "
                    "not know (it knows v2.0 to v2.11). Link "
                    '"https://specs.apollo.dev/federation/v2.11" instead.',
                    self.name,
                )
            )
            return None
        return major, minor

    def _rename_roots(self, types: dict[str, SubgraphType], roots: dict[str, str]) -> None:
        renames = {
            local: ROOT_NAMES[op]
            for op, local in roots.items()
            if local != ROOT_NAMES[op] and local in types
        }
        if not renames:
            return
        for old, new in renames.items():
            moved = types.pop(old)
            moved.name = new
            types[new] = moved
        for t in types.values():
            for f in t.fields.values():
                inner = named_type(f.type)
                if inner in renames:
                    f.type = f.type.replace(inner, renames[inner])
            t.members = [renames.get(m, m) for m in t.members]

    def _check_references(self, types: dict[str, SubgraphType]) -> None:
        known = set(types) | BUILTIN_SCALARS
        for t in types.values():
            for ref in [*t.members, *t.interfaces]:
                if ref not in types:
                    self.errors.append(
                        error(
                            E.INVALID_GRAPHQL,
                            f'names type "{ref}", which this subgraph does not define.'
                            + E.did_you_mean(ref, known),
                            self.name,
                            t.name,
                        )
                    )
            for iface_name in t.interfaces:
                iface = types.get(iface_name)
                if iface is None or iface.kind != INTERFACE:
                    continue
                missing = [f for f in iface.fields if f not in t.fields]
                if missing:
                    self.errors.append(
                        error(
                            E.INVALID_GRAPHQL,
                            f"implements {iface_name} but lacks its field(s) {', '.join(missing)}.",
                            self.name,
                            t.name,
                        )
                    )
            if t.kind == INTERFACE:
                for f in t.fields.values():
                    if f.shareable:
                        self.errors.append(
                            error(
                                E.INVALID_SHAREABLE_USAGE,
                                "is an interface field marked @shareable; only object type "
                                "fields can be shareable.",
                                self.name,
                                t.name,
                                f.name,
                            )
                        )
            for f in t.fields.values():
                refs = [named_type(f.type)] + [named_type(a.type) for a in f.args.values()]
                for ref in refs:
                    if ref not in known:
                        self.errors.append(
                            error(
                                E.INVALID_GRAPHQL,
                                f'refers to type "{ref}", which this subgraph does not define.'
                                + E.did_you_mean(ref, known),
                                self.name,
                                t.name,
                                f.name,
                            )
                        )

    # types -------------------------------------------------------------------------------------

    def _applied(self, nodes: Any, owner: str) -> tuple[Applied, dict[str, dict[str, Any]]]:
        """Common directives into ``Applied``; federation directives by canonical name."""
        applied = Applied()
        federation: dict[str, dict[str, Any]] = {}
        for node in nodes or ():
            local = node.name.value
            args = _args(node)
            if local == "deprecated":
                applied.deprecated = str(args.get("reason", "No longer supported"))
                continue
            canonical = self.directives.canonical(local)
            if canonical is None:
                if (
                    self.directives.fed2
                    and local in FEDERATION_DIRECTIVES
                    and local not in self.directives.defined
                ):
                    self.errors.append(
                        error(
                            E.INVALID_GRAPHQL,
                            f'uses @{local}, which is neither imported nor defined. Add "@{local}" '
                            "to the import list of the federation @link.",
                            self.name,
                            owner,
                        )
                    )
                continue
            if canonical == "inaccessible":
                applied.inaccessible = True
            elif canonical == "tag":
                applied.tags.append(str(args.get("name")))
            elif canonical == "authenticated":
                applied.auth.authenticated = True
            elif canonical == "requiresScopes":
                applied.auth.scopes = _groups(args.get("scopes"))
            elif canonical == "policy":
                applied.auth.policies = _groups(args.get("policies"))
            elif canonical in ("key", "context"):  # repeatable
                federation.setdefault(canonical, {}).setdefault("all", []).append(args)
            else:
                federation[canonical] = args
        return applied, federation

    def _add(self, declared: SubgraphType, node: Any) -> None:
        """Fold one definition or extension node into ``declared``."""
        if isinstance(node, _EXTENSIONS):
            declared.extension = True
        else:
            declared.has_definition = True
            if node.description is not None:
                declared.description = node.description.value
        type_federation = self._add_type_directives(declared, node)
        for interface in getattr(node, "interfaces", None) or ():
            if interface.name.value not in declared.interfaces:
                declared.interfaces.append(interface.name.value)
        for member in getattr(node, "types", None) or ():
            if member.name.value not in declared.members:
                declared.members.append(member.name.value)
        for value in getattr(node, "values", None) or ():
            value_applied, _ = self._applied(
                value.directives, f"{declared.name}.{value.name.value}"
            )
            declared.values[value.name.value] = SubgraphEnumValue(
                value.name.value,
                value.description.value if value.description else None,
                value_applied,
            )
        for field_node in getattr(node, "fields", None) or ():
            self._add_field(declared, field_node, type_federation)

    def _add_type_directives(self, declared: SubgraphType, node: Any) -> dict[str, dict[str, Any]]:
        """Record the type-level directives; returns the federation ones by canonical name."""
        applied, federation = self._applied(node.directives, declared.name)
        _merge_applied(declared.applied, applied)
        for key_args in federation.get("key", {}).get("all", []):
            fields = key_args.get("fields")
            if isinstance(fields, str):
                declared.keys.append(Key(fields, key_args.get("resolvable", True) is not False))
        declared.extends_directive = declared.extends_directive or "extends" in federation
        declared.interface_object = declared.interface_object or "interfaceObject" in federation
        declared.shareable = declared.shareable or "shareable" in federation
        for context_args in federation.get("context", {}).get("all", []):
            if str(context_args.get("name")) not in declared.contexts:
                declared.contexts.append(str(context_args.get("name")))
        if declared.kind == SCALAR and "specifiedBy" in {
            d.name.value for d in node.directives or ()
        }:
            declared.specified_by = "yes"
        return federation

    def _add_field(
        self, declared: SubgraphType, field_node: Any, type_federation: dict[str, dict[str, Any]]
    ) -> None:
        """Add one field; ``@external``/``@shareable`` on the type node apply to its fields."""
        name = field_node.name.value
        owner = f"{declared.name}.{name}"
        field_applied, field_federation = self._applied(field_node.directives, owner)
        args: dict[str, SubgraphArgument] = {}
        context_arguments: list[ContextArgument] = []
        for arg in getattr(field_node, "arguments", None) or ():
            arg_applied, arg_federation = self._applied(arg.directives, owner)
            from_context = arg_federation.get("fromContext", {}).get("field")
            if isinstance(from_context, str):
                context_arguments.append(
                    ContextArgument(arg.name.value, type_string(arg.type), from_context)
                )
                continue
            args[arg.name.value] = SubgraphArgument(
                arg.name.value,
                type_string(arg.type),
                print_ast(arg.default_value) if arg.default_value else None,
                arg.description.value if arg.description else None,
                arg_applied,
            )
        if name in declared.fields:
            self.errors.append(
                error(
                    E.INVALID_GRAPHQL,
                    "is declared twice (a field can only be defined once per type, "
                    "extensions included).",
                    self.name,
                    declared.name,
                    name,
                )
            )
            return
        default = getattr(field_node, "default_value", None)
        override = field_federation.get("override") or {}
        requires = field_federation.get("requires", {}).get("fields")
        provides = field_federation.get("provides", {}).get("fields")
        declared.fields[name] = SubgraphField(
            name=name,
            type=type_string(field_node.type),
            description=field_node.description.value if field_node.description else None,
            args=args,
            applied=field_applied,
            default=print_ast(default) if default is not None else None,
            external="external" in field_federation or "external" in type_federation,
            requires=requires if isinstance(requires, str) else None,
            provides=provides if isinstance(provides, str) else None,
            shareable="shareable" in field_federation or "shareable" in type_federation,
            override=str(override["from"]) if "from" in override else None,
            override_label=str(override["label"]) if override.get("label") else None,
            context_arguments=context_arguments,
        )


def _linked_names(link_args: dict[str, Any]) -> dict[str, str]:
    """Local directive name -> canonical name, for one federation ``@link``: every directive is
    reachable as ``@federation__name`` (or ``@AS__name``), imports by their (renamed) name."""
    prefix = str(link_args.get("as") or "federation")
    local = {f"{prefix}__{canonical}": canonical for canonical in FEDERATION_DIRECTIVES}
    for item in link_args.get("import") or []:
        if isinstance(item, str):
            imported, alias = item, item
        elif isinstance(item, dict):
            imported = str(item.get("name", ""))
            alias = str(item.get("as") or imported)
        else:
            continue
        canonical = imported.removeprefix("@")
        if imported.startswith("@") and canonical in FEDERATION_DIRECTIVES:
            local[alias.lstrip("@")] = canonical
    return local


def _model_sdl(types: dict[str, SubgraphType]) -> str:
    """The subgraph's types as plain SDL (no directives), for GraphQL validation."""
    keyword = {
        OBJECT: "type",
        INTERFACE: "interface",
        UNION: "union",
        ENUM: "enum",
        INPUT_OBJECT: "input",
        SCALAR: "scalar",
    }
    parts = [] if "Query" in types else ["type Query { _jamajamaPlaceholder: Int }"]
    for t in types.values():
        head = f"{keyword[t.kind]} {t.name}"
        if t.interfaces and t.kind in (OBJECT, INTERFACE):
            head += " implements " + " & ".join(t.interfaces)
        if t.kind == SCALAR:
            parts.append(head)
        elif t.kind == UNION:
            parts.append(head + (" = " + " | ".join(t.members) if t.members else ""))
        elif t.kind == ENUM:
            parts.append(head + " { " + " ".join(t.values) + " }" if t.values else head)
        else:
            fields = []
            for f in t.fields.values():
                args = ", ".join(
                    f"{a.name}: {a.type}" + (f" = {a.default}" if a.default else "")
                    for a in f.args.values()
                )
                default = f" = {f.default}" if f.default else ""
                fields.append(f"{f.name}{f'({args})' if args else ''}: {f.type}{default}")
            parts.append(head + (" { " + " ".join(fields) + " }" if fields else ""))
    return "\n".join(parts)


def _groups(value: Any) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    return [[str(item) for item in group] for group in value if isinstance(group, list)]


def _merge_applied(into: Applied, other: Applied) -> None:
    into.inaccessible = into.inaccessible or other.inaccessible
    into.tags.extend(tag for tag in other.tags if tag not in into.tags)
    if other.deprecated is not None:
        into.deprecated = other.deprecated
    into.auth.authenticated = into.auth.authenticated or other.auth.authenticated
    into.auth.scopes = into.auth.scopes or other.auth.scopes
    into.auth.policies = into.auth.policies or other.auth.policies
