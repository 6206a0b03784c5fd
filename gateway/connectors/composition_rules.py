"""The connector rules only the composer applies, after :func:`validate.validate` passed (the
reference's Rust composer has them; a supergraph carries no per-subgraph ``@key`` list for the
gateway to check them again when it loads one):

- Keys: every resolvable ``@key`` of a type must be the key some connector resolves the type by
  (``MISSING_ENTITY_CONNECTOR``): an ``entity: true`` Query field (its ``$args``), a connector on
  the type (its ``$this``/``$batch`` fields) or on one of its fields (its ``$this`` fields),
  compared by top-level field names.
- Every field of a non-root type is produced by some connector's selection or has its own
  ``@connect`` (``CONNECTOR_FIELD_UNRESOLVED``).
- No subscriptions, no interfaces or unions (connect v0.4).
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

from .mapping import ast
from .model import ConnectorSubgraph
from .problems import Problem
from .schema import SchemaInfo, field_type


def composition_problems(model: ConnectorSubgraph, info: SchemaInfo) -> list[Problem]:
    """The rules the composer adds to :func:`validate` (the reference composer's): keys, fields
    no connector produces, and what a connector subgraph cannot hold."""
    return (
        key_problems(model, info) + unresolved_fields(model, info) + _unsupported(model.name, info)
    )


def _unsupported(subgraph: str, info: SchemaInfo) -> list[Problem]:
    """No subscriptions; no interfaces or unions before connect v0.4 (the digest's §8, §11)."""
    out: list[Problem] = []
    for definition in info.document.definitions if info.document is not None else ():
        kind = type(definition).__name__
        name = getattr(getattr(definition, "name", None), "value", "")
        if name == "Subscription" and kind.startswith("ObjectType"):
            out.append(Problem("CONNECTOR_SUBSCRIPTION_UNSUPPORTED",
                               "a connector subgraph cannot have subscriptions",
                               f"{subgraph}:{name}"))  # fmt: skip
        if kind.startswith(("InterfaceType", "UnionType")):
            out.append(Problem("CONNECTOR_ABSTRACT_TYPE_UNSUPPORTED",
                               f"{name}: interfaces and unions need connect v0.4, which is not "
                               "supported", f"{subgraph}:{name}"))  # fmt: skip
    return out


def unresolved_fields(model: ConnectorSubgraph, info: SchemaInfo) -> list[Problem]:
    """``CONNECTOR_FIELD_UNRESOLVED``: a field of a non-root type that no connector's selection
    produces and that has no ``@connect`` of its own (key and ``@external`` fields are given by
    the representation). A selection passing a whole object through (``pemilik`` with no
    subselection, ``$``) counts as producing every field below it."""
    produced: set[tuple[str, str]] = set()
    for connector in model.connectors:
        produced.add((connector.parent_type, connector.field or ""))
        selection = connector.selection
        sub = selection.sub if selection.path is None else selection.path.sub
        if sub is None:
            _everything(connector.returns.name, info, produced)
        else:
            _produced(sub, connector.returns.name, info, produced)
    out: list[Problem] = []
    for type_ in info.types.values():
        if type_.name in ("Query", "Mutation"):
            continue
        given = _key_fields(type_.directives)
        for name, node in type_.fields.items():
            external = any(d.name.value in ("external", "federation__external")
                           for d in node.directives or ())  # fmt: skip
            if (type_.name, name) in produced or name in given or external:
                continue
            out.append(Problem(
                "CONNECTOR_FIELD_UNRESOLVED",
                f"{type_.name}.{name} is produced by no connector's selection and has no @connect",
                f"{model.name}:{type_.name}.{name}",
            ))  # fmt: skip
    return out


def _produced(sub: ast.Sub, type_name: str, info: SchemaInfo, out: set[tuple[str, str]]) -> None:
    type_ = info.types.get(type_name)
    if type_ is None:
        return
    for item in sub.items:
        if isinstance(item, ast.Merge):
            if item.value.sub is not None:
                _produced(item.value.sub, type_name, info, out)
            continue
        key = item.key if isinstance(item, ast.Field) else item.alias
        node = type_.fields.get(key)
        if node is None:
            continue
        out.add((type_name, key))
        child = field_type(node.type).name
        nested = item.value.sub if isinstance(item, ast.Alias) else item.sub
        if nested is not None:
            _produced(nested, child, info, out)
        else:
            _everything(child, info, out)


def _everything(type_name: str, info: SchemaInfo, out: set[tuple[str, str]]) -> None:
    """A value passed through whole: every field below ``type_name`` may come with it."""
    type_ = info.types.get(type_name)
    if type_ is None or (type_name, "*") in out:
        return
    out.add((type_name, "*"))
    for name, node in type_.fields.items():
        out.add((type_name, name))
        _everything(field_type(node.type).name, info, out)


def _key_fields(directives: list[Any]) -> set[str]:
    fields: set[str] = set()
    for directive in directives:
        if directive.name.value in ("key", "federation__key"):
            args = {a.name.value: a.value for a in directive.arguments or ()}
            value = getattr(args.get("fields"), "value", None)
            if isinstance(value, str):
                fields |= _top_fields(value)
    return fields


def key_problems(model: ConnectorSubgraph, info: SchemaInfo) -> list[Problem]:
    """``MISSING_ENTITY_CONNECTOR``: a resolvable key no connector resolves the type by.

    A composition rule (the composer runs it on valid connectors; a supergraph carries no
    ``@key`` per connector subgraph for the gateway to check again)."""
    out: list[Problem] = []
    for type_ in info.types.values():
        derived = _derived_keys(model, type_.name)
        for directive in type_.directives:
            if directive.name.value not in ("key", "federation__key"):
                continue
            args = {a.name.value: a.value for a in directive.arguments or ()}
            fields = getattr(args.get("fields"), "value", None)
            resolvable = getattr(args.get("resolvable"), "value", True)
            if not isinstance(fields, str) or resolvable is False:
                continue
            if _top_fields(fields) not in derived:
                out.append(Problem(
                    "MISSING_ENTITY_CONNECTOR",
                    f'{type_.name} @key(fields: "{fields}") is resolved by no connector: add an '
                    "entity: true Query field with these arguments, or a @connect on the type "
                    "(or on its fields) using exactly these $this/$batch fields",
                    f"{model.name}:{type_.name}",
                ))  # fmt: skip
    return out


def _derived_keys(model: ConnectorSubgraph, type_name: str) -> list[frozenset[str]]:
    """The keys the connectors resolve ``type_name`` by (the digest's §10 A, B and C)."""
    keys: list[frozenset[str]] = []
    for c in model.connectors:
        if c.entity and c.parent_type == "Query" and c.returns.name == type_name:
            keys.append(frozenset(c.key_fields("$args")))
        elif c.parent_type == type_name:
            keys.append(frozenset(c.key_fields("$this") + c.key_fields("$batch")))
    return keys


def _top_fields(field_set: str) -> frozenset[str]:
    """The top-level field names of a ``@key`` field set (``a b { c }`` -> a, b)."""
    try:
        document = parse("{" + field_set + "}")
    except GraphQLError:
        return frozenset()
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return frozenset(
        s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)
    )
