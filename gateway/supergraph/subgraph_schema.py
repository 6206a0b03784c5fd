"""Each subgraph's own schema, rebuilt from the supergraph's join metadata.

The planner sends every subgraph an operation that must be valid against *that subgraph's* schema,
not the supergraph's: there a field may be missing, have a narrower type (``@join__field(type:)``),
an object may not implement an interface, a union may have fewer members, an ``@interfaceObject``
is an object type. This module rebuilds that schema (plus the federation root fields ``_entities``
and ``_service``) so a debug check (``gateway.planner.validation``) can validate every fetch before
it is sent. Built once per supergraph and subgraph; never on the request path.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import (
    ConstDirectiveNode,
    EnumValueDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InputValueDefinitionNode,
    StringValueNode,
    build_ast_schema,
    get_named_type,
    parse,
    parse_type,
    print_ast,
    specified_scalar_types,
)

from gateway.errors import SupergraphError
from gateway.supergraph.links import read_links
from gateway.supergraph.model import Supergraph

_FEDERATION_TYPES = """
scalar _Any
type _Service { sdl: String }
"""


def build_subgraph_schemas(supergraph: Supergraph) -> dict[str, GraphQLSchema]:
    """Every subgraph's schema by subgraph name (see the module docstring)."""
    builder = _SchemaBuilder(supergraph)
    return {name: builder.schema_of(name) for name in supergraph.subgraphs}


def subgraph_sdl(supergraph: Supergraph, graph: str) -> str:
    """The SDL text of one subgraph's schema as rebuilt here (for messages and tests)."""
    if graph not in supergraph.subgraphs:
        raise SupergraphError(f"the supergraph has no subgraph {graph!r}")
    return _SchemaBuilder(supergraph).sdl_of(graph)


