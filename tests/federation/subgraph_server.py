"""A data-driven Federation 2 subgraph for end-to-end tests: SDL + a JSON data file -> HTTP server.

The subgraph is a real GraphQL server built with graphql-core: it answers `_service { sdl }`,
`_entities(representations:)` (by `@key` fields, `null` for unknown keys), root fields from the
data, abstract types by `__typename`, and computes `@requires` fields from the representation with
deterministic rules declared in the data, so a test proves that the required values arrived. It
records every request and can be told to fail. The data format is documented in README.md.

Layout: `build_subgraph_schema` (SDL -> executable schema + federation metadata), `SubgraphData`
(the mutable in-memory data and the resolvers over it), `DataDrivenSubgraph` (the ASGI app with the
request log and fault injection), `SubgraphHost` (one uvicorn server on an ephemeral loopback port
hosting many subgraphs under path prefixes).
"""

from __future__ import annotations

import copy
import json
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    build_ast_schema,
    graphql_sync,
    parse,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.servers import ServerThread

_FEDERATION_TYPES = """
scalar _Any
type _Service { sdl: String }
"""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_$][A-Za-z0-9_.$]*\??)\}")


class _Missing:
    """Marker for 'no value in the data' (distinct from an explicit JSON null)."""


MISSING = _Missing()


@dataclass(frozen=True, slots=True)
class EntityKey:
    """One `@key` of an entity type in this subgraph: its field set and whether it is resolvable."""

    selection: SelectionSetNode
    resolvable: bool


@dataclass(frozen=True, slots=True)
class SubgraphSchema:
    """The executable schema of a subgraph plus the federation metadata read from its SDL."""

    sdl: str
    schema: GraphQLSchema
    keys: dict[str, list[EntityKey]]


