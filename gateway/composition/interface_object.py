"""``@interfaceObject`` and entity interfaces (``@key`` on an interface), Federation 2.3.

An ``@interfaceObject`` stands, in one subgraph, for an interface that another subgraph defines
with a ``@key``; its fields become fields of every implementation in the supergraph. An entity
interface's key must be a key of each implementation in that subgraph.
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition, MergedField
from gateway.composition.subgraph import INTERFACE, OBJECT, Applied


def check_interface_objects(composition: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    for t in composition.types.values():
        for g, st in t.by_graph.items():
            if st.interface_object:
                if not st.keys:
                    found.append(
                        error(
                            E.INTERFACE_OBJECT_USAGE_ERROR,
                            "is an @interfaceObject without a @key; an interface object must "
                            "be an entity.",
                            g,
                            t.name,
                        )
                    )
                if not any(
                    other.kind == INTERFACE and not other.interface_object
                    for other in t.by_graph.values()
                ):
                    found.append(
                        error(
                            E.INTERFACE_OBJECT_USAGE_ERROR,
                            "is an @interfaceObject, but no subgraph defines the interface "
                            f"{t.name}. Define it (with a @key) in the subgraph that owns its "
                            "implementations.",
                            g,
                            t.name,
                        )
                    )
            if st.kind == INTERFACE and st.keys:
                sub = composition.subgraphs[g]
                for impl in sub.types.values():
                    if impl.kind != OBJECT or t.name not in impl.interfaces:
                        continue
                    impl_keys = {" ".join(k.fields.split()) for k in impl.keys}
                    for key in st.keys:
                        if " ".join(key.fields.split()) not in impl_keys:
                            found.append(
                                error(
                                    E.INTERFACE_KEY_NOT_ON_IMPLEMENTATION,
                                    f"implements entity interface {t.name}, but lacks its key "
                                    f'@key(fields: "{key.fields}").',
                                    g,
                                    impl.name,
                                )
                            )
    return found


def add_interface_object_fields(composition: Composition) -> None:
    """Give each implementation the fields its interface gets from an ``@interfaceObject``."""
    for iface in composition.types.values():
        if iface.kind != INTERFACE or not iface.has_interface_object:
            continue
        for impl in composition.types.values():
            if impl.kind != OBJECT or iface.name not in impl.interfaces:
                continue
            for name, f in iface.fields.items():
                if name in impl.fields:
                    continue
                impl.fields[name] = MergedField(
                    name=name,
                    type=f.type,
                    by_graph={},
                    description=f.description,
                    applied=Applied(
                        inaccessible=f.applied.inaccessible,
                        tags=list(f.applied.tags),
                        deprecated=f.applied.deprecated,
                        auth=f.applied.auth,
                    ),
                    args=dict(f.args),
                    from_interface_object=True,
                )
