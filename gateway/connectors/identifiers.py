"""Identifiers never travel in a connector URL, checked on the request actually built.

Validation refuses ``{$args.nik}`` in a URL template (``CONNECTOR_IDENTIFIER_IN_URL``), but a
value can still reach a URL another way (a free-text argument, ``->jsonStringify``, a path built
from ``$this``). Before a request is sent, every identifier value the connector was given —
``$args``/``$this``/``$batch`` entries whose name is an identifier (``nik``, ``noKk``, ``nip`` ...,
plus the fields ``[auth.identifiers]`` declares) — is looked for in the URL; if one is there the
request is not sent (URLs end up in access logs and proxies; bodies and headers do not).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .validate import is_identifier

#: shorter values are not looked for (a match would say nothing)
MIN_LENGTH = 6


def _values(variables: Mapping[str, Any], names: Collection[str]) -> Iterator[tuple[str, str]]:
    for variable in ("$args", "$this", "$batch"):
        value = variables.get(variable)
        objects = value if isinstance(value, list) else [value]
        for obj in objects:
            if not isinstance(obj, Mapping):
                continue
            for key, item in obj.items():
                if not (is_identifier(key) or key in names):
                    continue
                for element in item if isinstance(item, list) else [item]:
                    if isinstance(element, str | int) and not isinstance(element, bool):
                        text = str(element)
                        if len(text) >= MIN_LENGTH:
                            yield f"{variable}.{key}", text


def identifiers_in_url(
    url: str, variables: Mapping[str, Any], names: Collection[str] = ()
) -> list[str]:
    """The variables (``$this.nik``) whose identifier value appears in ``url``."""
    found: list[str] = []
    for where, text in _values(variables, names):
        if (text in url or quote(text, safe="") in url) and where not in found:
            found.append(where)
    return found
