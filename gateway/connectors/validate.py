"""The schema rules of connectors (load time, composition and `jamajama check`): each finding coded.

- URLs: exactly one verb; a known source; relative with a source, absolute ``http(s)`` without;
  no expression in the scheme/host; **no personal identifier in a URL** (path, query,
  ``http.path``/``queryParams``): NIK, No. KK, NIP ... go in a header or the body, so they do not
  end up in access logs and proxies (``CONNECTOR_IDENTIFIER_IN_URL``).
- Variables: known names only; ``$args.x`` is an argument of the field; ``$this.x``/``$batch.x``
  are fields of the type; ``$batch`` only on types and never with ``$this``.
- Selections fit the types: every output key is a field of the returned type, a subselection only
  on an object-typed field; a ``$batch`` connector's key fields are in its selection.
- Entities: ``entity: true`` only on ``Query`` fields returning a nullable single object whose
  arguments are fields of it; a connector on a type is always an entity resolver.
- Headers: reserved names never set; ``from`` not for content-type/accept/host.

The rules only the composer applies (keys, fields no connector produces) are in
``composition_rules``.
"""

from __future__ import annotations

import re

from .mapping import ast
from .mapping.refs import references
from .model import Connector, ConnectorSubgraph, HeaderMapping
from .problems import Problem
from .schema import SchemaInfo, field_type

_SOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
VARIABLES = {"$args", "$this", "$batch", "$config", "$context", "$status", "$request", "$response"}
RESERVED_HEADERS = {
    "connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "content-encoding", "accept-encoding",
    "keep-alive",
}  # fmt: skip
NOT_FROM = {"content-type", "accept", "host"}
#: names (lower case, without ``_``) of personal identifiers that must not travel in a URL
IDENTIFIERS = {"nik", "nokk", "nomorkk", "nip", "nisn", "nojkn", "nomorjkn", "nomorkartu"}


