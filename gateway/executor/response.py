"""Shapes merged subgraph data into exactly the response the client's operation asks for.

GraphQL spec, "Executing Selection Sets" / "CollectFields" / "Handling Field Errors": response keys
(aliases) in the order CollectFields gives them, fragments applied by the object's runtime type,
``@skip``/``@include`` evaluated with the request's variables, ``__typename`` answered by the
gateway, and a null in a non-null position propagated to the nearest nullable parent (or
``data: null``).

Everything that depends only on the operation is compiled once per operation and reused: a
``ResponseShaper`` holds, per combination of ``@skip``/``@include`` variable values, a tree of
``_Selection`` objects whose collected fields are cached per runtime type, each compiled into a
Python function (the fast path). A response with a null in a non-null position or an invalid value
is shaped again by the path-tracking ``_Walk``, which propagates nulls and reports the errors.
Only the fast path's own signal (``_Anomaly``) falls back: any other exception in generated code
is a bug and surfaces. Fragments and conditions come from ``gateway.operation`` (request mode).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    SelectionSetNode,
    execute_sync,
)

from gateway.errors import ErrorDict
from gateway.operation import INTROSPECTION_FIELDS, OperationWalk, condition_variables
from gateway.operation.introspection import introspection_document, only_meta_fields

# Field kinds and value kinds (ints: compared by identity in the hot loop).
_TYPENAME, _INTROSPECTION, _VALUE, _UNKNOWN_TYPENAME = 0, 1, 2, 3
_LEAF, _ENUM, _LIST, _COMPOSITE = 0, 1, 2, 3


class _Bubble:
    """A null that must propagate to the parent (a non-null position was violated)."""


_BUBBLE = _Bubble()


class _Shape:
    """The compiled output type of a field: nullability, kind, list item or selection."""

    __slots__ = ("enum_values", "item", "kind", "non_null", "selection")

    def __init__(
        self,
        non_null: bool,
        kind: int,
        item: _Shape | None = None,
        enum_values: frozenset[str] = frozenset(),
        selection: _Selection | None = None,
    ) -> None:
        self.non_null = non_null
        self.kind = kind
        self.item = item
        self.enum_values = enum_values
        self.selection = selection


class _Field:
    """One response key of a selection set for one runtime type."""

    __slots__ = ("invalid_message", "key", "kind", "null_message", "shape", "typename")

    def __init__(
        self,
        key: str,
        kind: int,
        *,
        typename: str = "",
        shape: _Shape | None = None,
        parent: str = "",
        name: str = "",
    ) -> None:
        self.key = key
        self.kind = kind
        self.typename = typename
        self.shape = shape
        self.null_message = f"Cannot return null for non-nullable field {parent}.{name}."
        self.invalid_message = f"Invalid value found for field {parent}.{name}."


class _Selection:
    """The merged selection sets at one position; collected fields cached per runtime type."""

    __slots__ = (
        "_by_typename",
        "_compiler",
        "_fast_by_typename",
        "_fast_fixed",
        "abstract",
        "fixed",
        "selection_sets",
        "static_type",
    )

    def __init__(
        self,
        compiler: _Compiler,
        static_type: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType,
        selection_sets: tuple[SelectionSetNode, ...],
    ) -> None:
        self._compiler = compiler
        self.static_type = static_type
        self.selection_sets = selection_sets
        self.abstract = not isinstance(static_type, GraphQLObjectType)
        self._by_typename: dict[Any, tuple[_Field, ...] | None] = {}
        self.fixed: tuple[_Field, ...] | None = None
        self._fast_fixed: _FastObject | None = None
        self._fast_by_typename: dict[Any, _FastObject | None] = {}
        if isinstance(static_type, GraphQLObjectType):
            self.fixed = compiler.collect(static_type, selection_sets)

    def fast_fixed(self) -> _FastObject:
        """The compiled fast-path function of an object-typed position."""
        if self._fast_fixed is None:
            assert self.fixed is not None
            self._fast_fixed = _compile_object(self.fixed)
        return self._fast_fixed

    def fast_for(self, typename: Any) -> _FastObject | None:
        """The compiled fast-path function for objects of ``typename`` at an abstract position."""
        if type(typename) is not str:
            return None  # not a type name (e.g. a list): invalid, and not a cache key
        try:
            return self._fast_by_typename[typename]
        except KeyError:
            pass
        fields = self.fields_for(typename)
        function = None if fields is None else _compile_object(fields)
        self._fast_by_typename[typename] = function
        return function

    def fields_for(self, typename: Any) -> tuple[_Field, ...] | None:
        """Fields for an object whose ``__typename`` is ``typename``; None if it is not possible."""
        if not isinstance(typename, str):
            return None  # not a type name (e.g. a list): invalid, and not a cache key
        try:
            return self._by_typename[typename]
        except KeyError:
            pass
        fields = None
        schema = self._compiler.schema
        runtime = schema.get_type(typename)
        static = cast(GraphQLAbstractType, self.static_type)
        if isinstance(runtime, GraphQLObjectType) and schema.is_sub_type(static, runtime):
            fields = self._compiler.collect(runtime, self.selection_sets)
        elif isinstance(runtime, GraphQLInterfaceType) and (
            runtime is static or schema.is_sub_type(static, runtime)
        ):
            # An @interfaceObject subgraph only knows the interface: fields the interface
            # declares can still be answered; a concrete __typename cannot (Apollo does so too).
            fields = self._compiler.collect(runtime, self.selection_sets)
        self._by_typename[typename] = fields
        return fields


class _Compiler:
    """Compiles selection sets for one operation under fixed ``@skip``/``@include`` values.

    Fragments and conditions come from the operation walk in request mode (one place for both).
    """

    def __init__(self, walk: OperationWalk, root_type: GraphQLObjectType) -> None:
        assert walk.schema is not None and walk.request_mode
        self.schema = walk.schema
        self._walk = walk
        self._root_type = root_type

    def collect(
        self,
        runtime: GraphQLObjectType | GraphQLInterfaceType,
        selection_sets: tuple[SelectionSetNode, ...],
    ) -> tuple[_Field, ...]:
        """GraphQL spec CollectFields for ``runtime`` over several merged selection sets."""
        grouped = self._walk.collect_fields(runtime, selection_sets)
        return tuple(self._field(runtime, key, nodes) for key, nodes in grouped.items())

    def _field(
        self, runtime: GraphQLObjectType | GraphQLInterfaceType, key: str, nodes: list[FieldNode]
    ) -> _Field:
        name = nodes[0].name.value
        if name == "__typename":
            if isinstance(runtime, GraphQLInterfaceType):
                return _Field(key, _UNKNOWN_TYPENAME, parent=runtime.name, name=name)
            return _Field(key, _TYPENAME, typename=runtime.name)
        if name in INTROSPECTION_FIELDS and runtime is self._root_type:
            return _Field(key, _INTROSPECTION)
        definition = runtime.fields[name]
        selection_sets = tuple(node.selection_set for node in nodes if node.selection_set)
        shape = self._shape(definition.type, selection_sets)
        return _Field(key, _VALUE, shape=shape, parent=runtime.name, name=name)

    def _shape(
        self, gql_type: GraphQLOutputType, selection_sets: tuple[SelectionSetNode, ...]
    ) -> _Shape:
        non_null = isinstance(gql_type, GraphQLNonNull)
        if isinstance(gql_type, GraphQLNonNull):
            gql_type = gql_type.of_type
        if isinstance(gql_type, GraphQLList):
            return _Shape(non_null, _LIST, item=self._shape(gql_type.of_type, selection_sets))
        if isinstance(gql_type, GraphQLEnumType):
            return _Shape(non_null, _ENUM, enum_values=frozenset(gql_type.values))
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return _Shape(
                non_null, _COMPOSITE, selection=_Selection(self, gql_type, selection_sets)
            )
        return _Shape(non_null, _LEAF)


class _Walk:
    """The per-request state of shaping: errors, the current path, what earlier errors cover."""

    __slots__ = ("covered", "errors", "introspection", "path")

    def __init__(
        self, covered: Sequence[tuple[str | int, ...]], introspection: Mapping[str, Any]
    ) -> None:
        self.covered = covered
        self.introspection = introspection
        self.errors: list[ErrorDict] = []
        self.path: list[str | int] = []

    def object(self, value: Mapping[str, Any], fields: tuple[_Field, ...]) -> Any:
        out: dict[str, Any] = {}
        path = self.path
        for field in fields:
            kind = field.kind
            if kind == _VALUE:
                shape = field.shape
                assert shape is not None
                raw = value.get(field.key)
                if shape.kind == _LEAF and raw is not None:
                    out[field.key] = raw
                    continue
                path.append(field.key)
                result = self.value(raw, shape, field)
                path.pop()
                if result is _BUBBLE:
                    return _BUBBLE
                out[field.key] = result
            elif kind == _TYPENAME:
                out[field.key] = field.typename
            elif kind == _INTROSPECTION:
                out[field.key] = self.introspection.get(field.key)
            else:  # the data names an interface where a concrete __typename is asked
                path.append(field.key)
                self.invalid(field.invalid_message)
                path.pop()
                return _BUBBLE
        return out

    def value(self, raw: Any, shape: _Shape, field: _Field) -> Any:
        if raw is None:
            if shape.non_null:
                self.null_error(field)
                return _BUBBLE
            return None
        kind = shape.kind
        result: Any
        if kind == _LEAF:
            return raw
        if kind == _COMPOSITE:
            result = self._composite(raw, shape, field)
        elif kind == _LIST:
            result = self._list(raw, shape, field)
        elif isinstance(raw, str) and raw in shape.enum_values:
            return raw
        else:
            result = self.invalid(field.invalid_message)
        if result is _BUBBLE:
            return _BUBBLE if shape.non_null else None
        return result

    def _composite(self, raw: Any, shape: _Shape, field: _Field) -> Any:
        """An object value: its selection for the concrete type, or invalid."""
        selection = shape.selection
        assert selection is not None
        if not isinstance(raw, dict):
            return self.invalid(field.invalid_message)
        fields = selection.fixed
        if fields is None:
            fields = selection.fields_for(raw.get("__typename"))
        if fields is None:
            return self.invalid(field.invalid_message)
        return self.object(raw, fields)

    def _list(self, raw: Any, shape: _Shape, field: _Field) -> Any:
        """A list value item by item; an item that bubbles makes the whole list bubble."""
        item_shape = shape.item
        assert item_shape is not None
        if not isinstance(raw, list):
            return self.invalid(field.invalid_message)
        items: list[Any] = []
        path = self.path
        for index, item in enumerate(raw):
            path.append(index)
            completed = self.value(item, item_shape, field)
            path.pop()
            if completed is _BUBBLE:
                return _BUBBLE
            items.append(completed)
        return items

    def invalid(self, message: str) -> _Bubble:
        self.errors.append({"message": message, "path": list(self.path)})
        return _BUBBLE

    def null_error(self, field: _Field) -> None:
        if not self._is_covered():
            self.errors.append({"message": field.null_message, "path": list(self.path)})

    def _is_covered(self) -> bool:
        path = self.path
        for covered in self.covered:
            if all(
                c == p or (c == "@" and isinstance(p, int))
                for c, p in zip(covered, path, strict=False)
            ):
                return True
        return False


class ResponseShaper:
    """Shapes data for one operation of one document against the API schema; built once, reused.

    ``fast=False`` shapes every response with the path-tracking walk alone (the reference the
    compiled fast path is tested against).
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        *,
        fast: bool = True,
    ) -> None:
        root_type = schema.get_root_type(operation.operation)
        if root_type is None:
            raise ValueError(f"the schema has no {operation.operation.value} root type")
        self._root_type = root_type
        self._fast = fast
        self._walk = OperationWalk(document, operation, schema)
        self._condition_variables = tuple(sorted(condition_variables(document)))
        self._variants: dict[tuple[Any, ...], _Selection] = {}
        self._introspection = introspection_document(self._walk)
        #: whether the root asks only for ``__typename``/``__schema``/``__type`` (no subgraph)
        self.only_introspection = only_meta_fields(self._walk)
        #: responses shaped by the compiled fast path (the rest needed the walk)
        self.fast_shaped = 0

    @property
    def has_introspection(self) -> bool:
        return self._introspection is not None

    def shape(
        self,
        data: Mapping[str, Any] | None,
        variables: Mapping[str, Any],
        *,
        raw_variables: Mapping[str, Any] | None = None,
        covered: Sequence[tuple[str | int, ...]] = (),
    ) -> tuple[dict[str, Any] | None, list[ErrorDict]]:
        """``(data, errors)`` of the client response; ``covered`` paths get no null errors."""
        root = self._root_selection(variables)
        introspection: Mapping[str, Any] = {}
        errors: list[ErrorDict] = []
        if self._introspection is not None:
            result = execute_sync(
                self._walk.schema,  # type: ignore[arg-type]
                self._introspection,
                variable_values=dict(raw_variables or {}),
            )
            introspection = result.data or {}
            errors.extend(dict(error.formatted) for error in result.errors or ())
        if self._fast:
            try:
                shaped_fast = root.fast_fixed()(data or {}, introspection)
            except _Anomaly:
                pass  # a null or invalid value somewhere: the walk below finds and reports it
            else:
                self.fast_shaped += 1
                return shaped_fast, errors
        walk = _Walk(covered, introspection)
        assert root.fixed is not None
        shaped = walk.object(data or {}, root.fixed)
        errors.extend(walk.errors)
        return (None if shaped is _BUBBLE else shaped), errors

    def _root_selection(self, variables: Mapping[str, Any]) -> _Selection:
        key = tuple(variables.get(name) for name in self._condition_variables)
        selection = self._variants.get(key)
        if selection is None:
            compiler = _Compiler(self._walk.for_request(dict(variables)), self._root_type)
            selection = _Selection(compiler, self._root_type, (self._walk.operation.selection_set,))
            self._variants[key] = selection
        return selection


