"""The immutable supergraph model the planner reads: who resolves which type and field, and how.

Built once per supergraph by ``gateway.supergraph.loader``; nothing here changes per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema, SelectionSetNode


@dataclass(frozen=True, slots=True)
class Subgraph:
    """A subgraph named in ``join__Graph``; ``enum_value`` is its name inside the supergraph SDL."""

    name: str
    url: str
    enum_value: str


@dataclass(frozen=True, slots=True)
class Key:
    """One ``@key`` of an entity type in one subgraph, parsed against that type."""

    text: str
    selection_set: SelectionSetNode
    resolvable: bool


@dataclass(frozen=True, slots=True)
class TypeInSubgraph:
    """What ``@join__type(graph: ...)`` says about a type in one subgraph."""

    graph: str
    keys: tuple[Key, ...] = ()
    is_interface_object: bool = False
    extension: bool = False

    @property
    def resolvable_keys(self) -> tuple[Key, ...]:
        return tuple(key for key in self.keys if key.resolvable)


@dataclass(frozen=True, slots=True)
class FieldInSubgraph:
    """What ``@join__field(graph: ...)`` says about a field in one subgraph.

    ``override_label`` with ``overrides`` set: the field moved here only while the label is active.
    ``override_label`` without ``overrides``: the field stays here only while the label is inactive.
    """

    graph: str
    external: bool = False
    requires: SelectionSetNode | None = None
    requires_text: str | None = None
    provides: SelectionSetNode | None = None
    provides_text: str | None = None
    overrides: str | None = None
    override_label: str | None = None
    used_overridden: bool = False
    context_arguments: tuple[str, ...] = ()
    #: the field's type as this subgraph declares it (``@join__field(type:)``), e.g. ``Int!`` where
    #: the supergraph says ``Int``; None when the supergraph did not record it
    type_text: str | None = None

    def active(self, labels: frozenset[str]) -> bool:
        """Whether this subgraph resolves the field under the given active override labels."""
        if self.override_label is None:
            return True
        enabled = self.override_label in labels
        return enabled if self.overrides is not None else not enabled


@dataclass(frozen=True, slots=True)
class Supergraph:
    """A loaded supergraph: the full schema, the client-facing API schema and the join metadata."""

    sdl: str
    schema: GraphQLSchema
    api_schema: GraphQLSchema
    subgraphs: dict[str, Subgraph]
    #: type name -> graph name -> what that graph says about the type
    type_graphs: dict[str, dict[str, TypeInSubgraph]]
    #: (type name, field name) -> graph name -> what that graph says about the field. Fields without
    #: ``@join__field`` are listed for every graph that knows their type.
    field_graphs: dict[tuple[str, str], dict[str, FieldInSubgraph]]
    #: graph name -> abstract type name -> object types that are its possible types in that graph
    possible_types_in: dict[str, dict[str, frozenset[str]]]
    #: abstract type name -> its possible object types in the supergraph (API-visible or not)
    possible_types: dict[str, frozenset[str]]
    #: the ``@link`` feature identities (e.g. ``https://specs.apollo.dev/join``) with their versions
    features: dict[str, str] = field(default_factory=dict)
    #: override labels that appear in the supergraph (``percent(N)`` and named ones)
    override_labels: frozenset[str] = frozenset()
    #: structures derived from this supergraph once and kept with it (e.g. the planner's query
    #: graph, keyed by name); not part of the model's value
    derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def graphs_of_type(self, type_name: str) -> dict[str, TypeInSubgraph]:
        return self.type_graphs.get(type_name, {})

    def graphs_of_field(self, type_name: str, field_name: str) -> dict[str, FieldInSubgraph]:
        return self.field_graphs.get((type_name, field_name), {})

    def runtime_types(self, abstract_type: str, graph: str) -> frozenset[str]:
        """Object types a value of ``abstract_type`` may have when ``graph`` returns it."""
        return self.possible_types_in.get(graph, {}).get(abstract_type, frozenset())