class _SchemaBuilder:
    """Reads the join directives once; prints one subgraph's SDL per call."""

    def __init__(self, supergraph: Supergraph) -> None:
        self.supergraph = supergraph
        features = read_links(parse(supergraph.sdl, no_location=True))
        join = next(f for f in features if f.identity == "https://specs.apollo.dev/join")
        self.features = features
        self.join_field = join.directive("field")
        self.join_implements = join.directive("implements")
        self.join_enum_value = join.directive("enumValue")
        self.graph_by_enum = {s.enum_value: s.name for s in supergraph.subgraphs.values()}
        schema = supergraph.schema
        self.implements_declared = any(
            d.name.value == self.join_implements
            for t in schema.type_map.values()
            if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
            for d in _directives(t)
        )

    def schema_of(self, graph: str) -> GraphQLSchema:
        try:
            return build_ast_schema(parse(self.sdl_of(graph)), assume_valid=True)
        except (GraphQLError, TypeError) as error:  # a bug here, not in the supergraph
            raise SupergraphError(
                f"cannot rebuild the schema of subgraph {graph!r}: {error}"
            ) from error

    # -- which types and fields a subgraph has ------------------------------------------------

    def _is_own_type(self, name: str) -> bool:
        return not name.startswith("__") and not any(f.owns(name) for f in self.features)

    def _types_in(self, graph: str) -> list[GraphQLNamedType]:
        schema = self.supergraph.schema
        return [
            t
            for name, t in schema.type_map.items()
            if self._is_own_type(name)
            and name not in specified_scalar_types
            and graph in self.supergraph.graphs_of_type(name)
        ]

    def _field_type(self, field: GraphQLField | GraphQLInputField, graph: str) -> str:
        """The field's type in ``graph``: ``@join__field(type:)`` when it says one."""
        for directive in _directives(field):
            if directive.name.value != self.join_field:
                continue
            args = {a.name.value: a.value for a in directive.arguments or ()}
            graph_arg = args.get("graph")
            type_arg = args.get("type")
            named = getattr(graph_arg, "value", None)
            if self.graph_by_enum.get(str(named)) == graph and isinstance(
                type_arg, StringValueNode
            ):
                return print_ast(parse_type(type_arg.value))
        return str(field.type)

    def _interfaces(
        self, gql_type: GraphQLObjectType | GraphQLInterfaceType, graph: str
    ) -> list[str]:
        if not self.implements_declared:
            return [
                i.name
                for i in gql_type.interfaces
                if graph in self.supergraph.graphs_of_type(i.name)
            ]
        found: list[str] = []
        for directive in _directives(gql_type):
            if directive.name.value != self.join_implements:
                continue
            args = {a.name.value: a.value for a in directive.arguments or ()}
            if self.graph_by_enum.get(str(getattr(args.get("graph"), "value", None))) == graph:
                interface = args.get("interface")
                if isinstance(interface, StringValueNode) and interface.value not in found:
                    found.append(interface.value)
        return found

    def _input_field_in(self, field: GraphQLInputField, graph: str) -> bool:
        joins = [d for d in _directives(field) if d.name.value == self.join_field]
        if not joins:
            return True
        return any(
            self.graph_by_enum.get(str(getattr(a.value, "value", None))) == graph
            for d in joins
            for a in d.arguments or ()
            if a.name.value == "graph"
        )

    def _enum_value_in(self, node: EnumValueDefinitionNode | None, graph: str) -> bool:
        joins = [
            d
            for d in (node.directives if node else ()) or ()
            if d.name.value == self.join_enum_value
        ]
        if not joins:
            return True
        return any(
            self.graph_by_enum.get(str(getattr(a.value, "value", None))) == graph
            for d in joins
            for a in d.arguments or ()
            if a.name.value == "graph"
        )

    # -- printing -------------------------------------------------------------------------------

    def sdl_of(self, graph: str) -> str:
        supergraph = self.supergraph
        schema = supergraph.schema
        query = schema.query_type.name if schema.query_type else "Query"
        mutation = schema.mutation_type.name if schema.mutation_type else None
        subscription = schema.subscription_type.name if schema.subscription_type else None
        lines: list[str] = []
        entity_types: list[str] = []
        printed: set[str] = set()
        wanted: list[str] = []

        def need(type_name: str) -> None:
            if type_name not in specified_scalar_types and type_name not in printed:
                wanted.append(type_name)

        query_fields: list[str] = []
        for gql_type in self._types_in(graph):
            printed.add(gql_type.name)
            text, referenced = self._print_type(gql_type, graph)
            if gql_type.name == query:
                query_fields.append(text)  # completed below with the federation fields
            elif gql_type.name in (mutation, subscription) and not text:
                printed.discard(gql_type.name)  # no such root field here: no such root either
                continue
            else:
                lines.append(text)
            for name in referenced:
                need(name)
            in_graph = supergraph.graphs_of_type(gql_type.name)[graph]
            if in_graph.keys and (
                isinstance(gql_type, GraphQLObjectType) or in_graph.is_interface_object
            ):
                entity_types.append(gql_type.name)
        # A type a field of this graph returns but join__type does not name: take it whole.
        while wanted:
            name = wanted.pop()
            if name in printed or name not in schema.type_map:
                continue
            printed.add(name)
            text, referenced = self._print_type(schema.type_map[name], graph, whole=True)
            lines.append(text)
            for ref in referenced:
                need(ref)

        root_fields = ["_service: _Service!"]
        if entity_types:
            lines.append("union _Entity = " + " | ".join(sorted(entity_types)))
            root_fields.insert(0, "_entities(representations: [_Any!]!): [_Entity]!")
        body = query_fields[0] if query_fields else f"type {query} {{\n}}"
        body = body.rstrip("}").rstrip() + "\n" + "".join(f"  {f}\n" for f in root_fields) + "}"
        lines.insert(0, body)
        schema_def = f"schema {{ query: {query}" + (
            f" mutation: {mutation}" if mutation and mutation in printed else ""
        )
        if subscription and subscription in printed:
            schema_def += f" subscription: {subscription}"
        return schema_def + " }\n" + _FEDERATION_TYPES + "\n\n".join(lines) + "\n"

    def _print_type(
        self, gql_type: GraphQLNamedType, graph: str, *, whole: bool = False
    ) -> tuple[str, list[str]]:
        """One type's SDL in ``graph`` and the type names it references."""
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
            return self._print_fielded(gql_type, graph, whole=whole)
        if isinstance(gql_type, GraphQLUnionType):
            return self._print_union(gql_type, graph, whole=whole)
        if isinstance(gql_type, GraphQLEnumType):
            values = [
                v
                for v, value in gql_type.values.items()
                if whole or self._enum_value_in(value.ast_node, graph)
            ]
            return f"enum {gql_type.name} {{ " + " ".join(values) + " }", []
        if isinstance(gql_type, GraphQLInputObjectType):
            return self._print_input(gql_type, graph, whole=whole)
        assert isinstance(gql_type, GraphQLScalarType)
        return f"scalar {gql_type.name}", []

    def _print_fielded(
        self, gql_type: GraphQLObjectType | GraphQLInterfaceType, graph: str, *, whole: bool
    ) -> tuple[str, list[str]]:
        supergraph = self.supergraph
        name = gql_type.name
        fields, referenced = self._output_fields(gql_type, graph, whole=whole)
        roots = (supergraph.schema.mutation_type, supergraph.schema.subscription_type)
        if not fields and name in {root.name for root in roots if root is not None}:
            return "", []
        in_graph = supergraph.graphs_of_type(name).get(graph)
        interface_object = in_graph is not None and in_graph.is_interface_object
        kind = "interface" if isinstance(gql_type, GraphQLInterfaceType) else "type"
        interfaces: list[str] = []
        if interface_object:
            kind = "type"
        elif whole:
            interfaces = [i.name for i in gql_type.interfaces]
        else:
            interfaces = self._interfaces(gql_type, graph)
        referenced.extend(interfaces)
        implements = " implements " + " & ".join(interfaces) if interfaces else ""
        query = supergraph.schema.query_type
        if not fields and (query is None or name != query.name):  # Query gets _service
            fields = ["  _empty: Boolean\n"]  # an empty type still parses; nobody selects it
        return f"{kind} {name}{implements} {{\n{''.join(fields)}}}", referenced

    def _output_fields(
        self, gql_type: GraphQLObjectType | GraphQLInterfaceType, graph: str, *, whole: bool
    ) -> tuple[list[str], list[str]]:
        """The field lines of an object or interface in ``graph``, and the types they reference."""
        fields: list[str] = []
        referenced: list[str] = []
        for field_name, field in gql_type.fields.items():
            if not whole and graph not in self.supergraph.graphs_of_field(
                gql_type.name, field_name
            ):
                continue
            type_text = self._field_type(field, graph)
            referenced.append(get_named_type(field.type).name)
            referenced.extend(_named(type_text))
            args = ""
            if field.ast_node is not None and field.ast_node.arguments:
                args = "(" + ", ".join(_print_arg(a) for a in field.ast_node.arguments) + ")"
                referenced.extend(get_named_type(a.type).name for a in field.args.values())
            fields.append(f"  {field_name}{args}: {type_text}\n")
        return fields, referenced

    def _print_union(
        self, gql_type: GraphQLUnionType, graph: str, *, whole: bool
    ) -> tuple[str, list[str]]:
        name = gql_type.name
        members = sorted(
            self.supergraph.runtime_types(name, graph)
            if not whole
            else (t.name for t in gql_type.types)
        )
        if not members:
            return f"union {name}", members
        return f"union {name} = " + " | ".join(members), members

    def _print_input(
        self, gql_type: GraphQLInputObjectType, graph: str, *, whole: bool
    ) -> tuple[str, list[str]]:
        fields: list[str] = []
        referenced: list[str] = []
        for field_name, field in gql_type.fields.items():
            if whole or self._input_field_in(field, graph):
                referenced.append(get_named_type(field.type).name)
                default = ""
                if field.ast_node is not None and field.ast_node.default_value is not None:
                    default = " = " + print_ast(field.ast_node.default_value)
                fields.append(f"  {field_name}: {self._field_type(field, graph)}{default}\n")
        return f"input {gql_type.name} {{\n{''.join(fields)}}}", referenced


def _directives(
    element: GraphQLNamedType | GraphQLField | GraphQLInputField,
) -> Iterable[ConstDirectiveNode]:
    nodes = [element.ast_node, *(getattr(element, "extension_ast_nodes", None) or ())]
    return [d for node in nodes if node is not None for d in getattr(node, "directives", ()) or ()]


def _print_arg(node: InputValueDefinitionNode) -> str:
    default = f" = {print_ast(node.default_value)}" if node.default_value is not None else ""
    return f"{node.name.value}: {print_ast(node.type)}{default}"


def _named(type_text: str) -> list[str]:
    return [type_text.strip("[]!")]