def _directive_arg(directive: Any, name: str) -> Any:
    for argument in directive.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if isinstance(value, StringValueNode | BooleanValueNode):
                return value.value
    return None


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra`'s members laid over it, nested objects merged member by member."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_field_set(fields: str) -> SelectionSetNode:
    """Parse a federation FieldSet string (`"id org { id }"`) into a selection set."""
    document = parse("{" + fields + "}", no_location=True)
    return document.definitions[0].selection_set  # type: ignore[attr-defined]


def project(value: Any, selection: SelectionSetNode) -> Any:
    """The part of `value` selected by a field set, or MISSING if a selected field is absent."""
    if isinstance(value, list):
        items = [project(item, selection) for item in value]
        return MISSING if any(item is MISSING for item in items) else items
    if not isinstance(value, dict):
        return MISSING
    result: dict[str, Any] = {}
    for node in selection.selections:
        if not isinstance(node, FieldNode):
            continue
        name = node.name.value
        if name not in value:
            return MISSING
        inner = value[name]
        if node.selection_set is not None and inner is not None:
            inner = project(inner, node.selection_set)
            if inner is MISSING:
                return MISSING
        result[name] = inner
    return result


def build_subgraph_schema(sdl: str) -> SubgraphSchema:
    """Build an executable subgraph schema from Federation SDL (Federation 2 `@link`, or 1).

    Federation directives are read from the AST and not declared: the schema is built with
    `assume_valid_sdl`. Type extensions without a base definition (Federation 1 `extend type`)
    become definitions. `_Any`, `_Service`, `_Entity`, `Query._service` and `Query._entities` are
    added as the Federation subgraph spec requires.
    """
    document = parse(sdl, no_location=True)
    defined = {d.name.value for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    definitions: list[Any] = []
    promoted: dict[str, int] = {}
    for node in document.definitions:
        if isinstance(node, ObjectTypeExtensionNode | InterfaceTypeExtensionNode):
            name = node.name.value
            if name not in defined:
                cls = (
                    ObjectTypeDefinitionNode
                    if isinstance(node, ObjectTypeExtensionNode)
                    else InterfaceTypeDefinitionNode
                )
                if name in promoted:
                    base = definitions[promoted[name]]
                    definitions[promoted[name]] = cls(
                        name=base.name,
                        interfaces=(*base.interfaces, *node.interfaces),
                        directives=(*base.directives, *node.directives),
                        fields=(*base.fields, *node.fields),
                    )
                    continue
                promoted[name] = len(definitions)
                definitions.append(
                    cls(
                        name=node.name,
                        interfaces=node.interfaces,
                        directives=node.directives,
                        fields=node.fields,
                    )
                )
                continue
        definitions.append(node)

    keys: dict[str, list[EntityKey]] = {}
    object_types: set[str] = set()
    for node in definitions:
        if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            object_types.add(node.name.value)
        if not hasattr(node, "directives") or not hasattr(node, "name"):
            continue
        for directive in node.directives or ():
            if directive.name.value == "key":
                resolvable = _directive_arg(directive, "resolvable")
                keys.setdefault(node.name.value, []).append(
                    EntityKey(
                        selection=parse_field_set(_directive_arg(directive, "fields")),
                        resolvable=resolvable is not False,
                    )
                )

    extra = _FEDERATION_TYPES
    entity_types = sorted(name for name in keys if name in object_types)
    if entity_types:
        extra += "union _Entity = " + " | ".join(entity_types) + "\n"
    root_fields = "_service: _Service!\n"
    if entity_types:
        root_fields += "_entities(representations: [_Any!]!): [_Entity]!\n"
    has_query = "Query" in defined or "Query" in promoted
    extra += ("extend type Query {" if has_query else "type Query {") + root_fields + "}\n"
    full = DocumentNode(definitions=(*definitions, *parse(extra, no_location=True).definitions))
    schema = build_ast_schema(full, assume_valid_sdl=True)
    return SubgraphSchema(sdl=sdl, schema=schema, keys=keys)


def _lookup_path(context: dict[str, Any], path: str) -> Any:
    """Follow a dotted path through dicts, mapping over lists; MISSING if a step is absent."""
    value: Any = context
    for step in path.split("."):
        if isinstance(value, list):
            items = [_lookup_path(item, step) for item in value]
            if any(item is MISSING for item in items):
                return MISSING
            value = items
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return MISSING
    return value


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def expand(template: Any, context: dict[str, Any]) -> Any:
    """Fill `{path}` placeholders in strings (recursively in lists and dicts) from `context`.

    A string that is exactly one placeholder keeps the value's JSON type; otherwise the values are
    formatted into the string. A placeholder whose path is absent raises a GraphQL error, which is
    how a test notices that a `@requires` value did not arrive; `{path?}` is optional (null).
    """
    if isinstance(template, dict):
        return {key: expand(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [expand(item, context) for item in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template)
    if whole:
        return _required(context, whole.group(1))
    return _PLACEHOLDER.sub(lambda m: _text(_required(context, m.group(1))), template)


def _required(context: dict[str, Any], path: str) -> Any:
    optional = path.endswith("?")
    value = _lookup_path(context, path.rstrip("?"))
    if value is MISSING and optional:
        return None
    if value is MISSING:
        raise GraphQLError(f"Data-driven subgraph: '{path}' is missing (required value not sent?)")
    return value


def argument_key(field_name: str, arguments: dict[str, Any]) -> str:
    """The data key of a field called with arguments: `price(currency: "EUR")` (JSON values)."""
    parts = [
        f"{name}: {json.dumps(value)}" for name, value in arguments.items() if value is not None
    ]
    return f"{field_name}({', '.join(parts)})"


class _Root:
    """The root value: resolvers pick `Query` or `Mutation` data by the parent type."""


ROOT = _Root()


class SubgraphData:
    """The in-memory data of one subgraph and the generic resolvers that read (and mutate) it."""

    def __init__(self, subgraph: SubgraphSchema, data: dict[str, Any]) -> None:
        self.subgraph = subgraph
        self.pristine = copy.deepcopy(data)
        for typename, items in self.pristine.get("entities", {}).items():
            for item in items:
                item.setdefault("__typename", typename)
        self.state: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every mutation: back to the data as loaded."""
        self.state = copy.deepcopy(self.pristine)

    @property
    def fault(self) -> dict[str, Any] | None:
        fault = self.state.get("fault")
        return {"kind": fault} if isinstance(fault, str) else fault

    # -- entities -----------------------------------------------------------------------------

    def _candidate_types(self, typename: str) -> list[str]:
        schema_type = self.subgraph.schema.get_type(typename)
        if isinstance(schema_type, GraphQLInterfaceType):
            return [t.name for t in self.subgraph.schema.get_possible_types(schema_type)]
        return [typename]

    def find_entity(self, representation: dict[str, Any]) -> dict[str, Any] | None:
        """Resolve one representation by any resolvable `@key` of its type; None if unknown."""
        typename = representation.get("__typename")
        if not isinstance(typename, str):
            raise GraphQLError("Representation without __typename")
        fields = {k: v for k, v in representation.items() if k != "__typename"}
        keys = [k for k in self.subgraph.keys.get(typename, []) if k.resolvable]
        entities = self.state.get("entities", {})
        for candidate in [typename, *self._candidate_types(typename)]:
            for entity in entities.get(candidate, []):
                for key in keys or self.subgraph.keys.get(candidate, []):
                    wanted = project(representation, key.selection)
                    if wanted is not MISSING and wanted == project(entity, key.selection):
                        return deep_merge(entity, fields)
        if typename in self.state.get("open", []):
            return dict(representation)
        return None

    def find_ref(self, ref: dict[str, Any]) -> dict[str, Any]:
        typename = ref["$ref"]
        match = {k: v for k, v in ref.items() if k != "$ref"}
        for candidate in self._candidate_types(typename):
            for entity in self.state.get("entities", {}).get(candidate, []):
                if all(entity.get(k) == v for k, v in match.items()):
                    return entity
        raise GraphQLError(f"Data-driven subgraph: no {typename} matching {match}")

    # -- resolvers ----------------------------------------------------------------------------

    def resolve_field(self, source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        """Resolve a field from the data: argument key, plain key, then the computed rule."""
        name = info.field_name
        if source is ROOT:
            if name == "_service":
                return {"sdl": self.subgraph.sdl}
            if name == "_entities":
                return [self.find_entity(r) for r in arguments["representations"]]
            source = self.state.get(info.parent_type.name, {})
        if not isinstance(source, dict):
            return None
        value: Any = MISSING
        ordered = {
            arg: arguments.get(arg)
            for arg in info.parent_type.fields[name].args
            if arg in arguments
        }
        if ordered:
            value = source.get(argument_key(name, ordered), MISSING)
        if value is MISSING:
            value = source.get(name, MISSING)
        if value is MISSING:
            typename = source.get("__typename", info.parent_type.name)
            rules = self.state.get("computed", {})
            value = rules.get(typename, {}).get(
                name, rules.get(info.parent_type.name, {}).get(name)
            )
        if value is MISSING or value is None:
            return None
        return self.materialize(value, {**source, "args": ordered})

    def materialize(self, value: Any, context: dict[str, Any]) -> Any:
        """Turn a data value into a resolver result, applying the `$` rules of the data format."""
        if isinstance(value, list):
            return [self.materialize(item, context) for item in value]
        if not isinstance(value, dict):
            return value
        if "$ref" in value:
            return self.find_ref(expand(value, context))
        if "$error" in value:
            raise GraphQLError(value["$error"], extensions=value.get("extensions"))
        if "$template" in value:
            return expand(value["$template"], context)
        if "$value" in value:
            return expand(value["$value"], context)
        if "$sum" in value:
            terms = [expand(term, context) for term in value["$sum"]]
            return sum(n for term in terms for n in _flatten(term) if n is not None)
        if "$create" in value:
            return self._create(value, context)
        if "$update" in value:
            return self._update(value, context)
        if "$increment" in value:
            counters = self.state.setdefault("Query", {})
            by = expand(value.get("by", 1), context)
            counters[value["$increment"]] = counters.get(value["$increment"], 0) + by
            return counters[value["$increment"]]
        if "$append" in value:
            items = self.state.setdefault("Query", {}).setdefault(value["$append"], [])
            items.append(expand(value["value"], context))
            return list(items)
        return value

    def _create(self, spec: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        typename = spec["$create"]
        items = self.state.setdefault("entities", {}).setdefault(typename, [])
        if "fields" in spec:
            new = expand(spec["fields"], context)
        else:
            new = copy.deepcopy(context["args"])
        new.setdefault("__typename", typename)
        schema_type = self.subgraph.schema.get_type(typename)
        if isinstance(schema_type, GraphQLObjectType) and "id" in schema_type.fields:
            new.setdefault("id", f"{typename.lower()}{len(items) + 1}")
        items.append(new)
        return new

    def _update(self, spec: dict[str, Any], context: dict[str, Any]) -> dict[str, Any] | None:
        match = expand(spec["match"], context)
        for entity in self.state.get("entities", {}).get(spec["$update"], []):
            if all(entity.get(k) == v for k, v in match.items()):
                entity.update(expand(spec.get("set", {}), context))
                return entity
        return None

    @staticmethod
    def resolve_type(value: Any, info: GraphQLResolveInfo, abstract_type: Any) -> str | None:
        if isinstance(value, dict):
            return value.get("__typename")
        return None

    def execute(self, query: str, variables: dict[str, Any] | None, operation_name: str | None):
        result = graphql_sync(
            self.subgraph.schema,
            query,
            root_value=ROOT,
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=self.resolve_field,
            type_resolver=self.resolve_type,
        )
        return result.formatted


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a subgraph received."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class DataDrivenSubgraph:
    """A subgraph served from SDL + JSON data, as an ASGI app; records requests, injects faults."""

    name: str
    data: SubgraphData
    requests: list[RecordedRequest] = field(default_factory=list)

    @classmethod
    def from_files(cls, name: str, sdl_path: Path, data_path: Path | None) -> DataDrivenSubgraph:
        sdl = sdl_path.read_text()
        raw = json.loads(data_path.read_text()) if data_path and data_path.exists() else {}
        return cls(name=name, data=SubgraphData(build_subgraph_schema(sdl), raw))

    def reset(self) -> None:
        """Restore the data and clear the request log (call before each operation)."""
        self.data.reset()
        self.requests.clear()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return PlainTextResponse("POST a GraphQL request", status_code=405)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": [{"message": "Body is not JSON"}]}, status_code=400)
        if not isinstance(body, dict):
            message = "Body is not a GraphQL request object"
            return JSONResponse({"errors": [{"message": message}]}, status_code=400)
        query = body.get("query") or ""
        self.requests.append(
            RecordedRequest(
                query, body.get("variables"), body.get("operationName"), dict(request.headers)
            )
        )
        fault = self.data.fault
        if fault and fault.get("when", "") in query:
            kind = fault.get("kind")
            if kind == "delay":
                await anyio.sleep(fault.get("ms", 1000) / 1000)
            elif kind == "http500":
                return PlainTextResponse(fault.get("body", "Internal Server Error"), 500)
            elif kind == "malformed":
                return PlainTextResponse("this is not JSON", 200)
            elif kind == "graphql_errors":
                message = fault.get("message", f"{self.name} failed")
                return JSONResponse({"data": None, "errors": [{"message": message}]})
            elif kind == "unreachable":
                return PlainTextResponse("unreachable subgraph was reached", 503)
        result = self.data.execute(query, body.get("variables"), body.get("operationName"))
        return JSONResponse(result)


class SubgraphHost:
    """One uvicorn server on 127.0.0.1 (ephemeral port, own thread) hosting many subgraphs.

    A subgraph mounted as `requires/basic/inventory` is served at
    `http://127.0.0.1:PORT/requires/basic/inventory`.
    """

    def __init__(self) -> None:
        self.apps: dict[str, DataDrivenSubgraph] = {}
        self._server = ServerThread(self._dispatch, interface="asgi3", lifespan="off", http="h11")
        self.port: int = self._server.port
        # Bound but never listening: connections are refused, for "unreachable" subgraphs.
        self._dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._dead.bind(("127.0.0.1", 0))
        self.dead_url = f"http://127.0.0.1:{self._dead.getsockname()[1]}/graphql"

    def mount(self, path: str, app: DataDrivenSubgraph) -> str:
        """Serve `app` under `path`; returns its URL (or a refusing URL for unreachable ones)."""
        self.apps[path.strip("/")] = app
        fault = app.data.fault
        if fault and fault.get("kind") == "unreachable":
            return self.dead_url
        return f"http://127.0.0.1:{self.port}/{path.strip('/')}"

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.apps.get(scope["path"].strip("/"))
        if app is None:
            await PlainTextResponse("no such subgraph", 404)(scope, receive, send)
            return
        await app(scope, receive, send)

    def start(self) -> SubgraphHost:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._dead.close()

    def __enter__(self) -> SubgraphHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
