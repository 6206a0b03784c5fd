"""URL and header templates: text with ``{expression}`` holes (``/kendaraan/{$args.nopol}``).

Parsed once (each hole is a mapping-language selection); rendered per request. A rendered value
is a string as itself, a number or boolean as JSON text, null or missing as ``""``; an array or
object is an error. URLs percent-encode rendered values except ``A-Z a-z 0-9 - . _ ~``; literal
text keeps RFC 3986 reserved characters and only encodes what a URL cannot hold.
Tabs, CR, LF and form-feed outside holes are dropped, so a template may span lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gateway.errors import GatewayError

from .mapping import MISSING, Selection, SelectionSyntaxError, Version, apply, parse_selection
from .mapping.methods import scalar_text
from .mapping.refs import references

TEMPLATE_SYNTAX = "CONNECTOR_TEMPLATE_SYNTAX"
REQUEST_INVALID = "CONNECTOR_REQUEST_INVALID"

_RESERVED = ":/?#[]@!$&'()*+,;=%"
_DROPPED = str.maketrans("", "", "\t\r\n\f")


class TemplateError(GatewayError):
    """A template that cannot be parsed (load time) or rendered (request time)."""

    code = TEMPLATE_SYNTAX


@dataclass(frozen=True, slots=True)
class Template:
    """Alternating literal text (``str``) and expressions (``Selection``)."""

    parts: tuple[str | Selection, ...]
    source: str

    @property
    def expressions(self) -> tuple[Selection, ...]:
        return tuple(p for p in self.parts if isinstance(p, Selection))

    def references(self) -> set[tuple[str, str | None]]:
        found: set[tuple[str, str | None]] = set()
        for expression in self.expressions:
            found |= references(expression)
        return found

    def render(self, variables: Mapping[str, Any], *, url: bool) -> str:
        """The text, values percent-encoded when ``url``; raises TemplateError on a bad value."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(quote(part, safe=_RESERVED) if url else part)
                continue
            value, _ = apply(part, {}, variables)
            text = "" if value is MISSING or value is None else scalar_text(value)
            if text is None:
                raise TemplateError(
                    f"the expression {{{part.source}}} of {self.source!r} gave an array or "
                    "object, which a template cannot render",
                    code=REQUEST_INVALID,
                )
            out.append(quote(text, safe="") if url else text)
        return "".join(out)


def parse_template(source: str, version: Version) -> Template:
    """Split ``source`` into text and ``{expression}`` holes (braces inside a hole nest)."""
    parts: list[str | Selection] = []
    text: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "}":
            raise TemplateError(f"unbalanced '}}' at offset {i} in {source!r}", offset=i)
        if ch != "{":
            text.append(ch)
            i += 1
            continue
        end = _closing(source, i)
        if text:
            parts.append("".join(text).translate(_DROPPED))
            text = []
        expression = source[i + 1 : end]
        try:
            parts.append(parse_selection(expression, version))
        except SelectionSyntaxError as error:
            raise TemplateError(
                f"in the expression {{{expression}}} of {source!r}: {error.message}",
                offset=i + 1 + error.offset,
            ) from error
        i = end + 1
    if text:
        parts.append("".join(text).translate(_DROPPED))
    return Template(tuple(p for p in parts if p != ""), source)


def _closing(source: str, start: int) -> int:
    depth = 0
    quote_char: str | None = None
    i = start
    while i < len(source):
        ch = source[i]
        if quote_char is not None:
            if ch == "\\":
                i += 1
            elif ch == quote_char:
                quote_char = None
        elif ch in "'\"":
            quote_char = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise TemplateError(f"unclosed '{{' at offset {start} in {source!r}", offset=start)
