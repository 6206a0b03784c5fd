"""Read a Federation 2 supergraph into an immutable model and the client-facing API schema."""

from gateway.supergraph.loader import load_supergraph, parse_field_set
from gateway.supergraph.model import FieldInSubgraph, Key, Subgraph, Supergraph, TypeInSubgraph

__all__ = [
    "FieldInSubgraph",
    "Key",
    "Subgraph",
    "Supergraph",
    "TypeInSubgraph",
    "load_supergraph",
    "parse_field_set",
]
