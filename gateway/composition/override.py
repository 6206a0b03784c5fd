"""``@override(from:, label:)``: where a field may be moved from, and how.

Federation 2.0/2.7: the source is another subgraph; the source's field may not itself override;
an overriding field is not ``@external``; interfaces cannot override; a label is ``percent(N)``
(0-100) or an identifier.
"""

from __future__ import annotations

import re

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition
from gateway.composition.subgraph import INTERFACE

_LABEL = re.compile(r"^(percent\((100(\.0+)?|\d{1,2}(\.\d+)?)\)|[A-Za-z][A-Za-z0-9_\-:.]*)$")


def check_override(composition: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    for t in composition.types.values():
        for f in t.fields.values():
            for g, sf in f.by_graph.items():
                if sf.override is None:
                    continue
                source = sf.override
                where = (g, t.name, f.name)
                if source == g:
                    found.append(
                        error(
                            E.OVERRIDE_FROM_SELF_ERROR,
                            f'@override(from: "{source}") names this very subgraph. Name the '
                            "subgraph the field moves from.",
                            *where,
                        )
                    )
                    continue
                if composition.subgraphs[g].types[t.name].kind == INTERFACE:
                    found.append(
                        error(
                            E.OVERRIDE_ON_INTERFACE,
                            "@override is on an interface field; only object fields can be "
                            "overridden.",
                            *where,
                        )
                    )
                    continue
                if sf.external:
                    found.append(
                        error(
                            E.OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE,
                            f'is both @external and @override(from: "{source}"). A field that '
                            "takes over resolution cannot be external.",
                            *where,
                        )
                    )
                if sf.override_label is not None and not _LABEL.match(sf.override_label):
                    found.append(
                        error(
                            E.OVERRIDE_LABEL_INVALID,
                            f'@override label "{sf.override_label}" is neither percent(N) with N '
                            "from 0 to 100 nor an identifier.",
                            *where,
                        )
                    )
                other = f.by_graph.get(source)
                if (
                    sf.override_label is not None
                    and source in composition.subgraphs
                    and (other is None or other.external)
                ):
                    found.append(
                        error(
                            E.SATISFIABILITY_ERROR,
                            f'@override(from: "{source}", label: "{sf.override_label}") moves '
                            f"only part of the traffic, but [{source}] does not resolve "
                            f"{t.name}.{f.name}; requests left on [{source}] could not be "
                            f"answered. Keep the field in [{source}] until the override is "
                            "complete, or drop the label.",
                            *where,
                        )
                    )
                if other is not None and other.override is not None:
                    found.append(
                        error(
                            E.OVERRIDE_SOURCE_HAS_OVERRIDE,
                            f"overrides [{source}], whose {t.name}.{f.name} itself overrides "
                            f"[{other.override}]. Override the subgraph that owns the field.",
                            *where,
                        )
                    )
    return found
