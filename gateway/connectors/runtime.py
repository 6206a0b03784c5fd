"""Running a connector: ``execute_connector(connector, inputs, context) -> ConnectorResult``.

The one entry point a future plan node calls. Each input is one field occurrence or one entity
representation; the result has one value per input (None where it failed) and GraphQL errors on
the inputs' paths, with stable codes:

- ``CONNECTOR_FETCH``: a non-success answer (message and extensions from ``errors:`` mappings);
- ``CONNECTOR_RESPONSE_INVALID``: a body that is not the JSON its content-type says;
- ``CONNECTOR_REQUEST_INVALID``: the request could not be built (an array in a URL, ...);
- ``HTTP_CLIENT_ERROR``: no answer (connection refused, circuit open); ``GATEWAY_TIMEOUT``;
- ``CONNECTOR_IDENTIFIER_IN_URL``: an identifier value would travel in the URL (not sent);
- ``SUBGRAPH_RESPONSE_TOO_LARGE``: a body beyond the transport's cap (not read further).

Requests run concurrently up to ``context.max_concurrency``; a ``$batch`` connector sends one
request per chunk of ``batch.maxSize`` representations and matches results back by key; inputs
that would make the same call (same ``$args``, same ``$this`` fields read) share one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import ErrorDict, SubgraphError

from .identifiers import identifiers_in_url
from .mapping import MISSING, Selection, apply
from .mapping.values import compact_json
from .model import Connector, ConnectorSubgraph
from .request import HttpRequest, build_request
from .template import TemplateError
from .transport import ConnectorTransport, HttpResponse, ServerErrorResponse, as_fetch_body

Path = tuple[str | int, ...]

FETCH = "CONNECTOR_FETCH"
RESPONSE_INVALID = "CONNECTOR_RESPONSE_INVALID"
CLIENT_ERROR = "HTTP_CLIENT_ERROR"
TIMEOUT = "GATEWAY_TIMEOUT"
IDENTIFIER_IN_URL = "CONNECTOR_IDENTIFIER_IN_URL"
TOO_LARGE = "SUBGRAPH_RESPONSE_TOO_LARGE"


@dataclass(frozen=True, slots=True)
class ConnectorInput:
    """One occurrence: the field's arguments (``$args``; for an ``entity: true`` Query field, the
    representation), the parent or representation of a type (``$this``, a ``$batch`` item), and
    where the value goes in the response (error paths)."""

    args: Mapping[str, Any] = field(default_factory=dict)
    this: Mapping[str, Any] | None = None
    path: Path = ()


@dataclass(slots=True)
class ConnectorContext:
    """What a request carries to connectors: transport, per-source ``$config``, client headers."""

    subgraph: ConnectorSubgraph
    transport: ConnectorTransport
    #: ``"<subgraph>.<source>"`` -> that source's ``$config`` (API keys, per environment)
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ``"<subgraph>.<source>"`` -> base URL replacing the SDL's (per environment)
    base_urls: Mapping[str, str] = field(default_factory=dict)
    #: ``"<subgraph>.<source>"`` -> seconds a call may take (else the transport's timeout)
    timeouts: Mapping[str, float] = field(default_factory=dict)
    #: the client request's headers, lower-case names -> values (``$request.headers``, ``from``)
    request_headers: Mapping[str, Sequence[str]] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    max_concurrency: int = 8
    #: field names besides the built-in ones (``nik``, ``noKk`` ...) whose values never go in a URL
    identifier_names: frozenset[str] = frozenset()


@dataclass(slots=True)
class ConnectorResult:
    data: list[Any]
    errors: list[ErrorDict]
    #: mapping problems (diagnostics for logs and traces; never GraphQL errors)
    problems: list[str] = field(default_factory=list)


async def execute_connector(
    connector: Connector, inputs: Sequence[ConnectorInput], context: ConnectorContext
) -> ConnectorResult:
    """Resolve ``inputs`` with ``connector``: one value (or None) per input, plus errors."""
    result = ConnectorResult([None] * len(inputs), [])
    gate = asyncio.Semaphore(max(1, context.max_concurrency))
    if connector.is_batch:
        # duplicates share one slot in $batch (the reference would answer only the first)
        keys = connector.key_fields("$batch")
        groups: dict[str, list[int]] = {}
        for i, item in enumerate(inputs):
            groups.setdefault(_key(item.this or {}, keys), []).append(i)
        unique = list(groups.values())
        size = connector.batch_max_size or len(unique) or 1
        chunks = [unique[i : i + size] for i in range(0, len(unique), size)]
        await asyncio.gather(*(_batch(connector, inputs, c, context, gate, result) for c in chunks))
    else:
        # identical calls (same $args, same $this fields read) are made once
        whole = ("$this", None) in connector.references()
        this_keys = connector.key_fields("$this")
        calls: dict[str, list[int]] = {}
        for i, item in enumerate(inputs):
            this = item.this or {}
            read = this if whole else {k: this.get(k) for k in this_keys}
            calls.setdefault(compact_json([dict(item.args), read]), []).append(i)
        await asyncio.gather(
            *(_single(connector, inputs, g, context, gate, result) for g in calls.values())
        )
    return result


def _variables(connector: Connector, context: ConnectorContext) -> dict[str, Any]:
    key = f"{connector.subgraph}.{connector.source}" if connector.source else connector.subgraph
    return {
        "$config": dict(context.config.get(key, {})),
        "$context": dict(context.context),
        "$request": {"headers": {k: list(v) for k, v in context.request_headers.items()}},
    }


async def _single(
    connector: Connector,
    inputs: Sequence[ConnectorInput],
    group: list[int],
    context: ConnectorContext,
    gate: asyncio.Semaphore,
    result: ConnectorResult,
) -> None:
    """One call for the inputs of ``group`` (identical as far as the connector reads them)."""
    item = inputs[group[0]]
    variables = _variables(connector, context)
    variables["$args"] = dict(item.args)
    if item.this is not None:
        variables["$this"] = dict(item.this)
    paths = [inputs[i].path for i in group]
    mapped = await _call(connector, variables, context, gate, paths, result)
    if mapped is not MISSING:
        for index in group:
            result.data[index] = mapped


async def _batch(
    connector: Connector,
    inputs: Sequence[ConnectorInput],
    chunk: list[list[int]],
    context: ConnectorContext,
    gate: asyncio.Semaphore,
    result: ConnectorResult,
) -> None:
    """One request for ``chunk`` (groups of inputs with the same key: one ``$batch`` item each)."""
    variables = _variables(connector, context)
    variables["$batch"] = [dict(inputs[group[0]].this or {}) for group in chunk]
    every = [i for group in chunk for i in group]
    mapped = await _call(
        connector, variables, context, gate, [inputs[i].path for i in every], result
    )
    if mapped is MISSING:
        return
    if not isinstance(mapped, list):
        for i in every:
            message = "A batch connector must map the response to a list"
            result.errors.append(_error(connector, message, RESPONSE_INVALID, inputs[i].path, {}))
        return
    keys = connector.key_fields("$batch")
    by_key: dict[str, Any] = {}
    for item in mapped:
        if isinstance(item, dict):
            by_key.setdefault(_key(item, keys), item)
    for group in chunk:
        value = by_key.get(_key(inputs[group[0]].this or {}, keys))
        for i in group:
            result.data[i] = value


def _key(obj: Mapping[str, Any], keys: Sequence[str]) -> str:
    return compact_json([obj.get(k) for k in keys])


async def _call(
    connector: Connector,
    variables: dict[str, Any],
    context: ConnectorContext,
    gate: asyncio.Semaphore,
    paths: list[Path],
    result: ConnectorResult,
) -> Any:
    """One HTTP request and its mapping; errors go to ``result`` on every path of ``paths``."""
    source = context.subgraph.sources.get(connector.source) if connector.source else None
    try:
        base_url = context.base_urls.get(f"{connector.subgraph}.{connector.source}")
        request = build_request(connector, source, variables, context.request_headers, base_url)
    except TemplateError as error:
        for path in paths:
            result.errors.append(_error(connector, error.message, error.code, path, {}))
        return MISSING
    leaked = identifiers_in_url(request.url, variables, context.identifier_names)
    if leaked:
        message = (f"A personal identifier ({', '.join(leaked)}) would travel in the URL; "
                   "the request was not sent")  # fmt: skip
        for path in paths:
            result.errors.append(_error(connector, message, IDENTIFIER_IN_URL, path, {}))
        return MISSING
    response = await _send(connector, request, context, gate, paths, result)
    if response is None:
        return MISSING
    variables["$status"] = response.status
    variables["$response"] = {"headers": response.headers}
    try:
        body = decode(response)
    except ValueError:
        for path in paths:
            result.errors.append(_error(connector, "The server returned data in an unexpected "
                                        "format.", RESPONSE_INVALID, path,
                                        {"http": {"status": response.status}}))  # fmt: skip
        return MISSING
    if not _succeeded(connector, source, body, response.status, variables):
        failure = _fetch_error(connector, source, body, response.status, variables)
        for path in paths:
            result.errors.append({**failure, "path": list(path)})
        return MISSING
    mapped, problems = apply(connector.selection, body, variables)
    result.problems += problems
    return None if mapped is MISSING else mapped


async def _send(
    connector: Connector,
    request: HttpRequest,
    context: ConnectorContext,
    gate: asyncio.Semaphore,
    paths: list[Path],
    result: ConnectorResult,
) -> HttpResponse | None:
    key = f"{connector.subgraph}.{connector.source or connector.coordinate}"
    try:
        async with gate:
            response: HttpResponse = await context.transport.fetch(
                key, request.url, as_fetch_body(request, context.timeouts.get(key))
            )
            return response
    except ServerErrorResponse as error:
        return error.response
    except SubgraphError as error:
        code = TIMEOUT if error.extensions.get("timeout") else CLIENT_ERROR
        if error.code == TOO_LARGE:
            code = TOO_LARGE
        extra = {k: v for k, v in error.extensions.items() if k == "circuit"}
        for path in paths:
            result.errors.append(_error(connector, error.message, code, path, extra))
        return None


def decode(response: HttpResponse) -> Any:
    """JSON for a missing/``*/json``/``*+json`` type, text for text/plain, else None."""
    if not response.body:
        return None
    content_type = (response.header("content-type") or "").split(";")[0].strip().lower()
    if content_type == "" or content_type.endswith("/json") or content_type.endswith("+json"):
        return json.loads(response.body)
    if content_type == "text/plain":
        return response.body.decode("utf-8", errors="replace")
    return None


def _succeeded(
    connector: Connector, source: Any, body: Any, status: int, variables: Mapping[str, Any]
) -> bool:
    check: Selection | None = connector.is_success or (source.is_success if source else None)
    if check is None:
        return 200 <= status < 300
    value, _ = apply(check, body, variables)
    return value is True


def _fetch_error(
    connector: Connector, source: Any, body: Any, status: int, variables: Mapping[str, Any]
) -> ErrorDict:
    message_sel = connector.errors.message or (source.errors.message if source else None)
    message = "Request failed"
    if message_sel is not None:
        value, _ = apply(message_sel, body, variables)
        message = value if isinstance(value, str) else ""
    extensions: dict[str, Any] = {"http": {"status": status}}
    for spec in (source.errors if source else None, connector.errors):
        if spec is not None and spec.extensions is not None:
            value, _ = apply(spec.extensions, body, variables)
            if isinstance(value, dict):
                extensions.update(value)
    code = extensions.pop("code", FETCH)
    return _error(connector, message, str(code), (), extensions)


def _error(
    connector: Connector, message: str, code: str, path: Path, extensions: Mapping[str, Any]
) -> ErrorDict:
    return {
        "message": message,
        "path": list(path),
        "extensions": {
            **extensions,
            "code": code,
            "service": connector.subgraph,
            "connector": {"coordinate": connector.coordinate},
        },
    }