# The fast path: each (selection, runtime type) compiled once into a Python function that builds
# the response object without tracking paths. Any null in a non-null position or invalid value
# raises _Anomaly, and the response is then shaped again by the path-tracking ``_Walk``, which
# propagates nulls and reports errors. Valid responses, the common case, never pay for that.

_FastObject = Callable[..., dict[str, Any]]
_Completer = Callable[[Any], Any]


class _Anomaly(Exception):
    """The fast path met a value it cannot shape without error handling."""


def _raise_anomaly() -> Any:
    raise _Anomaly


def _compile_object(fields: tuple[_Field, ...]) -> _FastObject:
    """One function per (selection, runtime type): checks first, then one dict display (a single
    ``BUILD_MAP``, cheaper than a store per key), lists of objects completed inline."""
    namespace: dict[str, Any] = {"Anomaly": _Anomaly, "raise_anomaly": _raise_anomaly}
    lines = ["def shape(value, intro=None):", "    if type(value) is not dict: raise Anomaly"]
    entries: list[str] = []
    for index, field in enumerate(fields):
        checks, expression = _field_code(index, field, namespace)
        lines.extend(checks)
        entries.append(f"{field.key!r}: {expression}")
    lines.append("    return {" + ", ".join(entries) + "}")
    exec(compile("\n".join(lines), "<response shape>", "exec"), namespace)
    function: _FastObject = namespace["shape"]
    return function


