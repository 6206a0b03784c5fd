"""``@defer`` and ``@stream`` in operations: validated, stripped before planning, kept to split.

The API schema itself does not declare ``@defer`` (introspection stays Apollo Gateway's); the
engine validates operations against ``with_defer(api_schema)``, which adds graphql-core's
``@defer`` and ``@stream`` definitions and so their validation rules (static labels unique across
both, not on a mutation's or subscription's root fields, ``@stream`` only on list fields). Then
``strip_defer`` removes both directives, so planning, access control
and response shaping see the plain operation and no subgraph is ever sent ``@defer``; the
``DeferredOperation`` (fragments, streamed fields, their paths and labels) tells
gateway/executor/defer.py and gateway/executor/stream.py how to cut the response into
incremental-delivery parts; ``entity_anchor`` which fragments are planned as entity fetches on
the primary part's objects. See docs/defer.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLDeferDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLStreamDirective,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    Visitor,
    get_named_type,
    print_ast,
    visit,
)

from gateway.planner.builder import EntityAnchor
from gateway.supergraph.model import Supergraph

DEFER = "defer"
STREAM = "stream"
_INCREMENTAL = frozenset({DEFER, STREAM})


def with_defer(schema: GraphQLSchema) -> GraphQLSchema:
    """``schema`` plus ``@defer`` and ``@stream`` (the same type objects, for validation only)."""
    if schema.get_directive(DEFER) is not None:
        return schema
    return GraphQLSchema(
        query=schema.query_type,
        mutation=schema.mutation_type,
        subscription=schema.subscription_type,
        types=list(schema.type_map.values()),
        directives=[*schema.directives, GraphQLDeferDirective, GraphQLStreamDirective],
        description=schema.description,
        assume_valid=True,
    )


def has_defer(document: DocumentNode) -> bool:
    """Whether ``document`` uses ``@defer`` or ``@stream`` (cheap text-free walk)."""
    found = False

    class _Find(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            nonlocal found
            if node.name.value in _INCREMENTAL:
                found = True
                return Visitor.BREAK
            return None

    visit(document, _Find())
    return found


def strip_defer(document: DocumentNode) -> DocumentNode:
    """``document`` without its ``@defer`` and ``@stream`` directives (locations of everything
    else kept)."""

    class _Strip(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> Any:
            return Visitor.REMOVE if node.name.value in _INCREMENTAL else None

    stripped: DocumentNode = visit(document, _Strip())
    return stripped


@dataclass(frozen=True, slots=True)
class DeferredFragment:
    """One ``@defer`` fragment of an operation: where it applies and what it selects.

    ``path`` is the response keys from the root to the objects the fragment is selected on (lists
    in between are expanded when the response is split); ``selections`` its selection set;
    ``depth`` how many deferred fragments enclose it (0: only the primary result does);
    ``parent`` the index of the innermost enclosing deferred fragment; ``ancestry`` the
    selections from the operation's root down to ``node``, the deferred selection itself (what
    the fragment's own operation is rebuilt from: ``deferred_documents``).
    """

    label: str | None
    path: tuple[str, ...]
    selections: SelectionSetNode
    condition: ValueNode | None
    depth: int
    parent: int | None = None
    ancestry: tuple[SelectionNode, ...] = ()
    node: InlineFragmentNode | FragmentSpreadNode | None = None


@dataclass(frozen=True, slots=True)
class StreamedField:
    """One ``@stream`` list field: ``path`` the response keys from the root to it (its own key
    last; lists in between expanded when the response is cut), its ``label``, and its
    ``initialCount`` and ``if`` arguments as written (variables resolved per request)."""

    label: str | None
    path: tuple[str, ...]
    initial_count: ValueNode | None
    condition: ValueNode | None


@dataclass(frozen=True, slots=True)
class DeferredOperation:
    """An operation's deferred fragments and streamed fields (document order) and what splitting
    needs with them."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    deferred: tuple[DeferredFragment, ...]
    streams: tuple[StreamedField, ...] = ()


