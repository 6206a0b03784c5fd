"""Building one HTTP request from a connector and its variables: URL, headers, body.

URL: scheme and host from the source's baseURL; the path is baseURL path, ``source.path``
segments, the connect path, ``connect.path`` segments (one ``/`` at each join); the query is
baseURL query, ``source.queryParams``, the connect query, ``connect.queryParams``, in that order.
Headers: the connect ones, then each source one whose name the connect list does not use.
Body: the ``body`` mapping as compact JSON (or form-encoded when the content-type says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from .mapping import MISSING, Selection, apply
from .mapping.methods import scalar_text
from .mapping.values import compact_json, type_name
from .model import Connector, HeaderMapping, Source
from .template import REQUEST_INVALID, TemplateError

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _invalid(message: str) -> TemplateError:
    return TemplateError(message, code=REQUEST_INVALID)


def _evaluate(selection: Selection, variables: Mapping[str, Any]) -> Any:
    value, _ = apply(selection, {}, variables)
    return value


def _join(path: str, tail: str) -> str:
    if tail in ("", "/"):
        return path
    return path.rstrip("/") + "/" + tail.lstrip("/")


def _segments(selection: Selection | None, variables: Mapping[str, Any]) -> list[str]:
    if selection is None:
        return []
    value = _evaluate(selection, variables)
    if not isinstance(value, list):
        raise _invalid(f"http.path must give an array, not {type_name(value)}")
    out = []
    for item in value:
        text = scalar_text(item)
        if text is None or item is None:
            raise _invalid(f"http.path items must be scalars, not {type_name(item)}")
        out.append(quote(text, safe=""))
    return out


def _params(selection: Selection | None, variables: Mapping[str, Any]) -> list[str]:
    if selection is None:
        return []
    value = _evaluate(selection, variables)
    if value is MISSING:
        return []
    if not isinstance(value, dict):
        raise _invalid(f"http.queryParams must give an object, not {type_name(value)}")
    out: list[str] = []
    for key, item in value.items():
        for element in item if isinstance(item, list) else [item]:
            if element is None:
                continue
            text = scalar_text(element)
            if text is None:
                raise _invalid(f"query parameter {key!r} cannot be {type_name(element)}")
            out.append(f"{quote(key, safe='')}={quote(text, safe='')}")
    return out


def build_url(
    connector: Connector,
    source: Source | None,
    variables: Mapping[str, Any],
    base_url: str | None = None,
) -> str:
    """The final URL; ``base_url`` (from configuration) replaces the source's baseURL."""
    rendered = connector.url.render(variables, url=True)
    connect = urlsplit(rendered)
    if source is None:
        base = connect
        path, query = connect.path, [connect.query] if connect.query else []
    else:
        base = urlsplit(base_url or source.base_url.render(variables, url=True))
        path, query = base.path, [base.query] if base.query else []
        for segment in _segments(source.path, variables):
            path = _join(path, segment)
        query += _params(source.query_params, variables)
        path = _join(path, connect.path)
        if connect.query:
            query.append(connect.query)
    for segment in _segments(connector.path, variables):
        path = _join(path, segment)
    query += _params(connector.query_params, variables)
    url = f"{base.scheme}://{base.netloc}{path}"
    return f"{url}?{'&'.join(query)}" if query else url


def build_headers(
    mappings: Sequence[HeaderMapping],
    variables: Mapping[str, Any],
    client: Mapping[str, Sequence[str]],
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for mapping in mappings:
        if mapping.from_ is not None:
            out += [(mapping.name, value) for value in client.get(mapping.from_.lower(), ())]
        elif mapping.value is not None:
            out.append((mapping.name, mapping.value.render(variables, url=False)))
    return out


def _form(text: str) -> str:
    return quote(text, safe="").replace("%20", "+")


def form_encode(value: Any, prefix: str = "") -> list[str]:
    """qs-style form encoding: nested keys as ``a[b]``, items as ``a[0]``, spaces as ``+``."""
    if isinstance(value, dict):
        pairs = [(f"{prefix}[{k}]" if prefix else k, v) for k, v in value.items()]
    elif isinstance(value, list):
        pairs = [(f"{prefix}[{i}]", v) for i, v in enumerate(value)]
    else:
        text = "" if value is None else scalar_text(value) or ""
        return [f"{_form(prefix)}={_form(text)}"]
    return [item for key, child in pairs for item in form_encode(child, key)]


def build_request(
    connector: Connector,
    source: Source | None,
    variables: Mapping[str, Any],
    client_headers: Mapping[str, Sequence[str]],
    base_url: str | None = None,
) -> HttpRequest:
    """The request for one set of variables; raises TemplateError (CONNECTOR_REQUEST_INVALID)."""
    url = build_url(connector, source, variables, base_url)
    headers = build_headers(connector.headers, variables, client_headers)
    used = {mapping.name.lower() for mapping in connector.headers}
    if source is not None:
        inherited = [m for m in source.headers if m.name.lower() not in used]
        headers += build_headers(inherited, variables, client_headers)
    body: bytes | None = None
    if connector.body is not None:
        value = _evaluate(connector.body, variables)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
        if value is MISSING:
            body = b""
        elif content_type is not None and content_type.split(";")[0].strip() == FORM:
            if not isinstance(value, dict):
                raise _invalid("a form-encoded body must be an object")
            body = "&".join(form_encode(value)).encode()
        else:
            body = compact_json(value).encode()
            if content_type is None:
                headers.append(("content-type", "application/json"))
    return HttpRequest(connector.method, url, tuple(headers), body)
