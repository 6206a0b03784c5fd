"""Read a Federation 2 supergraph SDL (join spec v0.2-v0.5) into the ``Supergraph`` model."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    build_ast_schema,
    parse,
)

from gateway.errors import SupergraphError
from gateway.supergraph.api_schema import build_api_schema
from gateway.supergraph.links import LinkedFeature, check_supported, read_links
from gateway.supergraph.model import (
    ContextArgument,
    FieldInSubgraph,
    Key,
    Subgraph,
    Supergraph,
    TypeInSubgraph,
)


def load_supergraph(
    sdl: str,
    *,
    authorization_enforced: bool = False,
    to_serve: bool = True,
    parsed: tuple[DocumentNode, GraphQLSchema] | None = None,
) -> Supergraph:
    """Parse, check and model a supergraph; raises ``SupergraphError`` with a clear message.

    ``to_serve=False`` (the composer modelling what it composed) skips the refusal of EXECUTION
    and SECURITY features this gateway does not enforce: reachability does not depend on them.
    ``parsed``: the SDL's document and schema, where the caller already built them (the composer
    validates the supergraph first: parsing it again doubled the cost of composing).
    """
    if parsed is not None:
        document, prebuilt = parsed
    else:
        prebuilt = None
        try:
            document = parse(sdl)
        except GraphQLError as error:
            raise SupergraphError(f"the supergraph SDL does not parse: {error.message}") from error
    features = read_links(document)
    if to_serve:
        check_supported(features, authorization_enforced=authorization_enforced)
    join = next(f for f in features if f.identity == "https://specs.apollo.dev/join")
    try:
        schema = prebuilt or build_ast_schema(document, assume_valid_sdl=True)
        api_schema = build_api_schema(document, features)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"the supergraph SDL is not a valid schema: {error}") from error
    reader = _JoinReader(join)
    placement = _Placement(reader, reader.subgraphs(document))
    for name, gql_type in schema.type_map.items():
        if name.startswith("__") or any(f.owns(name) for f in features):
            continue
        placement.read_type(name, gql_type)
    possible_types = placement.abstract_types(schema)
    return Supergraph(
        sdl=sdl,
        schema=schema,
        api_schema=api_schema,
        subgraphs=placement.subgraphs,
        type_graphs=placement.type_graphs,
        field_graphs=placement.field_graphs,
        possible_types_in={
            g: {t: frozenset(objs) for t, objs in per.items()}
            for g, per in placement.possible_in.items()
        },
        possible_types=possible_types,
        features={f.identity: f.version for f in features},
        override_labels=frozenset(placement.labels),
        contexts=_contexts(schema, features),
    )


def _contexts(schema: GraphQLSchema, features: list[LinkedFeature]) -> dict[str, frozenset[str]]:
    """``@context(name:)`` on types: each context name with the types that set it."""
    feature = next((f for f in features if f.identity == "https://specs.apollo.dev/context"), None)
    if feature is None:
        return {}
    directive = feature.directive("context")
    found: dict[str, set[str]] = defaultdict(set)
    for name, gql_type in schema.type_map.items():
        nodes = [gql_type.ast_node, *(getattr(gql_type, "extension_ast_nodes", None) or ())]
        for node in nodes:
            for applied in getattr(node, "directives", None) or ():
                if applied.name.value == directive:
                    found[str(_args(applied).get("name"))].add(name)
    return {context: frozenset(types) for context, types in found.items()}


class _Placement:
    """Where each type and field lives, and which objects each abstract type has per subgraph."""

    def __init__(self, reader: _JoinReader, subgraphs: dict[str, Subgraph]) -> None:
        self.reader = reader
        self.subgraphs = subgraphs
        self.type_graphs: dict[str, dict[str, TypeInSubgraph]] = {}
        self.field_graphs: dict[tuple[str, str], dict[str, FieldInSubgraph]] = {}
        self.possible_in: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.labels: set[str] = set()
        self.implements_seen = False

    def read_type(self, name: str, gql_type: GraphQLNamedType) -> None:
        nodes = [gql_type.ast_node, *(gql_type.extension_ast_nodes or ())]
        directives = [d for node in nodes if node is not None for d in node.directives or ()]
        graphs = self.reader.type_graphs(directives, self.subgraphs)
        if not graphs:  # a type no @join__type names (older composers): known everywhere
            graphs = {g: TypeInSubgraph(graph=g) for g in self.subgraphs}
        self.type_graphs[name] = graphs
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
            self._read_fielded(name, gql_type, directives, graphs)
        if isinstance(gql_type, GraphQLUnionType):
            self._read_union(name, gql_type, directives, graphs)

    def _read_fielded(
        self,
        name: str,
        gql_type: GraphQLObjectType | GraphQLInterfaceType,
        directives: list[ConstDirectiveNode],
        graphs: dict[str, TypeInSubgraph],
    ) -> None:
        for graph, interface in self.reader.implements(directives, self.subgraphs):
            self.implements_seen = True
            if isinstance(gql_type, GraphQLObjectType):
                self.possible_in[graph][interface].add(name)
        for field_name, gql_field in gql_type.fields.items():
            field_directives = (
                list(gql_field.ast_node.directives or ()) if gql_field.ast_node else []
            )
            entries = self.reader.field_graphs(
                field_directives, self.subgraphs, gql_type.name, graphs
            )
            self.field_graphs[(name, field_name)] = entries
            self.labels.update(e.override_label for e in entries.values() if e.override_label)

    def _read_union(
        self,
        name: str,
        gql_type: GraphQLUnionType,
        directives: list[ConstDirectiveNode],
        graphs: dict[str, TypeInSubgraph],
    ) -> None:
        members = self.reader.union_members(directives, self.subgraphs)
        if members:
            for graph, member in members:
                self.possible_in[graph][name].add(member)
            return
        for graph in graphs:
            self.possible_in[graph][name] = {
                m.name for m in gql_type.types if graph in self.type_graphs.get(m.name, {})
            }

    def abstract_types(self, schema: GraphQLSchema) -> dict[str, frozenset[str]]:
        """The objects of each interface and union; per subgraph too when no @join__implements."""
        possible_types: dict[str, frozenset[str]] = {}
        for name, gql_type in schema.type_map.items():
            if isinstance(gql_type, GraphQLInterfaceType | GraphQLUnionType):
                objects = frozenset(t.name for t in schema.get_possible_types(gql_type))
                possible_types[name] = objects
                if isinstance(gql_type, GraphQLInterfaceType) and not self.implements_seen:
                    for graph in self.type_graphs.get(name, {}):
                        self.possible_in[graph][name] = {
                            o for o in objects if graph in self.type_graphs.get(o, {})
                        }
        return possible_types


def parse_field_set(text: str) -> SelectionSetNode:
    """Parse a ``join__FieldSet`` (``"id organization { id }"``) into a selection set."""
    try:
        operation = parse("{" + text + "}", no_location=True).definitions[0]
    except GraphQLError as error:
        raise SupergraphError(f"field set {text!r} does not parse: {error.message}") from error
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


class _JoinReader:
    """Reads the join spec's directives under the names this supergraph links them as."""

    def __init__(self, join: LinkedFeature) -> None:
        self.graph = join.directive("graph")
        self.type = join.directive("type")
        self.field = join.directive("field")
        self.implements_name = join.directive("implements")
        self.union_member = join.directive("unionMember")
        self.graph_enum = join.type_name("Graph")

    def subgraphs(self, document: DocumentNode) -> dict[str, Subgraph]:
        enum = next(
            (
                d
                for d in document.definitions
                if isinstance(d, EnumTypeDefinitionNode) and d.name.value == self.graph_enum
            ),
            None,
        )
        if enum is None:
            raise SupergraphError(f"the supergraph has no {self.graph_enum} enum")
        self.by_enum: dict[str, str] = {}
        subgraphs: dict[str, Subgraph] = {}
        for value in enum.values or ():
            directive = next(
                (d for d in value.directives or () if d.name.value == self.graph), None
            )
            args = _args(directive) if directive else {}
            name, url = args.get("name"), args.get("url")
            if not isinstance(name, str) or not isinstance(url, str):
                raise SupergraphError(
                    f"{self.graph_enum}.{value.name.value} lacks @{self.graph}(name:, url:)"
                )
            subgraphs[name] = Subgraph(name=name, url=url, enum_value=value.name.value)
            self.by_enum[value.name.value] = name
        return subgraphs

    def _graph(self, value: Any, subgraphs: dict[str, Subgraph]) -> str:
        if value not in self.by_enum:
            raise SupergraphError(f"join directive names unknown graph {value!r}")
        return self.by_enum[value]

    def type_graphs(
        self, directives: list[ConstDirectiveNode], subgraphs: dict[str, Subgraph]
    ) -> dict[str, TypeInSubgraph]:
        keys: dict[str, list[Key]] = defaultdict(list)
        flags: dict[str, tuple[bool, bool]] = {}
        for directive in directives:
            if directive.name.value != self.type:
                continue
            args = _args(directive)
            graph = self._graph(args.get("graph"), subgraphs)
            interface_object = bool(args.get("isInterfaceObject", False))
            extension = bool(args.get("extension", False))
            previous = flags.get(graph, (False, False))
            flags[graph] = (previous[0] or interface_object, previous[1] or extension)
            key = args.get("key")
            if isinstance(key, str):
                keys[graph].append(
                    Key(
                        text=key,
                        selection_set=parse_field_set(key),
                        resolvable=bool(args.get("resolvable", True)),
                    )
                )
        return {
            graph: TypeInSubgraph(
                graph=graph,
                keys=tuple(keys.get(graph, ())),
                is_interface_object=flags[graph][0],
                extension=flags[graph][1],
            )
            for graph in flags
        }

    def implements(
        self, directives: list[ConstDirectiveNode], subgraphs: dict[str, Subgraph]
    ) -> list[tuple[str, str]]:
        found = []
        for directive in directives:
            if directive.name.value == self.implements_name:
                args = _args(directive)
                found.append((self._graph(args.get("graph"), subgraphs), str(args["interface"])))
        return found

    def union_members(
        self, directives: list[ConstDirectiveNode], subgraphs: dict[str, Subgraph]
    ) -> list[tuple[str, str]]:
        found = []
        for directive in directives:
            if directive.name.value == self.union_member:
                args = _args(directive)
                found.append((self._graph(args.get("graph"), subgraphs), str(args["member"])))
        return found

    def field_graphs(
        self,
        directives: list[ConstDirectiveNode],
        subgraphs: dict[str, Subgraph],
        type_name: str,
        type_graphs: dict[str, TypeInSubgraph],
    ) -> dict[str, FieldInSubgraph]:
        joins = [d for d in directives if d.name.value == self.field]
        if not joins:
            return {g: FieldInSubgraph(graph=g) for g in type_graphs}
        entries: dict[str, FieldInSubgraph] = {}
        for directive in joins:
            args = _args(directive)
            if args.get("graph") is None:
                continue  # declared for the supergraph only (e.g. supplied by an @interfaceObject)
            graph = self._graph(args["graph"], subgraphs)
            requires, provides = args.get("requires"), args.get("provides")
            entries[graph] = FieldInSubgraph(
                graph=graph,
                external=bool(args.get("external", False)),
                requires=parse_field_set(requires) if isinstance(requires, str) else None,
                requires_text=requires if isinstance(requires, str) else None,
                provides=parse_field_set(provides) if isinstance(provides, str) else None,
                provides_text=provides if isinstance(provides, str) else None,
                overrides=args.get("override") if isinstance(args.get("override"), str) else None,
                override_label=args.get("overrideLabel")
                if isinstance(args.get("overrideLabel"), str)
                else None,
                used_overridden=bool(args.get("usedOverridden", False)),
                context_arguments=_context_arguments(args.get("contextArguments"), type_name),
                type_text=args.get("type") if isinstance(args.get("type"), str) else None,
            )
        return entries


def _context_arguments(value: Any, type_name: str) -> tuple[ContextArgument, ...]:
    """``contextArguments: [{context, name, type, selection}]`` of one ``@join__field``."""
    if not value:
        return ()
    found: list[ContextArgument] = []
    for item in value if isinstance(value, list) else [value]:
        try:
            selection_text = str(item["selection"])
            inner = selection_text.strip()
            if inner.startswith("{") and inner.endswith("}"):  # else: inline fragments
                inner = inner[1:-1]
            found.append(
                ContextArgument(
                    name=str(item["name"]),
                    type_text=str(item["type"]),
                    context=str(item["context"]),
                    selection=parse_field_set(inner),
                    selection_text=selection_text,
                )
            )
        except (KeyError, TypeError) as error:
            raise SupergraphError(
                f"{type_name} has a malformed join contextArguments entry: {item!r}"
            ) from error
    return tuple(found)


def _args(directive: ConstDirectiveNode) -> dict[str, Any]:
    from graphql import value_from_ast_untyped

    values: dict[str, Any] = {}
    for arg in directive.arguments or ():
        if isinstance(arg.value, StringValueNode):
            values[arg.name.value] = arg.value.value
        else:
            values[arg.name.value] = value_from_ast_untyped(arg.value)
    return values