def deferred_operation(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DeferredOperation | None:
    """The deferred fragments and streamed fields of ``operation`` (``document`` still carrying
    the directives); None when it uses neither."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    finder = _DeferredFinder(fragments)
    finder.walk(operation.selection_set, (), 0, frozenset())
    if not finder.found and not finder.streams:
        return None
    return DeferredOperation(operation, fragments, tuple(finder.found), tuple(finder.streams))


class _DeferredFinder:
    """Walks an operation (fragment spreads followed once per path) collecting ``@defer``s and
    ``@stream``s."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.found: list[DeferredFragment] = []
        self.streams: list[StreamedField] = []

    def _note_stream(self, field: FieldNode, path: tuple[str, ...]) -> None:
        stream = _directive(field, STREAM)
        if stream is not None:
            initial_count = _argument(stream, "initialCount")
            self.streams.append(
                StreamedField(_label(stream), path, initial_count, _argument(stream, "if"))
            )

    def walk(
        self,
        selection_set: SelectionSetNode,
        path: tuple[str, ...],
        depth: int,
        seen: frozenset[str],
        above: tuple[SelectionNode, ...] = (),
        parent: int | None = None,
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                self._note_stream(selection, (*path, key))
                if selection.selection_set is not None:
                    inside_field = (*above, selection)
                    self.walk(
                        selection.selection_set, (*path, key), depth, seen, inside_field, parent
                    )
                continue
            if isinstance(selection, InlineFragmentNode):
                inner: SelectionSetNode = selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is None or name in seen:
                    continue
                inner = definition.selection_set
                seen = seen | {name}
            directive = defer_directive(selection)
            inside = (*above, selection)
            if directive is None:
                self.walk(inner, path, depth, seen, inside, parent)
                continue
            self.found.append(
                DeferredFragment(
                    _label(directive),
                    path,
                    inner,
                    _argument(directive, "if"),
                    depth,
                    parent,
                    above,
                    selection,
                )
            )
            self.walk(inner, path, depth + 1, seen, inside, len(self.found) - 1)


def defer_directive(node: InlineFragmentNode | FragmentSpreadNode) -> DirectiveNode | None:
    return _directive(node, DEFER)


def _directive(node: SelectionNode, name: str) -> DirectiveNode | None:
    for directive in node.directives or ():
        if directive.name.value == name:
            return directive
    return None


def _argument(directive: DirectiveNode, name: str) -> ValueNode | None:
    for argument in directive.arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def _label(directive: DirectiveNode) -> str | None:
    value = _argument(directive, "label")
    return value.value if isinstance(value, StringValueNode) else None


@dataclass(frozen=True, slots=True)
class PartDocument:
    """One part's own operation: ``plan`` is planned, authorized and run; ``shape`` (the same
    without the ``__typename`` that fills selection sets left empty by removed fragments) shapes
    its response; ``text`` is ``plan`` printed (its key in the plan and shaper caches, and the
    query its audit record hashes)."""

    plan: DocumentNode
    shape: DocumentNode
    text: str

    @property
    def operation(self) -> OperationDefinitionNode:
        return _operation_of(self.plan)

    @property
    def shape_operation(self) -> OperationDefinitionNode:
        return _operation_of(self.shape)


@dataclass(frozen=True, slots=True)
class DeferredDocuments:
    """An operation cut for incremental delivery, given which fragments are active.

    ``primary`` selects everything no active fragment does; ``fragments[i]`` selects, from the
    root, the path to active fragment ``i`` and its own fields (active fragments nested in it
    left out: they have their own); ``parents[i]`` the active fragment whose part must be sent
    before ``i``'s (None: the primary). Inactive fragments (``if: false``) stay inline.
    """

    primary: PartDocument
    fragments: Mapping[int, PartDocument]
    parents: Mapping[int, int | None]


def deferred_documents(operation: DeferredOperation, active: frozenset[int]) -> DeferredDocuments:
    """The documents of ``operation`` cut by its ``active`` fragments (indices)."""
    nodes = {id(operation.deferred[i].node) for i in active}
    definitions = {
        name: replace(d, selection_set=_prune(d.selection_set, nodes))
        for name, d in operation.fragments.items()
    }
    root = replace(
        operation.operation, selection_set=_prune(operation.operation.selection_set, nodes)
    )
    parents: dict[int, int | None] = {}
    for index in active:
        parent = operation.deferred[index].parent
        while parent is not None and parent not in active:
            parent = operation.deferred[parent].parent
        parents[index] = parent
    return DeferredDocuments(
        primary=_part(root, definitions),
        fragments={
            i: _part(
                _fragment_operation(operation, i, nodes),
                definitions,
                _fragment_operation(operation, i, nodes, anchored=True),
            )
            for i in sorted(active)
        },
        parents=parents,
    )


def _part(
    operation: OperationDefinitionNode,
    definitions: Mapping[str, FragmentDefinitionNode],
    planned: OperationDefinitionNode | None = None,
) -> PartDocument:
    """``operation`` shapes the part's response; ``planned`` (default: the same) is run."""
    definitions = _used(operation.selection_set, definitions)
    shape = DocumentNode(definitions=(operation, *definitions.values()))
    planned = planned or operation
    filled = DocumentNode(
        definitions=(
            replace(planned, selection_set=_filled(planned.selection_set)),
            *(replace(d, selection_set=_filled(d.selection_set)) for d in definitions.values()),
        )
    )
    # an inactive ``@stream`` (``if: false``) may remain on fields: no subgraph is sent it
    filled, shape = strip_defer(filled), strip_defer(shape)
    return PartDocument(filled, shape, print_ast(filled))


def _fragment_operation(
    operation: DeferredOperation,
    index: int,
    nodes: set[int],
    *,
    anchored: bool = False,
) -> OperationDefinitionNode:
    """The path from the root to fragment ``index``, then the fragment's own selections;
    ``anchored``: with ``__typename`` beside them, so the objects they apply to are fetched
    even when access control refuses every field the fragment selects (its entries then carry
    those fields as null, with the refusals)."""
    fragment = operation.deferred[index]
    assert fragment.node is not None
    selection: SelectionNode = _as_inline(
        fragment.node, _prune(fragment.selections, nodes), operation.fragments
    )
    siblings: tuple[SelectionNode, ...] = (_TYPENAME,) if anchored else ()
    for above in reversed(fragment.ancestry):
        inner = SelectionSetNode(selections=(*siblings, selection))
        siblings = ()
        if isinstance(above, FieldNode):
            selection = replace(above, selection_set=inner)
        else:
            assert isinstance(above, InlineFragmentNode | FragmentSpreadNode)
            selection = _as_inline(above, inner, operation.fragments)
    return replace(operation.operation, selection_set=SelectionSetNode(selections=(selection,)))


def _as_inline(
    node: InlineFragmentNode | FragmentSpreadNode,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> InlineFragmentNode:
    """``node`` as an inline fragment selecting ``selection_set``, without ``@defer``."""
    if isinstance(node, InlineFragmentNode):
        condition = node.type_condition
    else:
        condition = fragments[node.name.value].type_condition
    return InlineFragmentNode(
        type_condition=condition,
        directives=_without_defer(node.directives),
        selection_set=selection_set,
    )


def _without_defer(directives: Any) -> tuple[DirectiveNode, ...]:
    return tuple(d for d in directives or () if d.name.value != DEFER)


def _prune(selection_set: SelectionSetNode, nodes: set[int]) -> SelectionSetNode:
    """``selection_set`` without the deferred selections in ``nodes`` (the active ones), and
    ``@defer`` removed from the others."""
    kept: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                selection = replace(selection, selection_set=_prune(selection.selection_set, nodes))
        elif isinstance(selection, InlineFragmentNode | FragmentSpreadNode):
            if id(selection) in nodes:
                continue
            if isinstance(selection, InlineFragmentNode):
                selection = replace(
                    selection,
                    directives=_without_defer(selection.directives),
                    selection_set=_prune(selection.selection_set, nodes),
                )
            else:
                selection = replace(selection, directives=_without_defer(selection.directives))
        kept.append(selection)
    return SelectionSetNode(selections=tuple(kept))


_TYPENAME = FieldNode(name=NameNode(value="__typename"))


def _filled(selection_set: SelectionSetNode) -> SelectionSetNode:
    """``selection_set`` with ``__typename`` in every selection set left empty (the object must
    still be fetched to know whether it is null)."""
    if not selection_set.selections:
        return SelectionSetNode(selections=(_TYPENAME,))
    kept: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode | InlineFragmentNode) and (
            selection.selection_set is not None
        ):
            selection = replace(selection, selection_set=_filled(selection.selection_set))
        kept.append(selection)
    return SelectionSetNode(selections=tuple(kept))


def _used(
    selection_set: SelectionSetNode, definitions: Mapping[str, FragmentDefinitionNode]
) -> dict[str, FragmentDefinitionNode]:
    """The named fragments ``selection_set`` spreads, directly or not (document order)."""
    used: set[str] = set()
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in definitions and name not in used:
                    used.add(name)
                    pending.append(definitions[name].selection_set)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return {name: d for name, d in definitions.items() if name in used}


def _operation_of(document: DocumentNode) -> OperationDefinitionNode:
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


def entity_anchor(
    supergraph: Supergraph, operation: DeferredOperation, index: int
) -> EntityAnchor | None:
    """How fragment ``index`` is planned as entity fetches on the primary part's objects: its
    parent position is an object type with a resolvable ``@key`` (the subgraph resolving most
    of the fragment's own fields, then supergraph order). None (the fragment re-reads its path
    from the root) at the root, on an abstract or value type, or when the client uses a key
    field's name as an alias (the key could not be fetched under its own name)."""
    fragment = operation.deferred[index]
    type_name = _parent_type(supergraph.schema, operation, fragment)
    if not fragment.path or type_name is None:
        return None
    names = {s.name.value for s in fragment.selections.selections if isinstance(s, FieldNode)}
    best: tuple[int, int, str, Any] | None = None
    for order, (graph, info) in enumerate(supergraph.graphs_of_type(type_name).items()):
        keys = info.resolvable_keys
        if not keys or info.is_interface_object:
            continue
        owned = sum(1 for n in names if graph in supergraph.graphs_of_field(type_name, n))
        if best is None or (-owned, order) < (best[0], best[1]):
            best = (-owned, order, graph, keys[0].selection_set)
    if best is None:
        return None
    key = best[3]
    key_names = {s.name.value for s in key.selections if isinstance(s, FieldNode)}
    if key_names & _aliases(operation):
        return None
    return EntityAnchor(fragment.path, type_name, best[2], key)


def _parent_type(
    schema: GraphQLSchema, operation: DeferredOperation, fragment: DeferredFragment
) -> str | None:
    """The object type fragment applies to, when its path and type conditions say it."""
    current = schema.query_type
    for node in (*fragment.ancestry, fragment.node):
        if isinstance(node, FieldNode):
            fields = getattr(current, "fields", None)
            if not fields or node.name.value not in fields:
                return None
            current = get_named_type(fields[node.name.value].type)
            continue
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition
        else:
            assert isinstance(node, FragmentSpreadNode)
            condition = operation.fragments[node.name.value].type_condition
        if condition is not None and condition.name.value != getattr(current, "name", None):
            return None  # narrowed to a type the position does not have as its own
    if not isinstance(current, GraphQLObjectType) or current is schema.query_type:
        return None
    return current.name


def _aliases(operation: DeferredOperation) -> set[str]:
    found: set[str] = set()

    class _Aliases(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias is not None:
                found.add(node.alias.value)

    visit(operation.operation, _Aliases())
    for definition in operation.fragments.values():
        visit(definition, _Aliases())
    return found
