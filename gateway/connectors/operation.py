"""Serving a connector subgraph: its GraphQL operation executed here, by HTTP connectors.

The planner plans a connector subgraph like any other (root fetches, ``_entities`` fetches); only
the execution of the fetch differs. :class:`ConnectorOperations` runs the subgraph operation the
plan would have sent — level by level, so each connector is called once per level for all the
objects there (``$batch`` in chunks, other connectors concurrently up to a bound) — and answers
with a normal GraphQL response (``data`` + ``errors`` with paths and stable codes). Authorization,
masking, audit, limits and tracing act on supergraph fields and fetches, so they apply unchanged.

How each requested field gets its value, on an object of type ``T``:

1. the field's own ``@connect`` (``$args``; ``$this`` = the object as mapped so far);
2. else the object's mapped value (a parent connector's selection produced it);
3. else ``T``'s entity connector (``@connect`` on the type, or an ``entity: true`` Query field),
   called with the object as ``$this``/``$batch`` item (or ``$args``), merged into the object.
   ``_entities`` representations start at step 3 (the representation is all they have).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
    parse,
    value_from_ast_untyped,
)
from graphql.pyutils import Undefined

from gateway.errors import ErrorDict

from .model import Connector, ConnectorSubgraph
from .runtime import ConnectorContext, ConnectorInput, execute_connector

Path = tuple[str | int, ...]
#: one source per call: what a request's connectors use (transport, $config, client headers)
ContextFactory = Callable[[Connector], ConnectorContext]

INVALID_OPERATION = "CONNECTOR_OPERATION_INVALID"


@dataclass(slots=True)
class _Item:
    """One object being resolved: what connectors mapped (GraphQL names), what goes out, where."""

    source: dict[str, Any]
    out: dict[str, Any]
    path: Path


@dataclass(slots=True)
class _Run:
    variables: dict[str, Any]
    fragments: dict[str, FragmentDefinitionNode]
    contexts: ContextFactory
    errors: list[ErrorDict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class ConnectorOperations:
    """Executes subgraph operations of one connector subgraph (built per supergraph)."""

    def __init__(self, model: ConnectorSubgraph, schema: GraphQLSchema) -> None:
        self.model = model
        self.schema = schema
        self._fields: dict[tuple[str, str], Connector] = {}
        self._entities: dict[str, Connector] = {}
        for connector in model.connectors:
            if connector.field is not None:
                self._fields.setdefault((connector.parent_type, connector.field), connector)
            else:
                self._entities.setdefault(connector.parent_type, connector)
        for connector in model.connectors:  # entity: true Query fields, after type connectors
            if connector.entity and connector.field is not None:
                self._entities.setdefault(connector.returns.name, connector)
        self._documents: dict[str, DocumentNode] = {}

    def connectors_of(self, operation: str) -> list[Connector]:
        """The connectors an operation may call (for plans): its fields' own, and the entity
        connectors of types whose fields a parent connector may not have mapped."""
        try:
            document = self._parse(operation)
        except GraphQLError:
            return []
        found: list[Connector] = []
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = "Mutation" if definition.operation.value == "mutation" else "Query"
                self._collect_connectors(definition.selection_set, root, found, document)
        return list(dict.fromkeys(found))

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        contexts: ContextFactory,
    ) -> dict[str, Any]:
        """The GraphQL response of ``query`` (``{"data": ..., "errors": [...]}``)."""
        try:
            document = self._parse(query)
        except GraphQLError as error:
            return _invalid(f"the subgraph operation does not parse: {error.message}")
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        chosen = [o for o in operations if operation_name in (None, o.name and o.name.value)]
        if len(chosen) != 1:
            return _invalid("the subgraph operation names no single operation")
        operation = chosen[0]
        run = _Run(dict(variables or {}), fragments, contexts)
        root_name = "Mutation" if operation.operation.value == "mutation" else "Query"
        root = _Item({}, {}, ())
        fields = self._collect(operation.selection_set, root_name, run)
        if root_name == "Mutation":  # one after the other, in document order
            for key, nodes in fields.items():
                await self._resolve_level(root_name, {key: nodes}, [root], run)
        else:
            # ``_entities`` by name: a merged fetch aliases several apart (``e0: _entities(…)``)
            entities = [k for k, nodes in fields.items() if nodes[0].name.value == "_entities"]
            tasks = [self._entities_field(fields.pop(k), root, run) for k in entities]
            tasks.append(self._resolve_level(root_name, fields, [root], run))
            await asyncio.gather(*tasks)
        response: dict[str, Any] = {"data": root.out}
        if run.errors:
            response["errors"] = run.errors
        return response

    def _parse(self, query: str) -> DocumentNode:
        document = self._documents.get(query)
        if document is None:
            document = parse(query, no_location=True)
            if len(self._documents) >= 512:
                self._documents.clear()
            self._documents[query] = document
        return document

    # -- fields ----------------------------------------------------------------------------

    def _collect(
        self, selection_set: SelectionSetNode, type_name: str, run: _Run
    ) -> dict[str, list[FieldNode]]:
        """Response key -> its field nodes, for an object of ``type_name`` (fragments applied)."""
        out: dict[str, list[FieldNode]] = {}
        for selection in selection_set.selections:
            if not _included(selection, run.variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                out.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == type_name:
                    for key, nodes in self._collect(
                        selection.selection_set, type_name, run
                    ).items():
                        out.setdefault(key, []).extend(nodes)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = run.fragments.get(selection.name.value)
                if fragment is not None and fragment.type_condition.name.value == type_name:
                    for key, nodes in self._collect(fragment.selection_set, type_name, run).items():
                        out.setdefault(key, []).extend(nodes)
        return out

    def _definition(self, type_name: str, name: str) -> GraphQLField | None:
        gql_type = self.schema.type_map.get(type_name)
        if isinstance(gql_type, GraphQLObjectType):
            found: GraphQLField | None = gql_type.fields.get(name)
            return found
        return None

    async def _resolve_level(
        self,
        type_name: str,
        fields: dict[str, list[FieldNode]],
        items: list[_Item],
        run: _Run,
    ) -> None:
        """Resolve ``fields`` on every object of ``items`` (all of type ``type_name``)."""
        if not items:
            return
        needed = [
            (key, nodes[0].name.value)
            for key, nodes in fields.items()
            if nodes[0].name.value != "__typename"
            and (type_name, nodes[0].name.value) not in self._fields
        ]
        missing = [i for i in items if any(name not in i.source for _, name in needed)]
        if missing and type_name in self._entities:
            await self._resolve_entities(type_name, missing, needed, run)
        values: dict[str, list[Any]] = {}

        async def connect(key: str, node: FieldNode, connector: Connector) -> None:
            definition = self._definition(type_name, node.name.value)
            args = _arguments(definition, node, run.variables)
            inputs = [
                ConnectorInput(
                    args=args, this=None if connector.root else i.source, path=(*i.path, key)
                )
                for i in items
            ]
            result = await execute_connector(connector, inputs, run.contexts(connector))
            run.errors += result.errors
            run.problems += result.problems
            values[key] = result.data

        calls = []
        for key, nodes in fields.items():
            connector = self._fields.get((type_name, nodes[0].name.value))
            if connector is not None:
                calls.append(connect(key, nodes[0], connector))
        await asyncio.gather(*calls)
        children = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                for item in items:
                    item.out[key] = type_name
                continue
            found = values.get(key)
            for index, item in enumerate(items):
                item.out[key] = found[index] if found is not None else item.source.get(name)
            definition = self._definition(type_name, name)
            if definition is None or is_leaf_type(get_named_type(definition.type)):
                continue
            child_type = get_named_type(definition.type).name
            sub = SelectionSetNode(selections=tuple(s for n in nodes for s in _selections(n)))
            child_items: list[_Item] = []
            for item in items:
                item.out[key] = _objects(item.out[key], (*item.path, key), child_items)
            child_fields = self._collect(sub, child_type, run)
            children.append(self._resolve_level(child_type, child_fields, child_items, run))
        await asyncio.gather(*children)

    async def _resolve_entities(
        self, type_name: str, items: list[_Item], needed: list[tuple[str, str]], run: _Run
    ) -> None:
        """``type_name``'s entity connector for ``items``; its answers merge into their sources.

        A failure is reported on the first field it leaves without a value (the object itself
        may well have fields from elsewhere)."""
        connector = self._entities[type_name]
        paths = [(*i.path, next(k for k, name in needed if name not in i.source)) for i in items]
        pairs = zip(items, paths, strict=True)
        if connector.field is None:
            inputs = [ConnectorInput(this=dict(i.source), path=p) for i, p in pairs]
        else:  # an entity: true Query field: the representation is its arguments
            inputs = [ConnectorInput(args=dict(i.source), path=p) for i, p in pairs]
        result = await execute_connector(connector, inputs, run.contexts(connector))
        run.errors += result.errors
        run.problems += result.problems
        for item, value in zip(items, result.data, strict=True):
            if isinstance(value, dict):
                for name, mapped in value.items():
                    item.source.setdefault(name, mapped)

    async def _entities_field(self, nodes: list[FieldNode], root: _Item, run: _Run) -> None:
        """``_entities(representations:)``: one object per representation, by ``__typename``."""
        key = nodes[0].alias.value if nodes[0].alias else "_entities"
        representations: Any = None
        for argument in nodes[0].arguments or ():
            if argument.name.value == "representations":
                representations = value_from_ast_untyped(argument.value, run.variables)
        if not isinstance(representations, list):
            run.errors.append(_error("_entities needs a list of representations", [key]))
            root.out[key] = None
            return
        out: list[Any] = [None] * len(representations)
        by_type: dict[str, list[_Item]] = {}
        for index, representation in enumerate(representations):
            if not isinstance(representation, dict) or not isinstance(
                representation.get("__typename"), str
            ):
                run.errors.append(_error("a representation needs a __typename", [key, index]))
                continue
            source = {k: v for k, v in representation.items() if k != "__typename"}
            item = _Item(source, {}, (key, index))
            out[index] = item.out
            by_type.setdefault(representation["__typename"], []).append(item)
        sub = SelectionSetNode(selections=tuple(s for n in nodes for s in _selections(n)))
        levels = []
        for type_name, items in by_type.items():
            fields = self._collect(sub, type_name, run)
            levels.append(self._resolve_level(type_name, fields, items, run))
        await asyncio.gather(*levels)
        root.out[key] = out

    def _collect_connectors(
        self,
        selection_set: SelectionSetNode,
        type_name: str,
        found: list[Connector],
        document: DocumentNode,
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "_entities":
                    for sub in _selections(selection):
                        if isinstance(sub, InlineFragmentNode) and sub.type_condition is not None:
                            typename = sub.type_condition.name.value
                            if typename in self._entities:
                                found.append(self._entities[typename])
                            self._collect_connectors(sub.selection_set, typename, found, document)
                    continue
                connector = self._fields.get((type_name, name))
                completes = self._entities.get(type_name)
                if connector is not None:
                    found.append(connector)
                elif completes is not None and name not in (*_keys(completes), "__typename"):
                    found.append(completes)  # may be needed to complete the object
                definition = self._definition(type_name, name)
                if definition is not None and selection.selection_set is not None:
                    child = get_named_type(definition.type).name
                    self._collect_connectors(selection.selection_set, child, found, document)
            elif isinstance(selection, InlineFragmentNode):
                self._collect_connectors(selection.selection_set, type_name, found, document)


def _keys(connector: Connector) -> tuple[str, ...]:
    """The fields an entity connector is given (``$batch``/``$this``, or ``$args``)."""
    return tuple(k for v in ("$batch", "$this", "$args") for k in connector.key_fields(v))


def _selections(node: FieldNode) -> tuple[Any, ...]:
    return node.selection_set.selections if node.selection_set is not None else ()


def _objects(value: Any, path: Path, into: list[_Item]) -> Any:
    """The output shape of a composite value: a new out dict per object (collected in ``into``),
    lists kept, anything else null."""
    if isinstance(value, list):
        return [_objects(v, (*path, i), into) for i, v in enumerate(value)]
    if isinstance(value, dict):
        item = _Item(value, {}, path)
        into.append(item)
        return item.out
    return None


def _included(node: Any, variables: dict[str, Any]) -> bool:
    """``@skip(if:)`` / ``@include(if:)`` of a selection."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
        value = value_from_ast_untyped(condition, variables) if condition is not None else None
        if (name == "skip" and value is True) or (name == "include" and value is False):
            return False
    return True


def _arguments(
    definition: GraphQLField | None, node: FieldNode, variables: dict[str, Any]
) -> dict[str, Any]:
    """``$args``: the field's arguments (variables substituted), defaults for the others."""
    given = {a.name.value: a.value for a in node.arguments or ()}
    out: dict[str, Any] = {}
    for name, value in given.items():
        if isinstance(value, VariableNode) and value.name.value not in variables:
            continue
        out[name] = value_from_ast_untyped(value, variables)
    for name, argument in (definition.args if definition is not None else {}).items():
        if name in out:
            continue
        default = argument.default
        literal: Any = default.literal if default is not None else None
        if isinstance(literal, ValueNode):
            out[name] = value_from_ast_untyped(literal)
        elif default is not None and default.value is not Undefined:
            out[name] = default.value
        elif argument.default_value is not Undefined:
            out[name] = argument.default_value
    return out


def _error(message: str, path: list[str | int]) -> ErrorDict:
    return {"message": message, "path": path, "extensions": {"code": INVALID_OPERATION}}


def _invalid(message: str) -> dict[str, Any]:
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": INVALID_OPERATION}}],
    }
