"""The connector model: what ``@source``/``@connect`` in one subgraph SDL say, parsed once.

Immutable; built by :mod:`gateway.connectors.sdl` (which also validates it) and read by the
request builder and the runtime. A future plan node carries a :class:`Connector`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .mapping import Selection, Version
from .mapping.refs import references
from .template import Template

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class HeaderMapping:
    """``{name, from}`` copies a client header; ``{name, value}`` renders a template."""

    name: str
    from_: str | None = None
    value: Template | None = None


@dataclass(frozen=True, slots=True)
class ErrorsSpec:
    message: Selection | None = None
    extensions: Selection | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """``@source(name:, http: {baseURL, headers, path, queryParams}, errors:, isSuccess:)``."""

    name: str
    base_url: Template
    headers: tuple[HeaderMapping, ...] = ()
    path: Selection | None = None
    query_params: Selection | None = None
    errors: ErrorsSpec = ErrorsSpec()
    is_success: Selection | None = None


@dataclass(frozen=True, slots=True)
class FieldType:
    """A field's GraphQL type reduced to what mapping needs."""

    name: str
    is_list: bool = False
    non_null: bool = False


@dataclass(frozen=True, slots=True)
class Connector:
    """One ``@connect``: on a field (``field`` set) or on a type (``field`` None, v0.2)."""

    subgraph: str
    parent_type: str
    field: str | None
    index: int
    method: str
    url: Template
    selection: Selection
    version: Version
    returns: FieldType
    source: str | None = None
    headers: tuple[HeaderMapping, ...] = ()
    body: Selection | None = None
    path: Selection | None = None
    query_params: Selection | None = None
    entity: bool = False
    batch_max_size: int | None = None
    errors: ErrorsSpec = ErrorsSpec()
    is_success: Selection | None = None
    id: str | None = None
    arguments: tuple[str, ...] = ()

    @property
    def coordinate(self) -> str:
        """``<subgraph>:<Type>.<field>[i]`` or ``<subgraph>:<Type>[i]`` (errors, plans)."""
        where = self.parent_type if self.field is None else f"{self.parent_type}.{self.field}"
        return f"{self.subgraph}:{where}[{self.index}]"

    @property
    def label(self) -> str:
        """How a plan prints this fetch: ``connector: "bapenda.samsat", GET "/kendaraan/{…}"``."""
        where = f"{self.subgraph}.{self.source}" if self.source else self.coordinate
        return f'connector: "{where}", {self.method} "{self.url.source}"'

    @property
    def root(self) -> bool:
        return self.parent_type in ("Query", "Mutation")

    @property
    def is_batch(self) -> bool:
        return any(name == "$batch" for name, _ in self.references())

    def references(self) -> set[tuple[str, str | None]]:
        """Every ``($variable, first key)`` the request and the mapping read."""
        found = self.url.references()
        for selection in (self.body, self.path, self.query_params, self.selection):
            if selection is not None:
                found |= references(selection)
        for header in self.headers:
            if header.value is not None:
                found |= header.value.references()
        return found

    def key_fields(self, variable: str) -> tuple[str, ...]:
        """The fields of ``$this``/``$batch``/``$args`` this connector needs (its entity key)."""
        return tuple(sorted({k for v, k in self.references() if v == variable and k}))


@dataclass(frozen=True, slots=True)
class ConnectorSubgraph:
    """A subgraph whose fields are served by HTTP connectors (no GraphQL endpoint of its own)."""

    name: str
    version: Version
    sources: dict[str, Source]
    connectors: tuple[Connector, ...]

    def connector(self, coordinate: str) -> Connector:
        for connector in self.connectors:
            if connector.coordinate == coordinate:
                return connector
        raise KeyError(coordinate)