def is_identifier(name: str) -> bool:
    """``nik``, ``nikPemilik``, ``nik_pemilik``, ``noKk``, ``nip`` ... (not ``nikah``)."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)]
    flat = "".join(words)
    return flat in IDENTIFIERS or any(w in ("nik", "nip", "nisn") for w in words)


def validate(model: ConnectorSubgraph, info: SchemaInfo) -> list[Problem]:
    problems: list[Problem] = []
    for name in model.sources:
        if not _SOURCE_NAME.match(name):
            problems.append(Problem("CONNECTOR_SOURCE_INVALID", f"bad source name {name!r}"))
    for source in model.sources.values():
        base = source.base_url
        if (
            not base.parts
            or not isinstance(base.parts[0], str)
            or not re.match(r"^https?://[^/?{]+", base.parts[0])
        ):
            problems.append(Problem("CONNECTOR_URL_INVALID",
                                    "baseURL must be an http(s) URL with a literal host",
                                    f"{model.name}:@source({source.name})"))  # fmt: skip
        problems += _headers(source.headers, f"{model.name}:@source({source.name})")
    for connector in model.connectors:
        problems += _connector(connector, model, info)
    connected = {(c.parent_type, c.field) for c in model.connectors}
    for type_ in info.types.values():
        for name, node in type_.fields.items():
            root = type_.name in ("Query", "Mutation")
            if (root or node.arguments) and (type_.name, name) not in connected:
                why = "a root field" if root else "a field with arguments"
                problems.append(Problem("CONNECTOR_FIELD_UNRESOLVED",
                                        f"{type_.name}.{name} is {why} without @connect",
                                        model.name))  # fmt: skip
    return problems


def _connector(connector: Connector, model: ConnectorSubgraph, info: SchemaInfo) -> list[Problem]:
    """Every problem of one ``@connect``: placement, URL, headers, variables, shape, entity."""
    out = _url_problems(connector, model)
    out += _headers(connector.headers, connector.coordinate)
    out += _variable_problems(connector, info)
    out += _shape_problems(connector, info)
    if connector.entity and connector.field is not None:
        out += _entity_problems(connector, info)
    return out


def _url_problems(connector: Connector, model: ConnectorSubgraph) -> list[Problem]:
    out: list[Problem] = []

    def problem(code: str, message: str) -> None:
        out.append(Problem(code, message, connector.coordinate))

    if connector.field is None and connector.version < (0, 2):
        problem("CONNECTOR_VERSION_UNSUPPORTED", "@connect on a type needs connect v0.2")
    if connector.source is not None and connector.source not in model.sources:
        problem("CONNECTOR_SOURCE_UNKNOWN", f"no @source named {connector.source!r}")
    first = connector.url.parts[0] if connector.url.parts else ""
    absolute = isinstance(first, str) and re.match(r"^[a-z]+://", first) is not None
    if connector.source is not None and absolute:
        problem("CONNECTOR_URL_INVALID", "with a source, the URL must be relative")
    if connector.source is None and not (
        isinstance(first, str) and re.match(r"^https?://[^/?]+([/?]|$)", first)
    ):
        problem("CONNECTOR_URL_INVALID", "without a source, the URL must be an absolute http(s) "
                "URL whose host has no expression")  # fmt: skip
    return out


def _variable_problems(connector: Connector, info: SchemaInfo) -> list[Problem]:
    out: list[Problem] = []

    def problem(code: str, message: str) -> None:
        out.append(Problem(code, message, connector.coordinate))

    parent = connector.parent_type
    type_fields = info.types[parent].fields if parent in info.types else {}
    refs = connector.references()
    names = {name for name, _ in refs}
    for name in sorted(names - VARIABLES):
        problem("CONNECTOR_VARIABLE_UNKNOWN", f"unknown variable {name}")
    for name, key in sorted(refs, key=str):
        if key is None:
            continue
        if name == "$args" and key not in connector.arguments:
            problem("CONNECTOR_ARGUMENT_UNKNOWN", f"$args.{key}: the field has no argument {key!r}")
        if name in ("$this", "$batch") and key not in type_fields:
            problem("CONNECTOR_FIELD_UNKNOWN", f"{name}.{key}: {parent} has no field {key!r}")
    out += _identifiers_in_url(connector)
    on_type = connector.field is None
    if "$batch" in names and not on_type:
        problem("CONNECTOR_BATCH_INVALID", "$batch is only available to connectors on types")
    if "$batch" in names and "$this" in names:
        problem("CONNECTOR_BATCH_INVALID", "$batch and $this cannot be used together")
    if on_type and "$args" in names:
        problem("CONNECTOR_VARIABLE_UNKNOWN", "$args is not available to connectors on types")
    if connector.root and "$this" in names:
        problem("CONNECTOR_VARIABLE_UNKNOWN", "$this is not available on root fields")
    return out


def _identifiers_in_url(connector: Connector) -> list[Problem]:
    """Personal identifiers the URL, path or query parameters would carry (they get logged)."""
    url_refs = connector.url.references()
    for selection in (connector.path, connector.query_params):
        if selection is not None:
            url_refs |= references(selection)
    return [
        Problem(
            "CONNECTOR_IDENTIFIER_IN_URL",
            f"{name}.{key} is a personal identifier: send it in a header or the body, "
            "not in the URL",
            connector.coordinate,
        )
        for name, key in sorted(url_refs, key=str)
        if key is not None and name in ("$args", "$this", "$batch") and is_identifier(key)
    ]


def _shape_problems(connector: Connector, info: SchemaInfo) -> list[Problem]:
    out = [Problem("CONNECTOR_SELECTION_INVALID", m, connector.coordinate)
           for m in _shape(connector.selection, connector.returns.name, info)]  # fmt: skip
    if "$batch" in {name for name, _ in connector.references()}:
        produced = _top_keys(connector.selection)
        out += [
            Problem(
                "CONNECTOR_BATCH_INVALID",
                f"the batch key {key!r} must be selected",
                connector.coordinate,
            )
            for key in connector.key_fields("$batch")
            if key not in produced
        ]
    return out


def _entity_problems(connector: Connector, info: SchemaInfo) -> list[Problem]:
    """An ``entity: true`` connector on a field: a nullable single object looked up by its key."""

    def problem(message: str) -> list[Problem]:
        return [Problem("CONNECTOR_ENTITY_INVALID", message, connector.coordinate)]

    entity_type = info.types.get(connector.returns.name)
    if connector.parent_type != "Query":
        return problem("entity: true is only allowed on Query fields")
    if connector.returns.is_list or connector.returns.non_null or entity_type is None:
        return problem("an entity connector returns a nullable single object type")
    if not connector.arguments:
        return problem("an entity connector needs arguments (its key)")
    return [
        problem_
        for argument in connector.arguments
        if argument not in entity_type.fields
        for problem_ in problem(f"no field {argument!r} for the argument")
    ]


def _headers(headers: tuple[HeaderMapping, ...], where: str) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for header in headers:
        name = header.name.lower()
        if name in seen:
            out.append(Problem("CONNECTOR_HEADER_INVALID", f"header {name!r} given twice", where))
        seen.add(name)
        if name in RESERVED_HEADERS:
            out.append(Problem("CONNECTOR_HEADER_INVALID", f"header {name!r} is reserved", where))
        if header.from_ is not None and name in NOT_FROM:
            out.append(Problem("CONNECTOR_HEADER_INVALID",
                               f"header {name!r} cannot be copied with 'from' (use 'value')",
                               where))  # fmt: skip
    return out


def _top_keys(selection: ast.Selection) -> set[str]:
    sub = selection.sub if selection.path is None else selection.path.sub
    return _keys(sub) if sub is not None else set()


def _keys(sub: ast.Sub) -> set[str]:
    keys: set[str] = set()
    for item in sub.items:
        if isinstance(item, ast.Field):
            keys.add(item.key)
        elif isinstance(item, ast.Alias | ast.Group):
            keys.add(item.alias)
        elif item.value.sub is not None:
            keys |= _keys(item.value.sub)
    return keys


def _shape(selection: ast.Selection, type_name: str, info: SchemaInfo) -> list[str]:
    sub = selection.sub if selection.path is None else selection.path.sub
    return [] if sub is None else _sub_shape(sub, type_name, info)


def _sub_shape(sub: ast.Sub, type_name: str, info: SchemaInfo) -> list[str]:
    type_ = info.types.get(type_name)
    if type_ is None:
        return []  # a scalar or a type of another subgraph: not checked here
    out: list[str] = []
    for item in sub.items:
        if isinstance(item, ast.Merge):
            if item.value.sub is not None:
                out += _sub_shape(item.value.sub, type_name, info)
            continue
        key = item.key if isinstance(item, ast.Field) else item.alias
        if key == "__typename":
            continue
        node = type_.fields.get(key)
        if node is None:
            out.append(f"{type_name} has no field {key!r} (selected as {key!r})")
            continue
        nested = item.value.sub if isinstance(item, ast.Alias) else item.sub
        child = field_type(node.type).name
        if nested is not None and child not in info.types and isinstance(item, ast.Group):
            out.append(f"{type_name}.{key} is a {child}: a group selection needs an object type")
        elif nested is not None and child not in info.types and isinstance(item, ast.Field):
            out.append(f"{type_name}.{key} is a {child}: a subselection needs an object type")
        elif nested is not None:
            out += _sub_shape(nested, child, info)
    return out
