"""The merged (supergraph-side) model that composition builds and the emitter prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.composition.subgraph import (
    Applied,
    Subgraph,
    SubgraphEnumValue,
    SubgraphField,
    SubgraphType,
)


@dataclass(slots=True)
class MergedArgument:
    name: str
    type: str
    default: str | None
    description: str | None
    applied: Applied


@dataclass(slots=True)
class MergedField:
    """A field of the supergraph and, per graph, how that graph declares it."""

    name: str
    type: str
    by_graph: dict[str, SubgraphField]
    description: str | None
    applied: Applied
    args: dict[str, MergedArgument] = field(default_factory=dict)
    default: str | None = None
    #: added to an object type from an @interfaceObject of one of its interfaces
    from_interface_object: bool = False

    @property
    def used_as_key(self) -> bool:
        return any(f.used_as_key for f in self.by_graph.values())

    @property
    def override(self) -> str | None:
        return next((f.override for f in self.by_graph.values() if f.override), None)


@dataclass(slots=True)
class MergedEnumValue:
    name: str
    by_graph: dict[str, SubgraphEnumValue]
    description: str | None
    applied: Applied


@dataclass(slots=True)
class MergedType:
    """A named type of the supergraph and, per graph, how that graph declares it."""

    name: str
    kind: str
    by_graph: dict[str, SubgraphType]
    description: str | None
    applied: Applied
    fields: dict[str, MergedField] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, MergedEnumValue] = field(default_factory=dict)
    has_interface_object: bool = False


@dataclass(slots=True)
class Composition:
    """Subgraphs (ordered by name) and the merged types."""

    subgraphs: dict[str, Subgraph]
    graph_enum: dict[str, str]  # subgraph name -> join__Graph value
    types: dict[str, MergedType] = field(default_factory=dict)

    def subgraph_type(self, graph: str, name: str) -> SubgraphType | None:
        return self.subgraphs[graph].types.get(name)
