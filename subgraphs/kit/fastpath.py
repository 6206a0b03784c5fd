"""A direct executor for the documents the gateway sends; Strawberry stays the reference.

Profiling the `case` fetches (bench/kit.py) showed an OPD subgraph spending its time in the
general machinery around each field — graphql-core's per-field execution and Strawberry's
wrappers — not in SQLite. This executor runs the same resolvers (the ones graphql-core would
call, found on Strawberry's schema) over a plain walk of the selection set, one field at a time
for all objects of a level, so every DataLoader still gets the whole level in one batch.

It answers only what it can answer exactly like Strawberry: one query operation, field and inline
fragment selections without directives, no introspection, and a run without any error (a resolver
raising, a non-null field resolving to null, a value that does not serialize, a representation
that is not found). Anything else — and every request that would carry an error — returns None,
and the caller hands the request to Strawberry, so errors, masking and logging stay in one place.
Parse and validation use Strawberry's rules and are cached per document.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import lru_cache
from types import GeneratorType
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    default_field_resolver,
    parse,
    specified_rules,
    specified_scalar_types,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.federation import Schema
from strawberry.schema.schema import validate_document
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.utils.inspect import get_func_args

#: Documents prepared (parsed, validated, operation chosen) and kept.
CACHE_SIZE = 256


class Unsupported(Exception):
    """This request needs Strawberry's executor (an error to report, or a feature not handled)."""


async def _gather(values: Sequence[Any]) -> list[Any]:
    return list(await asyncio.gather(*values))


def _track(_value: Any) -> None:
    return None


_HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=_track)


class FastPath:
    """Answers `{"query", "variables", "operationName"}` payloads against one Strawberry schema."""

    def __init__(self, schema: Schema) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.entities = _Entities.of(schema)
        self._prepare: Callable[[str, str | None], OperationDefinitionNode | None] = lru_cache(
            maxsize=CACHE_SIZE
        )(self._prepare_uncached)

    def _prepare_uncached(self, query: str, name: str | None) -> OperationDefinitionNode | None:
        """The operation to run, or None if the document is invalid or uses what we do not do."""
        try:
            document: DocumentNode = parse(query)
        except GraphQLError:
            return None
        if validate_document(self.schema, document, tuple(specified_rules)):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != len(document.definitions) or len(operations) != 1:
            return None  # fragment definitions or several operations: Strawberry's job
        operation = operations[0]
        if operation.operation != OperationType.QUERY or operation.directives:
            return None
        if name is not None and (operation.name is None or operation.name.value != name):
            return None
        return operation

    async def answer(self, payload: Any, context: Any) -> dict[str, Any] | None:
        """``{"data": ...}`` for `payload`, or None when Strawberry must answer it."""
        if not isinstance(payload, dict) or set(payload) - {"query", "variables", "operationName"}:
            return None
        query, variables, name = (
            payload.get("query"),
            payload.get("variables"),
            payload.get("operationName"),
        )
        if not isinstance(query, str) or not isinstance(name, str | None):
            return None
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return None
        operation = self._prepare(query, name)
        if operation is None:
            return None
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            return None
        root = self.schema.query_type
        if root is None:
            return None
        run = _Run(self.schema, operation, coerced, context, self.entities)
        try:
            fields = run.collect(root, [operation.selection_set.selections])
            data = await run.objects([None], root, fields)
        except Unsupported:
            return None
        return {"data": data[0]}


class _Entities:
    """``Query._entities`` as Strawberry's ``entities_resolver`` runs it — each representation
    to its type's ``resolve_reference(**fields, info=...)`` — with what Strawberry works out per
    representation (the type, whether the function takes ``info``: an ``inspect.signature``)
    worked out once per type. A representation it cannot take that way (no or unknown
    ``__typename``, a type without ``resolve_reference``, a call that raises) is Strawberry's."""

    def __init__(self, schema: Schema, field: StrawberryField, graphql_field: GraphQLField):
        self.strawberry = schema
        self.field = field
        self.graphql_field = graphql_field
        self.references: dict[str, tuple[Callable[..., Any], bool] | None] = {}

    @classmethod
    def of(cls, schema: Schema) -> _Entities | None:
        query = schema._schema.query_type
        graphql_field = query.fields.get("_entities") if query is not None else None
        definition = schema.get_type_by_name(query.name) if query is not None else None
        if graphql_field is None or not isinstance(definition, StrawberryObjectDefinition):
            return None
        fields = [f for f in definition.fields if f.python_name == "_entities"]
        return cls(schema, fields[0], graphql_field) if len(fields) == 1 else None

    def reference(self, typename: Any) -> tuple[Callable[..., Any], bool] | None:
        if typename not in self.references:
            found = None
            if isinstance(typename, str) and typename in self.strawberry.schema_converter.type_map:
                origin = self.strawberry.schema_converter.type_map[typename].definition.origin
                resolve = getattr(origin, "resolve_reference", None)
                if resolve is not None:
                    found = (resolve, "info" in get_func_args(resolve))
            self.references[typename] = found
        return self.references[typename]

    def resolve(
        self, _root: Any, info: GraphQLResolveInfo, representations: list[Any]
    ) -> list[Any]:
        strawberry_info = self.strawberry.config.info_class(_raw_info=info, _field=self.field)
        results = []
        for representation in representations:
            if not isinstance(representation, dict):
                raise Unsupported("representation")
            kwargs = dict(representation)
            reference = self.reference(kwargs.pop("__typename", None))
            if reference is None:
                raise Unsupported("entity type")
            resolve, takes_info = reference
            if takes_info:
                kwargs["info"] = strawberry_info
            results.append(resolve(**kwargs))  # raising: Unsupported, as for any resolver
        return results


