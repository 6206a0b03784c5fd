"""Composition errors: a stable code, the subgraph, type and field, a reviewer's message.

Codes reuse The Guild's composition codes (``@theguild/federation-composition``) where one exists,
so that tools and people who know Federation recognise them::

    CompositionError (a value: one finding)
    CompositionFailed (GatewayError: raised by ``compose_or_raise`` with every finding)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.errors import GatewayError

INVALID_GRAPHQL = "INVALID_GRAPHQL"
UNKNOWN_FEDERATION_LINK_VERSION = "UNKNOWN_FEDERATION_LINK_VERSION"
#: a connect spec version this composer does not accept, or too old a Federation for it (the
#: other connector problems keep the codes of ``gateway.connectors``: ``CONNECTOR_*``)
CONNECTOR_VERSION_UNSUPPORTED = "CONNECTOR_VERSION_UNSUPPORTED"
INVALID_SUBGRAPH_NAME = "INVALID_SUBGRAPH_NAME"
TYPE_KIND_MISMATCH = "TYPE_KIND_MISMATCH"
FIELD_TYPE_MISMATCH = "FIELD_TYPE_MISMATCH"
FIELD_ARGUMENT_TYPE_MISMATCH = "FIELD_ARGUMENT_TYPE_MISMATCH"
FIELD_ARGUMENT_DEFAULT_MISMATCH = "FIELD_ARGUMENT_DEFAULT_MISMATCH"
INPUT_FIELD_DEFAULT_MISMATCH = "INPUT_FIELD_DEFAULT_MISMATCH"
REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH = "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"
REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH = "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"
EMPTY_MERGED_INPUT_TYPE = "EMPTY_MERGED_INPUT_TYPE"
EMPTY_MERGED_ENUM_TYPE = "EMPTY_MERGED_ENUM_TYPE"
ENUM_VALUE_MISMATCH = "ENUM_VALUE_MISMATCH"
INVALID_FIELD_SHARING = "INVALID_FIELD_SHARING"
KEY_INVALID_FIELDS = "KEY_INVALID_FIELDS"
KEY_FIELDS_SELECT_INVALID_TYPE = "KEY_FIELDS_SELECT_INVALID_TYPE"
KEY_FIELDS_HAS_ARGS = "KEY_FIELDS_HAS_ARGS"
EXTERNAL_MISSING_ON_BASE = "EXTERNAL_MISSING_ON_BASE"
EXTERNAL_UNUSED = "EXTERNAL_UNUSED"
EXTERNAL_TYPE_MISMATCH = "EXTERNAL_TYPE_MISMATCH"
REQUIRES_INVALID_FIELDS = "REQUIRES_INVALID_FIELDS"
REQUIRES_FIELDS_MISSING_EXTERNAL = "REQUIRES_FIELDS_MISSING_EXTERNAL"
PROVIDES_INVALID_FIELDS = "PROVIDES_INVALID_FIELDS"
PROVIDES_FIELDS_MISSING_EXTERNAL = "PROVIDES_FIELDS_MISSING_EXTERNAL"
PROVIDES_ON_NON_OBJECT_FIELD = "PROVIDES_ON_NON_OBJECT_FIELD"
OVERRIDE_FROM_SELF_ERROR = "OVERRIDE_FROM_SELF_ERROR"
OVERRIDE_SOURCE_HAS_OVERRIDE = "OVERRIDE_SOURCE_HAS_OVERRIDE"
OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE = "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE"
OVERRIDE_ON_INTERFACE = "OVERRIDE_ON_INTERFACE"
OVERRIDE_LABEL_INVALID = "OVERRIDE_LABEL_INVALID"
INTERFACE_OBJECT_USAGE_ERROR = "INTERFACE_OBJECT_USAGE_ERROR"
INTERFACE_KEY_NOT_ON_IMPLEMENTATION = "INTERFACE_KEY_NOT_ON_IMPLEMENTATION"
REFERENCED_INACCESSIBLE = "REFERENCED_INACCESSIBLE"
ONLY_INACCESSIBLE_CHILDREN = "ONLY_INACCESSIBLE_CHILDREN"
REQUIRED_INACCESSIBLE = "REQUIRED_INACCESSIBLE"
IMPLEMENTED_BY_INACCESSIBLE = "IMPLEMENTED_BY_INACCESSIBLE"
QUERY_ROOT_TYPE_INACCESSIBLE = "QUERY_ROOT_TYPE_INACCESSIBLE"
DEFAULT_VALUE_USES_INACCESSIBLE = "DEFAULT_VALUE_USES_INACCESSIBLE"
SATISFIABILITY_ERROR = "SATISFIABILITY_ERROR"
NO_QUERIES = "NO_QUERIES"
INVALID_SHAREABLE_USAGE = "INVALID_SHAREABLE_USAGE"
EXTENSION_WITH_NO_BASE = "EXTENSION_WITH_NO_BASE"
INTERFACE_FIELD_NO_IMPLEM = "INTERFACE_FIELD_NO_IMPLEM"


@dataclass(frozen=True, slots=True)
class CompositionError:
    """One composition finding: what is wrong, where, and a stable code."""

    code: str
    message: str
    subgraph: str | None = None
    type: str | None = None
    field: str | None = None
    #: the line of the subgraph SDL it is about, when known (connector problems)
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "code": self.code,
            "message": self.message,
            "subgraph": self.subgraph,
            "type": self.type,
            "field": self.field,
            "line": self.line,
        }


class CompositionFailed(GatewayError):
    """The subgraphs do not compose; ``errors`` holds every finding."""

    code = "COMPOSITION_FAILED"

    def __init__(self, errors: list[CompositionError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def where(subgraph: str | None, type_name: str | None = None, field: str | None = None) -> str:
    """The prefix of a message: ``[subgraph] Type.field:``."""
    place = type_name or ""
    if field:
        place = f"{place}.{field}"
    prefix = f"[{subgraph}] " if subgraph else ""
    return f"{prefix}{place}:" if place else prefix.rstrip()


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean "x"?`` when a near name exists, else the empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def error(
    code: str,
    text: str,
    subgraph: str | None = None,
    type_name: str | None = None,
    field: str | None = None,
) -> CompositionError:
    """Build a finding whose message starts with where it is."""
    head = where(subgraph, type_name, field)
    message = f"{head} {text}" if head else text
    return CompositionError(code, message, subgraph, type_name, field)
