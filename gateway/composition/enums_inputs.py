"""Enum and input object merging: union for outputs, intersection for inputs.

Federation 2: an enum used only as output takes the union of its values; used only as input, the
intersection; used both ways, every subgraph must list the same values. An input object keeps the
fields every subgraph declares; a required input field missing somewhere is an error.
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.merge import merge_applied
from gateway.composition.model import Composition, MergedEnumValue
from gateway.composition.subgraph import ENUM, INPUT_OBJECT, INTERFACE, OBJECT, named_type


def _usage(c: Composition) -> tuple[set[str], set[str]]:
    inputs: set[str] = set()
    outputs: set[str] = set()
    for sub in c.subgraphs.values():
        for t in sub.types.values():
            for f in t.fields.values():
                if t.kind == INPUT_OBJECT:
                    inputs.add(named_type(f.type))
                elif t.kind in (OBJECT, INTERFACE):
                    outputs.add(named_type(f.type))
                for a in f.args.values():
                    inputs.add(named_type(a.type))
    return inputs, outputs


def merge_enums(c: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    inputs, outputs = _usage(c)
    for t in c.types.values():
        if t.kind != ENUM:
            continue
        order: list[str] = []
        for st in t.by_graph.values():
            order.extend(v for v in st.values if v not in order)
        as_input, as_output = t.name in inputs, t.name in outputs
        graphs = list(t.by_graph)
        if as_input and as_output:
            for value in order:
                missing = [g for g in graphs if value not in t.by_graph[g].values]
                if missing:
                    found.append(
                        error(
                            E.ENUM_VALUE_MISMATCH,
                            f'value "{value}" is missing in '
                            f"{', '.join(f'[{g}]' for g in missing)}. {t.name} is used both as "
                            "input and output, so every subgraph must list the same values.",
                            None,
                            t.name,
                        )
                    )
        if as_input and not as_output:
            order = [v for v in order if all(v in t.by_graph[g].values for g in graphs)]
            if not order:
                found.append(
                    error(
                        E.EMPTY_MERGED_ENUM_TYPE,
                        "has no value that every subgraph declares; as an input-only enum it "
                        "keeps only the common values, and none are left.",
                        None,
                        t.name,
                    )
                )
        for value in order:
            by_graph = {g: st.values[value] for g, st in t.by_graph.items() if value in st.values}
            t.values[value] = MergedEnumValue(
                name=value,
                by_graph=by_graph,
                description=next((v.description for v in by_graph.values() if v.description), None),
                applied=merge_applied([v.applied for v in by_graph.values()]),
            )
    return found


def merge_inputs(c: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    for t in c.types.values():
        if t.kind != INPUT_OBJECT:
            continue
        graphs = list(t.by_graph)
        for name in list(t.fields):
            f = t.fields[name]
            missing = [g for g in graphs if g not in f.by_graph]
            if not missing:
                continue
            required = [
                g for g, sf in f.by_graph.items() if sf.type.endswith("!") and not sf.default
            ]
            if required:
                found.append(
                    error(
                        E.REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH,
                        f"is required in {', '.join(f'[{g}]' for g in required)} but missing in "
                        f"{', '.join(f'[{g}]' for g in missing)}. Input types keep only the "
                        "fields every subgraph declares: add it there, or make it optional.",
                        None,
                        t.name,
                        name,
                    )
                )
            del t.fields[name]
        if not t.fields:
            found.append(
                error(
                    E.EMPTY_MERGED_INPUT_TYPE,
                    "has no field that every subgraph declares, so the merged input type "
                    "would be empty.",
                    None,
                    t.name,
                )
            )
    return found