class _Run:
    """One request's execution."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        context: Any,
        entities: _Entities | None = None,
    ) -> None:
        self.schema = schema
        self.entities = entities
        self.operation = operation
        self.variables = variables
        self.context = context
        #: (Python type, abstract type) -> object type: the runtime type depends on the class only
        self.runtimes: dict[tuple[type, GraphQLOutputType], GraphQLObjectType] = {}

    def collect(
        self, gtype: GraphQLObjectType, selection_sets: Sequence[Sequence[Any]]
    ) -> dict[str, list[FieldNode]]:
        """Response key -> field nodes, for `gtype` (inline fragments applied)."""
        fields: dict[str, list[FieldNode]] = {}
        pending = [s for selections in selection_sets for s in selections]
        while pending:
            selection = pending.pop(0)
            if selection.directives:
                raise Unsupported("directives")
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None:
                    target = self.schema.get_type(condition.name.value)
                    if target is None:
                        raise Unsupported("unknown type")
                    if target is not gtype and not (
                        isinstance(target, GraphQLAbstractType)
                        and self.schema.is_sub_type(target, gtype)
                    ):
                        continue
                pending[0:0] = list(selection.selection_set.selections)
            else:
                raise Unsupported("fragment spread")
        return fields

    async def objects(
        self, objs: list[Any], gtype: GraphQLObjectType, fields: dict[str, list[FieldNode]]
    ) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{} for _ in objs]
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                for result in results:
                    result[key] = gtype.name
                continue
            field = gtype.fields.get(name)
            if field is None:
                raise Unsupported("introspection")
            info = GraphQLResolveInfo(
                name,
                nodes,
                field.type,
                gtype,
                Path(None, key, gtype.name),
                self.schema,
                {},
                None,
                self.operation,
                self.variables,
                self.context,
                inspect.isawaitable,
                None,
                _HELPERS,
            )
            resolve = field.resolve or default_field_resolver
            if self.entities is not None and field is self.entities.graphql_field:
                resolve = self.entities.resolve
            try:
                args = get_argument_values(field, nodes[0], self.variables) if field.args else {}
                values = [resolve(obj, info, **args) for obj in objs]
            except Exception as error:
                raise Unsupported("resolver error") from error
            values = await _settle(values)
            completed = await self.complete(values, field.type, nodes)
            for result, value in zip(results, completed, strict=True):
                result[key] = value
        return results

    async def complete(
        self, values: list[Any], gtype: GraphQLOutputType, nodes: list[FieldNode]
    ) -> list[Any]:
        if isinstance(gtype, GraphQLNonNull):
            done = await self.complete(values, gtype.of_type, nodes)
            if None in done:  # completed values are JSON values: `in` compares by identity
                raise Unsupported("null in a non-null field")
            return done
        if isinstance(gtype, GraphQLList):
            lists = [None if v is None else list(v) for v in values]
            items = await _settle([x for lst in lists if lst is not None for x in lst])
            done_items = iter(await self.complete(items, gtype.of_type, nodes))
            return [None if lst is None else [next(done_items) for _ in lst] for lst in lists]
        if isinstance(gtype, GraphQLLeafType):
            return self.complete_leaves(values, gtype)
        return await self.complete_objects(values, gtype, nodes)

    def complete_leaves(self, values: list[Any], gtype: GraphQLLeafType) -> list[Any]:
        out = []
        same = _IDENTITY.get(gtype.name) if gtype in _BUILT_IN else None
        for value in values:
            if value is None or type(value) is same:
                out.append(value)  # what the built-in scalar's serialize returns for it
                continue
            try:
                serialized = gtype.serialize(value)
            except Exception as error:
                raise Unsupported("serialize") from error
            if serialized is None or serialized is Undefined:
                raise Unsupported("serialize")
            out.append(serialized)
        return out

    async def complete_objects(
        self, values: list[Any], gtype: GraphQLOutputType, nodes: list[FieldNode]
    ) -> list[Any]:
        done: list[Any] = [None] * len(values)
        groups: dict[str, tuple[GraphQLObjectType, list[int]]] = {}
        if isinstance(gtype, GraphQLObjectType):  # one runtime type: no lookup per value
            present = [i for i, v in enumerate(values) if v is not None]
            if present:
                groups[gtype.name] = (gtype, present)
        else:
            for index, value in enumerate(values):
                if value is None:
                    continue
                runtime = self.runtime_type(value, gtype)
                groups.setdefault(runtime.name, (runtime, []))[1].append(index)
        for runtime, indexes in groups.values():
            fields = self.collect(
                runtime, [n.selection_set.selections for n in nodes if n.selection_set]
            )
            answers = await self.objects([values[i] for i in indexes], runtime, fields)
            for index, answer in zip(indexes, answers, strict=True):
                done[index] = answer
        return done

    def runtime_type(self, value: Any, gtype: GraphQLOutputType) -> GraphQLObjectType:
        key = (type(value), gtype)
        runtime = self.runtimes.get(key)
        if runtime is None:
            runtime = self.runtimes[key] = self.runtime_type_uncached(value, gtype)
        return runtime

    def runtime_type_uncached(self, value: Any, gtype: GraphQLOutputType) -> GraphQLObjectType:
        if isinstance(gtype, GraphQLObjectType):
            return gtype
        definition = getattr(type(value), "__strawberry_definition__", None)
        runtime = self.schema.get_type(definition.name) if definition is not None else None
        if (
            not isinstance(runtime, GraphQLObjectType)
            or not isinstance(gtype, GraphQLAbstractType)
            or not self.schema.is_sub_type(gtype, runtime)
        ):
            raise Unsupported("runtime type")
        return runtime


#: The built-in scalars, and the Python type each one's ``serialize`` returns unchanged (Int is
#: left out: it also checks the 32-bit range).
_BUILT_IN = frozenset(specified_scalar_types.values())
_IDENTITY: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}

#: Types whose values are neither awaitable nor exceptions: most resolvers return these, and the
#: check is per value. Learnt as values are seen (a type's instances are all awaitable or none
#: are, except generators, which are never added).
_PLAIN: set[type] = {str, int, float, bool, type(None), dict, list, tuple}


async def _settle(values: list[Any]) -> list[Any]:
    """`values` with awaitables awaited together (one DataLoader batch); errors -> Unsupported."""
    pending = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind in _PLAIN:
            continue
        if inspect.isawaitable(value):
            pending.append(i)
        elif isinstance(value, BaseException):
            raise Unsupported("resolver error")
        elif kind is not GeneratorType:
            _PLAIN.add(kind)
    if pending:
        settled = await _together([values[i] for i in pending])
        values = list(values)
        for i, value in zip(pending, settled, strict=True):
            if isinstance(value, BaseException):
                raise Unsupported("resolver error")
            values[i] = value
    return values


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


async def _together(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Their results (or exceptions), run side by side like ``asyncio.gather`` but without a task
    each: every coroutine is stepped to its next await, then all the futures they wait on are
    awaited at once — so the DataLoader loads of a level still land in one batch."""
    results: list[Any] = [None] * len(awaitables)
    running: list[tuple[int, Coroutine[Any, Any, Any]]] = [
        (i, a if inspect.iscoroutine(a) else _awaited(a)) for i, a in enumerate(awaitables)
    ]
    try:
        while running:
            futures: set[Any] = set()
            still: list[tuple[int, Coroutine[Any, Any, Any]]] = []
            for i, coro in running:
                try:
                    yielded = coro.send(None)
                except StopIteration as stop:
                    results[i] = stop.value
                    continue
                except Exception as error:
                    results[i] = error
                    continue
                if getattr(yielded, "_asyncio_future_blocking", None) is not None:
                    yielded._asyncio_future_blocking = False  # as asyncio.Task does
                    futures.add(yielded)
                elif yielded is not None:
                    coro.close()
                    results[i] = RuntimeError(f"bad yield: {yielded!r}")
                    continue
                still.append((i, coro))
            running = still
            if futures:
                await asyncio.wait(futures)
            elif running:
                await asyncio.sleep(0)
    finally:
        for _, coro in running:
            coro.close()
    return results
