"""Type and field merging: one supergraph type per name, fields unioned, types reconciled.

Federation 2 merge rules: a name has one kind everywhere (an ``@interfaceObject`` counts as the
interface it stands for); an output field's type is the most general of its subgraph types
(nullable wins, a subtype may narrow); an argument's or input field's type is the most restrictive
(non-null wins) and named types must agree; a field resolved by several subgraphs must be
``@shareable`` in each (key fields and Federation 1 subgraphs are implicitly shareable).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.composition import errors as E
from gateway.composition.context import contextual_elsewhere
from gateway.composition.errors import CompositionError, error
from gateway.composition.model import Composition, MergedArgument, MergedField, MergedType
from gateway.composition.subgraph import (
    INPUT_OBJECT,
    INTERFACE,
    OBJECT,
    Applied,
    Auth,
    SubgraphArgument,
    SubgraphField,
    is_fake_external,
)

# --- type reconciliation -------------------------------------------------------------------------

_Wrapped = tuple[str, "object"]


def _structure(type_str: str) -> tuple[str, object]:
    if type_str.endswith("!"):
        return ("!", _structure(type_str[:-1]))
    if type_str.startswith("["):
        return ("[]", _structure(type_str[1:-1]))
    return ("N", type_str)


def _render(node: tuple[str, object]) -> str:
    kind, inner = node
    if kind == "!":
        return _render(inner) + "!"  # type: ignore[arg-type]
    if kind == "[]":
        return "[" + _render(inner) + "]"  # type: ignore[arg-type]
    return str(inner)


def _merge(
    left: tuple[str, object],
    right: tuple[str, object],
    output: bool,
    is_subtype: Callable[[str, str], bool],
) -> tuple[str, object] | None:
    a_nn, b_nn = left[0] == "!", right[0] == "!"
    ia = left[1] if a_nn else left
    ib = right[1] if b_nn else right
    assert isinstance(ia, tuple) and isinstance(ib, tuple)
    merged: tuple[str, object] | None
    if ia[0] == "[]" and ib[0] == "[]":
        inner = _merge(ia[1], ib[1], output, is_subtype)
        merged = None if inner is None else ("[]", inner)
    elif ia[0] == "N" and ib[0] == "N":
        na, nb = str(ia[1]), str(ib[1])
        if na == nb:
            merged = ia
        elif output and is_subtype(na, nb):
            merged = ib
        elif output and is_subtype(nb, na):
            merged = ia
        else:
            merged = None
    else:
        merged = None
    if merged is None:
        return None
    non_null = (a_nn and b_nn) if output else (a_nn or b_nn)
    return ("!", merged) if non_null else merged


def merge_types(
    types: list[str], *, output: bool, is_subtype: Callable[[str, str], bool]
) -> str | None:
    """The supergraph type of a field (``output``) or argument/input field; None if incompatible."""
    current = _structure(types[0])
    for other in types[1:]:
        merged = _merge(current, _structure(other), output, is_subtype)
        if merged is None:
            return None
        current = merged
    return _render(current)


# --- directives that reach the supergraph --------------------------------------------------------


def merge_scope_groups(first: list[list[str]], second: list[list[str]]) -> list[list[str]]:
    """AND of two OR-of-AND lists (``@requiresScopes``/``@policy``), minimal and sorted."""
    if not first or not second:
        return [list(g) for g in (first or second)]
    groups: dict[str, list[str]] = {}
    for ga in first:
        for gb in second:
            merged = sorted(set(ga) | set(gb))
            groups[",".join(merged)] = merged
    candidates = sorted(groups.values(), key=len)
    final: list[list[str]] = []
    for candidate in candidates:
        if not any(set(existing) <= set(candidate) for existing in final):
            final.append(candidate)
    final.sort(key=lambda g: (len(g), ",".join(g)))
    return final


def merge_applied(items: list[Applied]) -> Applied:
    merged = Applied(auth=Auth())
    for item in items:
        merged.inaccessible = merged.inaccessible or item.inaccessible
        merged.tags.extend(t for t in item.tags if t not in merged.tags)
        if merged.deprecated is None and item.deprecated is not None:
            merged.deprecated = item.deprecated
        merged.auth.authenticated = merged.auth.authenticated or item.auth.authenticated
        merged.auth.scopes = merge_scope_groups(merged.auth.scopes, item.auth.scopes)
        merged.auth.policies = merge_scope_groups(merged.auth.policies, item.auth.policies)
    return merged


def _description(items: list[str | None]) -> str | None:
    return next((d for d in items if d), None)


# --- the merge -----------------------------------------------------------------------------------


class Merger:
    """Builds ``composition.types`` from the subgraphs and reports merge errors."""

    def __init__(self, composition: Composition) -> None:
        self.composition = composition
        self.errors: list[CompositionError] = []
        self._supertypes: dict[str, set[str]] = {}
        for sub in composition.subgraphs.values():
            for t in sub.types.values():
                for iface in t.interfaces:
                    self._supertypes.setdefault(t.name, set()).add(iface)
                for member in t.members:
                    self._supertypes.setdefault(member, set()).add(t.name)

    def is_subtype(self, sub: str, sup: str) -> bool:
        seen: set[str] = set()
        todo = [sub]
        while todo:
            name = todo.pop()
            for parent in self._supertypes.get(name, ()):
                if parent == sup:
                    return True
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return False

    def merge(self) -> None:
        order: list[str] = []
        for sub in self.composition.subgraphs.values():
            for name in sub.types:
                if name not in order:
                    order.append(name)
        for name in order:
            merged = self._merge_type(name)
            if merged is not None:
                self.composition.types[name] = merged

    def _merge_type(self, name: str) -> MergedType | None:
        by_graph = {
            graph: sub.types[name]
            for graph, sub in self.composition.subgraphs.items()
            if name in sub.types
        }
        kinds: dict[str, list[str]] = {}
        for graph, t in by_graph.items():
            kind = INTERFACE if t.interface_object else t.kind
            kinds.setdefault(kind, []).append(graph)
        if len(kinds) > 1:
            described = "; ".join(
                f"{kind.lower().replace('_', ' ')} in {', '.join(f'[{g}]' for g in graphs)}"
                for kind, graphs in kinds.items()
            )
            self.errors.append(
                error(
                    E.TYPE_KIND_MISMATCH,
                    f"is declared as different kinds of type: {described}. A type name must "
                    "mean the same kind of type in every subgraph.",
                    None,
                    name,
                )
            )
            return None
        kind = next(iter(kinds))
        merged = MergedType(
            name=name,
            kind=kind,
            by_graph=by_graph,
            description=_description([t.description for t in by_graph.values()]),
            applied=merge_applied([t.applied for t in by_graph.values()]),
            has_interface_object=any(t.interface_object for t in by_graph.values()),
        )
        for t in by_graph.values():
            merged.interfaces.extend(i for i in t.interfaces if i not in merged.interfaces)
            merged.members.extend(m for m in t.members if m not in merged.members)
        if kind in (OBJECT, INTERFACE, INPUT_OBJECT):
            field_order: list[str] = []
            for t in by_graph.values():
                field_order.extend(f for f in t.fields if f not in field_order)
            for field_name in field_order:
                fields = {
                    g: t.fields[field_name] for g, t in by_graph.items() if field_name in t.fields
                }
                merged_field = self._merge_field(merged, field_name, fields)
                if merged_field is not None:
                    merged.fields[field_name] = merged_field
        return merged

    def _check_external_strictness(
        self, parent: MergedType, name: str, fields: dict[str, SubgraphField], merged_type: str
    ) -> None:
        """External declarations the merged type cannot honour, refused as both npm composers
        do: a Federation 1 non-key ``@external`` that is non-null where the field can be null,
        and a Federation 2 extension's ``@external`` key field that is nullable where the
        resolving subgraphs make it non-null (a stricter one is accepted, and a Federation 1
        key field may differ, as The Guild's composer merges it)."""
        resolved = [f.type for f in fields.values() if not f.external]
        for graph, f in fields.items():
            fed2 = self.composition.subgraphs[graph].fed2
            if not f.external:
                continue
            if is_fake_external(f):
                wider = bool(resolved) and fed2 and f.type not in resolved
                wider = wider and self._wider(f.type, resolved)
            else:
                wider = False
            stricter = not fed2 and not is_fake_external(f) and self._wider(merged_type, [f.type])
            if stricter or wider:
                self.errors.append(
                    error(
                        E.EXTERNAL_TYPE_MISMATCH,
                        f'is @external with type "{f.type}" in [{graph}], but the subgraphs '
                        f'that resolve it give it type "{merged_type}".',
                        graph,
                        parent.name,
                        name,
                    )
                )

    def _wider(self, wide: str, types: list[str]) -> bool:
        """``wide`` is a strict supertype of every one of ``types`` (less non-null)."""
        return all(
            wide != t and merge_types([wide, t], output=True, is_subtype=self.is_subtype) == wide
            for t in types
        )

    def _merge_field(
        self, parent: MergedType, name: str, fields: dict[str, SubgraphField]
    ) -> MergedField | None:
        output = parent.kind != INPUT_OBJECT
        # An external field's type must agree, but does not widen the merged type.
        considered = {
            g: f
            for g, f in fields.items()
            if not f.external or not self.composition.subgraphs[g].fed2 or is_fake_external(f)
        } or fields
        merged_type = merge_types(
            [f.type for f in considered.values()], output=output, is_subtype=self.is_subtype
        )
        if merged_type is None:
            listing = ", ".join(f'"{f.type}" in [{g}]' for g, f in fields.items())
            self.errors.append(
                error(
                    E.FIELD_TYPE_MISMATCH,
                    f"has incompatible types across subgraphs: {listing}. The subgraphs must "
                    "agree on the type (up to nullability"
                    + (", and an implementation may narrow an interface)." if output else ")."),
                    None,
                    parent.name,
                    name,
                )
            )
            return None
        for graph, f in fields.items():
            if (
                f.external
                and graph not in considered
                and (
                    merge_types([merged_type, f.type], output=output, is_subtype=self.is_subtype)
                    is None
                )
            ):
                self.errors.append(
                    error(
                        E.EXTERNAL_TYPE_MISMATCH
                        if self.composition.subgraphs[graph].fed2
                        else E.FIELD_TYPE_MISMATCH,
                        f'has type "{f.type}" in [{graph}] (@external) but "{merged_type}" where '
                        "it is resolved; the types must agree.",
                        None,
                        parent.name,
                        name,
                    )
                )
                continue
            if (
                f.external
                and graph not in considered
                and f.type != merged_type
                and parent.kind == OBJECT
                and self.composition.subgraphs[graph].fed2
            ):
                self.errors.append(
                    error(
                        E.EXTERNAL_TYPE_MISMATCH,
                        f'is @external with type "{f.type}", but the subgraphs that define '
                        f'it give it type "{merged_type}".',
                        graph,
                        parent.name,
                        name,
                    )
                )
        if output:
            self._check_external_strictness(parent, name, fields, merged_type)
        merged = MergedField(
            name=name,
            type=merged_type,
            by_graph=fields,
            description=_description([f.description for f in fields.values()]),
            applied=merge_applied([f.applied for f in fields.values()]),
        )
        if parent.kind == INPUT_OBJECT:
            # A default only some subgraphs declare is no conflict; the supergraph then has none
            # (as The Guild's composer; a client may not rely on a default one subgraph lacks).
            defaults = {f.default for f in fields.values() if f.default is not None}
            if len(defaults) > 1:
                listing = ", ".join(f"{f.default or 'none'} in [{g}]" for g, f in fields.items())
                self.errors.append(
                    error(
                        E.INPUT_FIELD_DEFAULT_MISMATCH,
                        f"has different default values across subgraphs: {listing}.",
                        None,
                        parent.name,
                        name,
                    )
                )
            everywhere = all(f.default is not None for f in fields.values())
            merged.default = next(iter(defaults)) if everywhere and defaults else None
        merged.args = self._merge_args(parent, name, fields)
        return merged

    def _merge_args(
        self, parent: MergedType, field_name: str, fields: dict[str, SubgraphField]
    ) -> dict[str, MergedArgument]:
        resolving = {g: f for g, f in fields.items() if not f.external} or fields
        order: list[str] = []
        for f in resolving.values():
            order.extend(a for a in f.args if a not in order)
        result: dict[str, MergedArgument] = {}
        for arg_name in order:
            present: dict[str, SubgraphArgument] = {
                g: f.args[arg_name] for g, f in resolving.items() if arg_name in f.args
            }
            coordinate = f"{field_name}({arg_name}:)"
            if len(present) < len(resolving):
                missing = [g for g in resolving if g not in present]
                contextual = any(
                    a.name == arg_name for g in missing for a in resolving[g].context_arguments
                )
                if contextual:  # the argument leaves the supergraph field (context.py)
                    self.errors.extend(
                        contextual_elsewhere(f"{parent.name}.{coordinate}", present.values())
                    )
                elif any(a.type.endswith("!") and a.default is None for a in present.values()):
                    required_in = [g for g, a in present.items() if a.type.endswith("!")]
                    self.errors.append(
                        error(
                            E.REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH,
                            f'argument "{arg_name}" is required in '
                            f"{', '.join(f'[{g}]' for g in required_in)} but missing in "
                            f"{', '.join(f'[{g}]' for g in missing)}. Add it there, or make it "
                            "optional everywhere.",
                            None,
                            parent.name,
                            field_name,
                        )
                    )
                continue
            arg_type = merge_types(
                [a.type for a in present.values()], output=False, is_subtype=self.is_subtype
            )
            if arg_type is None:
                listing = ", ".join(f'"{a.type}" in [{g}]' for g, a in present.items())
                self.errors.append(
                    error(
                        E.FIELD_ARGUMENT_TYPE_MISMATCH,
                        f'argument "{arg_name}" has incompatible types: {listing}.',
                        None,
                        parent.name,
                        field_name,
                    )
                )
                continue
            # A default only some subgraphs declare is no conflict: the supergraph keeps it (as
            # The Guild's composer; Apollo's drops it with a hint).
            defaults = {a.default for a in present.values() if a.default is not None}
            if len(defaults) > 1:
                listing = ", ".join(f"{a.default or 'none'} in [{g}]" for g, a in present.items())
                self.errors.append(
                    error(
                        E.FIELD_ARGUMENT_DEFAULT_MISMATCH,
                        f'argument "{arg_name}" has different defaults: {listing}.',
                        None,
                        parent.name,
                        field_name,
                    )
                )
            result[arg_name] = MergedArgument(
                name=arg_name,
                type=arg_type,
                default=next((a.default for a in present.values() if a.default), None),
                description=_description([a.description for a in present.values()]),
                applied=merge_applied([a.applied for a in present.values()]),
            )
            del coordinate
        return result


def check_sharing(composition: Composition) -> list[CompositionError]:
    """INVALID_FIELD_SHARING: an object field resolved by several subgraphs must be shareable.

    A subgraph resolves a field it declares without ``@external``, an ``@external`` one it
    ``@provides`` (which counts as shareable there), and one an ``@interfaceObject`` of the type's
    interface gives.
    """
    found: list[CompositionError] = []
    for merged_type in composition.types.values():
        if merged_type.kind != OBJECT:
            continue
        for merged_field in merged_type.fields.values():
            resolving = _resolving_graphs(composition, merged_type, merged_field)
            if len(resolving) < 2:
                continue
            unshared = [
                graph
                for graph, declared in resolving.items()
                if not (
                    declared.shareable
                    or declared.used_as_key
                    or (declared.provided and declared.external)
                    or not composition.subgraphs[graph].fed2
                )
            ]
            if not unshared:
                continue
            graphs = ", ".join(f"[{g}]" for g in resolving)
            not_shared_in = ", ".join(f"[{g}]" for g in unshared)
            found.append(
                error(
                    E.INVALID_FIELD_SHARING,
                    f"is resolved by {graphs} but is not marked @shareable in {not_shared_in}. "
                    "Mark it @shareable in every subgraph that resolves it (they must return the "
                    "same data), or move it with @override.",
                    None,
                    merged_type.name,
                    merged_field.name,
                )
            )
    return found


def _resolving_graphs(
    composition: Composition, owner: MergedType, merged_field: MergedField
) -> dict[str, SubgraphField]:
    overridden = {f.override for f in merged_field.by_graph.values() if f.override}
    resolving = {
        graph: declared
        for graph, declared in merged_field.by_graph.items()
        if (not declared.external or declared.provided) and graph not in overridden
    }
    for interface in owner.interfaces:
        merged_interface = composition.types.get(interface)
        if merged_interface is None or not merged_interface.has_interface_object:
            continue
        for graph, declared_type in merged_interface.by_graph.items():
            declared = declared_type.fields.get(merged_field.name)
            if declared_type.interface_object and declared is not None and not declared.external:
                resolving.setdefault(graph, declared)
    return resolving


def check_extensions_and_interfaces(composition: Composition) -> list[CompositionError]:
    """EXTENSION_WITH_NO_BASE and INTERFACE_FIELD_NO_IMPLEM on the merged model."""
    found: list[CompositionError] = []
    for t in composition.types.values():
        only_extended = all(
            st.extension and not st.has_definition and not st.extends_directive
            for st in t.by_graph.values()
        )
        if (
            t.name not in ("Query", "Mutation", "Subscription")
            and only_extended
            and all(composition.subgraphs[g].fed2 for g in t.by_graph)
        ):
            graphs = ", ".join(f"[{g}]" for g in t.by_graph)
            found.append(
                error(
                    E.EXTENSION_WITH_NO_BASE,
                    f"is only extended (extend type in {graphs}); no subgraph defines it. "
                    "Declare it with `type` in the subgraph that owns it.",
                    None,
                    t.name,
                )
            )
        if t.kind not in (OBJECT, INTERFACE):
            continue
        for iface_name in t.interfaces:
            iface = composition.types.get(iface_name)
            if iface is None:
                continue
            for name, f in iface.fields.items():
                if name in t.fields:
                    continue
                declared = ", ".join(f"[{g}]" for g in f.by_graph)
                found.append(
                    error(
                        E.INTERFACE_FIELD_NO_IMPLEM,
                        f"implements {iface_name}, whose field {name} is declared in {declared}, "
                        f"but no subgraph gives {t.name} that field. Add it where {t.name} is "
                        "defined.",
                        None,
                        t.name,
                    )
                )
    return found