def _field_code(index: int, field: _Field, namespace: dict[str, Any]) -> tuple[list[str], str]:
    """The lines that read and check one field (helpers they call go into ``namespace``), and
    the expression of its response value."""
    key = repr(field.key)
    shape = field.shape
    if field.kind == _TYPENAME:
        return [], repr(field.typename)
    if field.kind == _INTROSPECTION:
        return [], f"None if intro is None else intro.get({key})"
    if field.kind == _UNKNOWN_TYPENAME or shape is None:
        return ["    raise Anomaly"], "None"
    if shape.kind == _LEAF and not shape.non_null:
        return [], f"value.get({key})"
    r = f"r{index}"
    lines = [f"    {r} = value.get({key})"]
    if shape.non_null:
        lines.append(f"    if {r} is None: raise Anomaly")
    if shape.kind == _LEAF:
        return lines, r
    if shape.kind == _ENUM:
        namespace[f"e{index}"] = shape.enum_values
        check = f"type({r}) is not str or {r} not in e{index}"
        guard = check if shape.non_null else f"{r} is not None and ({check})"
        lines.append(f"    if {guard}: raise Anomaly")
        return lines, r
    item = shape.item
    if shape.kind == _LIST and item is not None and item.kind != _LEAF:
        # a list of objects, enums or lists: the items completed in a comprehension right here
        namespace[f"c{index}"] = _completer(item)
        guard = (
            f"type({r}) is not list"
            if shape.non_null
            else f"{r} is not None and type({r}) is not list"
        )
        lines.append(f"    if {guard}: raise Anomaly")
        on_null = "raise_anomaly()" if item.non_null else "None"
        expression = f"[{on_null} if x is None else c{index}(x) for x in {r}]"
    else:
        namespace[f"c{index}"] = _completer(shape)
        expression = f"c{index}({r})"
    if not shape.non_null:
        expression = f"None if {r} is None else {expression}"
    return lines, expression


