"""The query graph's data: nodes (a type as one subgraph returns it) and the edges between them.

Immutable once built (``build.py``); override labels are not baked in: each field edge answers
``usable(labels)`` for the labels of one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.supergraph.model import FieldInSubgraph, Key


@dataclass(frozen=True, slots=True)
class Node:
    """A type as one subgraph returns it.

    ``provided`` names the ``@provides`` context (``Type.field`` of the providing field, nested
    with ``/``): under a providing field the subgraph also returns some of its ``@external``
    fields, so the same type there is another node with more field edges.
    """

    graph: str
    type_name: str
    provided: str | None = None


@dataclass(frozen=True, slots=True)
class FieldEdge:
    """``head`` resolves ``field``; ``tail`` is the node of its (subgraph's own) named type,
    None for a leaf. ``depth`` is the number of list levels around that type."""

    head: Node
    field: str
    entry: FieldInSubgraph
    tail: Node | None
    depth: int = 0

    def usable(self, labels: frozenset[str]) -> bool:
        """Whether the subgraph resolves the field for a request with these override labels.

        An ``@external`` entry is usable only as an edge of a ``@provides`` node (built so).
        """
        return not self.entry.used_overridden and self.entry.active(labels)

    @property
    def requires(self) -> bool:
        """The field needs other fields of its entity first (``@requires``: a sub-plan)."""
        return self.entry.requires is not None


@dataclass(frozen=True, slots=True)
class KeyEdge:
    """An entity jump: the object at ``head`` is sent to ``tail.graph`` as a representation.

    ``local``: ``head``'s subgraph returns every key field itself; otherwise some are collected
    from other subgraphs first (the search checks they can be). ``typename`` is the
    ``__typename`` the representation must carry when it is not the object's own (an
    ``@interfaceObject`` target knows the interface only).
    """

    head: Node
    tail: Node
    key: Key
    local: bool
    typename: str | None = None


@dataclass(frozen=True, slots=True)
class RootEdge:
    """From one subgraph's root type to another's: a root field may start in any subgraph."""

    head: Node
    tail: Node


@dataclass(frozen=True, slots=True)
class CastEdge:
    """A down-cast of an abstract type to a member the subgraph knows (``... on Member``)."""

    head: Node
    tail: Node


@dataclass(slots=True)
class Edges:
    """Everything that leaves one node."""

    fields: dict[str, list[FieldEdge]] = field(default_factory=dict)
    keys: list[KeyEdge] = field(default_factory=list)
    casts: list[CastEdge] = field(default_factory=list)
    roots: list[RootEdge] = field(default_factory=list)
