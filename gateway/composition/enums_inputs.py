"""Enum and input object merging: union for outputs, intersection for inputs.

Federation 2: an enum used only as output takes the union of its values; used only as input, the
intersection; used both ways, every subgraph must list the same values. An ``@inaccessible`` value
is exempt from both rules and kept (hidden). An input object keeps the
fields every subgraph declares; a required input field missing somewhere is an error.
"""

from __future__ import annotations

from gateway.composition import errors as E
from gateway.composition.errors import CompositionError, error
from gateway.composition.merge import merge_applied
from gateway.composition.model import Composition, MergedEnumValue, MergedType
from gateway.composition.subgraph import (
    ENUM,
    INPUT_OBJECT,
    INTERFACE,
    OBJECT,
    SubgraphType,
    named_type,
)


def _usage(composition: Composition) -> tuple[set[str], set[str]]:
    inputs: set[str] = set()
    outputs: set[str] = set()
    for sub in composition.subgraphs.values():
        for t in sub.types.values():
            for f in t.fields.values():
                if t.kind == INPUT_OBJECT:
                    inputs.add(named_type(f.type))
                elif t.kind in (OBJECT, INTERFACE):
                    outputs.add(named_type(f.type))
                for a in f.args.values():
                    inputs.add(named_type(a.type))
    return inputs, outputs


def merge_enums(composition: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    inputs, outputs = _usage(composition)
    for t in composition.types.values():
        if t.kind == ENUM:
            found.extend(_merge_enum(t, as_input=t.name in inputs, as_output=t.name in outputs))
    return found


def _merge_enum(
    merged_type: MergedType, *, as_input: bool, as_output: bool
) -> list[CompositionError]:
    """Fill ``merged_type.values``. An ``@inaccessible`` value is kept as is: clients never see
    it, so neither the intersection (input) nor the consistency (input and output) rule applies."""
    found: list[CompositionError] = []
    order: list[str] = []
    for st in merged_type.by_graph.values():
        order.extend(v for v in st.values if v not in order)
    hidden = {v for v in order if any(_hides(st, v) for st in merged_type.by_graph.values())}
    graphs = list(merged_type.by_graph)
    if as_input and as_output:
        for value in order:
            missing = [g for g in graphs if value not in merged_type.by_graph[g].values]
            if missing and value not in hidden:
                found.append(
                    error(
                        E.ENUM_VALUE_MISMATCH,
                        f'value "{value}" is missing in '
                        f"{', '.join(f'[{g}]' for g in missing)}. {merged_type.name} is used "
                        "both as input and output, so every subgraph must list the same values "
                        "(or mark the value @inaccessible).",
                        None,
                        merged_type.name,
                    )
                )
    if as_input and not as_output:
        order = [
            v
            for v in order
            if v in hidden or all(v in merged_type.by_graph[g].values for g in graphs)
        ]
        if not [v for v in order if v not in hidden]:
            found.append(
                error(
                    E.EMPTY_MERGED_ENUM_TYPE,
                    "has no value that every subgraph declares; as an input-only enum it "
                    "keeps only the common values, and none are left.",
                    None,
                    merged_type.name,
                )
            )
    for value in order:
        by_graph = {
            g: st.values[value] for g, st in merged_type.by_graph.items() if value in st.values
        }
        merged_type.values[value] = MergedEnumValue(
            name=value,
            by_graph=by_graph,
            description=next((v.description for v in by_graph.values() if v.description), None),
            applied=merge_applied([v.applied for v in by_graph.values()]),
        )
    return found


def _hides(st: SubgraphType, value: str) -> bool:
    declared = st.values.get(value)
    return declared is not None and declared.applied.inaccessible


def merge_inputs(composition: Composition) -> list[CompositionError]:
    found: list[CompositionError] = []
    for t in composition.types.values():
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
