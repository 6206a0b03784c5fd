"""Lean field resolvers: argument-free OPD fields called without Strawberry's wrapper.

Strawberry wraps every resolver in a chain (argument conversion, field extensions, exception
handlers, a fresh ``Info``, ``await_maybe``) that costs more than the resolver itself — most OPD
fields read one column of a row (``Penduduk.nama``). ``_entities`` for 100 residents resolves
more than a thousand such fields, so the wrapper was most of a subgraph's time (bench/kit.py).

:func:`install` replaces, in the schema graphql-core executes, the resolver of each field that
takes no GraphQL argument, has no field extension or exception handler, and whose Python
resolver takes only ``self`` and optionally ``info`` — with a direct call of that function; and
the resolver of each plain attribute (``nik: str``, no resolver at all) with a direct read of the
attribute (Strawberry's ``_get_basic_result`` goes through ``StrawberryField.get_result``). The
schema (types, directives, the published SDL) is untouched; the other fields keep Strawberry's
path. graphql-core awaits coroutines itself, so async resolvers need nothing more.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry.federation import Schema
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

Resolve = Callable[[Any, GraphQLResolveInfo], Any]


def lean_resolver(field: StrawberryField) -> Resolve | None:
    """The direct call for `field`, or None when it needs Strawberry's machinery."""
    resolver = field.base_resolver
    if field.arguments or field.extensions:
        return None
    if resolver is None:
        return attribute_resolver(field)
    params = list(resolver.signature.parameters.values())
    self_param, info_param = resolver.self_parameter, resolver.info_parameter
    if self_param is None or not params or params[0] is not self_param:
        return None
    if params[1:] != ([info_param] if info_param is not None else []):
        return None
    func = resolver.wrapped_func
    if info_param is None:

        def resolve(source: Any, _info: GraphQLResolveInfo) -> Any:
            return func(source)

        return resolve

    def resolve_with_info(source: Any, info: GraphQLResolveInfo) -> Any:
        return func(source, Info(_raw_info=info, _field=field))

    return resolve_with_info


def attribute_resolver(field: StrawberryField) -> Resolve:
    """What Strawberry does for a field without resolver (the schema's default resolver, usually
    ``getattr``, on the Python name), minus its two wrapper calls."""
    read, name = field.default_resolver, field.python_name

    def resolve(source: Any, _info: GraphQLResolveInfo) -> Any:
        return read(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks it
    return resolve


def install(schema: Schema) -> int:
    """Give the eligible fields of `schema` their lean resolver; return how many."""
    handlers = getattr(schema.schema_converter, "_get_field_exception_handlers", lambda field: ())
    count = 0
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        definition = schema.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        by_name = {schema.config.name_converter.get_graphql_name(f): f for f in definition.fields}
        for field_name, graphql_field in graphql_type.fields.items():
            field = by_name.get(field_name)
            if field is None or inspect.isclass(field):
                continue
            if handlers(field):  # a schema-level exception handler applies: keep Strawberry's
                continue
            resolve = lean_resolver(field)
            if resolve is not None:
                graphql_field.resolve = resolve
                count += 1
    return count