def _completer(shape: _Shape) -> _Completer:
    """A function completing a non-null raw value of ``shape`` (raises _Anomaly when invalid)."""
    kind = shape.kind
    if kind == _LEAF:
        return _identity
    if kind == _ENUM:
        values = shape.enum_values

        def enum(raw: Any) -> Any:
            if type(raw) is not str or raw not in values:
                raise _Anomaly
            return raw

        return enum
    if kind == _COMPOSITE:
        selection = shape.selection
        assert selection is not None
        if selection.fixed is not None:
            return selection.fast_fixed()

        def abstract(raw: Any) -> Any:
            if type(raw) is not dict:
                raise _Anomaly
            function = selection.fast_for(raw.get("__typename"))
            if function is None:
                raise _Anomaly
            return function(raw)

        return abstract
    item = shape.item
    assert item is not None
    return _list_completer(item)


def _list_completer(item: _Shape) -> _Completer:
    """A function completing a non-null list whose items have shape ``item``."""
    if item.kind == _LEAF:
        if item.non_null:

            def leaves(raw: Any) -> Any:
                if type(raw) is not list or None in raw:
                    raise _Anomaly
                return raw

            return leaves

        def nullable_leaves(raw: Any) -> Any:
            if type(raw) is not list:
                raise _Anomaly
            return raw

        return nullable_leaves
    complete = _completer(item)
    if item.non_null:

        def items(raw: Any) -> Any:
            if type(raw) is not list:
                raise _Anomaly
            return [_raise_anomaly() if x is None else complete(x) for x in raw]

        return items

    def nullable_items(raw: Any) -> Any:
        if type(raw) is not list:
            raise _Anomaly
        return [None if x is None else complete(x) for x in raw]

    return nullable_items


def _identity(raw: Any) -> Any:
    return raw
