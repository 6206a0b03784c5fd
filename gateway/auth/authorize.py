"""Field-level authorization: remove what the caller may not see from the operation before planning.

The client's operation is rewritten (fragment spreads inlined) without the fields and type
conditions the caller's grants do not satisfy, so no subgraph is ever asked for them. Each removal
becomes an error with the response path of the removed field and code
``UNAUTHORIZED_FIELD_OR_TYPE``; the response carries ``null`` there (the shaper is told that these
paths are covered, so no second "cannot return null" error appears). A selection set left empty
removes its parent field as well. In reject mode the caller gets the errors and nothing else.

The rewrite also adds, to every selection of a data-subject type (``Penduduk``: ``nik``), a field
under a reserved alias, so the audit log learns every resident an operation returned even when the
client did not ask for the identifier. The shaper drops it: the client never sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)

from gateway.auth.directives import AuthRequirements
from gateway.auth.errors import UNAUTHORIZED_FIELD_OR_TYPE
from gateway.auth.principal import Grants

#: response key under which the gateway fetches data-subject identifiers for the audit log
SUBJECT_ALIAS = "jamajamaAuditSubject"
_META = frozenset({"__schema", "__type"})
_RESERVED = f"the alias {SUBJECT_ALIAS} is reserved by the gateway"

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """One removed part of an operation."""

    path: tuple[str, ...]
    #: the same path with ``"@"`` at list levels (what the response shaper matches)
    covered: tuple[str, ...]
    coordinate: str
    reason: str

    def error(self) -> dict[str, Any]:
        what = "type" if "." not in self.coordinate else "field"
        return {
            "message": f"Unauthorized {what} {self.coordinate}: {self.reason}",
            "path": list(self.path),
            "extensions": {"code": UNAUTHORIZED_FIELD_OR_TYPE, "reason": self.reason},
        }


@dataclass(frozen=True, slots=True)
class AuthorizedOperation:
    """The operation as the caller may run it; built once per (document, operation, grants)."""

    #: the rewritten operation (fragments inlined), or None when nothing is left to fetch
    document: DocumentNode | None
    operation: OperationDefinitionNode | None
    refusals: tuple[Refusal, ...]
    #: paths the shaper must not report as null errors (removed fields and their emptied parents)
    covered: tuple[tuple[str, ...], ...]
    #: field coordinates the operation still touches (``Penduduk.tanggalLahir``)
    coordinates: frozenset[str]
    #: whether any remaining coordinate is personal data
    personal: bool
    #: when type conditions were refused: the client's operation without those fragments (fields
    #: kept), for shaping the response; None means shape with the client's own operation
    shape_document: DocumentNode | None = None
    shape_operation: OperationDefinitionNode | None = None
    #: the operation uses the gateway's reserved alias: refuse it whole, in every mode
    forbidden: bool = False

    def errors(self) -> list[dict[str, Any]]:
        return [refusal.error() for refusal in self.refusals]


class OperationAuthorizer:
    """Rewrites operations for grants; stateless apart from what it precomputes per supergraph."""

    def __init__(
        self,
        schema: GraphQLSchema,
        requirements: AuthRequirements,
        *,
        personal_policies: frozenset[str] = frozenset(),
        subject_fields: Mapping[str, str] | None = None,
        possible_types: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.schema = schema
        self.requirements = requirements
        self.personal_policies = personal_policies
        self.subject_fields = dict(subject_fields or {})
        self.possible_types = dict(possible_types or {})

    def is_personal(self, parent: str, field_name: str) -> bool:
        requirement = self.requirements.effective_field(parent, field_name)
        return bool(requirement.policy_names & self.personal_policies)

    def authorize(
        self, document: DocumentNode, operation: OperationDefinitionNode, grants: Grants
    ) -> AuthorizedOperation:
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = self.schema.get_root_type(operation.operation)
        assert root is not None, "validated operations have a root type"
        walk = _Walk(self, grants, fragments)
        selection_set = walk.selection_set(operation.selection_set, root, (), ())
        refusals = tuple(dict(((r.path, r.coordinate), r) for r in walk.refusals).values())
        rewritten_operation: OperationDefinitionNode | None = None
        rewritten: DocumentNode | None = None
        if selection_set is not None and walk.fetches:
            rewritten_operation = OperationDefinitionNode(
                operation=operation.operation,
                name=operation.name,
                variable_definitions=operation.variable_definitions,
                directives=operation.directives,
                selection_set=selection_set,
            )
            rewritten = DocumentNode(definitions=(rewritten_operation,))
        shape_operation: OperationDefinitionNode | None = None
        if walk.refused_types:
            shaping = _Walk(self, grants, fragments, shape_only=True)
            shape_operation = OperationDefinitionNode(
                operation=operation.operation,
                name=operation.name,
                variable_definitions=operation.variable_definitions,
                directives=operation.directives,
                selection_set=shaping.selection_set(operation.selection_set, root, (), ())
                or SelectionSetNode(selections=()),
            )
        shape_document = DocumentNode(definitions=(shape_operation,)) if shape_operation else None
        return AuthorizedOperation(
            document=rewritten,
            operation=rewritten_operation,
            refusals=refusals,
            covered=tuple(dict.fromkeys(walk.covered)),
            coordinates=frozenset(walk.coordinates),
            personal=walk.personal,
            shape_document=shape_document,
            shape_operation=shape_operation,
            forbidden=walk.forbidden,
        )


def _list_depth(gql_type: GraphQLOutputType) -> int:
    depth = 0
    while True:
        if isinstance(gql_type, GraphQLNonNull):
            gql_type = gql_type.of_type
        elif isinstance(gql_type, GraphQLList):
            depth += 1
            gql_type = gql_type.of_type
        else:
            return depth


class _Walk:
    def __init__(
        self,
        owner: OperationAuthorizer,
        grants: Grants,
        fragments: Mapping[str, FragmentDefinitionNode],
        *,
        shape_only: bool = False,
    ) -> None:
        self.owner = owner
        #: keep every field, drop only refused type conditions, add nothing (the shaping copy)
        self.shape_only = shape_only
        self.refused_types = False
        self.forbidden = False
        self.grants = grants
        self.fragments = fragments
        self.refusals: list[Refusal] = []
        self.covered: list[tuple[str, ...]] = []
        self.coordinates: set[str] = set()
        self.personal = False
        #: whether any kept field needs a subgraph (not only __typename / introspection)
        self.fetches = False

    def refuse(self, path: tuple[str, ...], covered: tuple[str, ...], coord: str, why: str) -> None:
        self.refusals.append(Refusal(path, covered, coord, why))
        self.covered.append(covered)

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        path: tuple[str, ...],
        covered: tuple[str, ...],
        *,
        depth: int = 0,
    ) -> SelectionSetNode | None:
        kept: list[SelectionNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = self.field(selection, parent, path, covered)
                if field is not None:
                    kept.append(field)
            else:
                if isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments[selection.name.value]
                    condition: NamedTypeNode | None = fragment.type_condition
                    inner, directives = fragment.selection_set, selection.directives
                else:
                    assert isinstance(selection, InlineFragmentNode)
                    condition = selection.type_condition
                    inner, directives = selection.selection_set, selection.directives
                target = parent
                if condition is not None and condition.name.value != parent.name:
                    found = self.owner.schema.get_type(condition.name.value)
                    assert isinstance(found, GraphQLObjectType | GraphQLInterfaceType)
                    target = found
                    why = self.owner.requirements.check_type(target.name, self.grants)
                    if why is not None:
                        self.refusals.append(Refusal(path, covered, target.name, why))
                        self.refused_types = True
                        continue
                sub = self.selection_set(inner, target, path, covered, depth=depth)
                if sub is not None:
                    kept.append(
                        InlineFragmentNode(
                            type_condition=condition, directives=directives, selection_set=sub
                        )
                    )
        if self.shape_only:
            return SelectionSetNode(selections=tuple(kept))
        if not kept:
            return None
        kept.extend(self.subject_selections(parent))
        return SelectionSetNode(selections=tuple(kept))

    def field(
        self,
        node: FieldNode,
        parent: GraphQLCompositeType,
        path: tuple[str, ...],
        covered: tuple[str, ...],
    ) -> FieldNode | None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if key == SUBJECT_ALIAS and not self.shape_only:  # reserved: it would alias the NIK
            self.refuse((*path, key), (*covered, key), f"{parent.name}.{name}", _RESERVED)
            self.forbidden = True
            return None
        if name == "__typename" or (self.shape_only and node.selection_set is None):
            return node
        if name in _META:
            if not self.grants.introspection:
                self.refuse((*path, key), (*covered, key), name, "introspection is disabled")
                return None
            return node
        assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        coordinate = f"{parent.name}.{name}"
        why = self.owner.requirements.check_field(parent.name, name, self.grants)
        if why is not None and not self.shape_only:
            self.refuse((*path, key), (*covered, key), coordinate, why)
            return None
        gql_field = parent.fields[name]
        self.coordinates.add(coordinate)
        self.fetches = True
        if self.owner.is_personal(parent.name, name):
            self.personal = True
        if node.selection_set is None:
            return node
        named = get_named_type(gql_field.type)
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLAbstractType)
        child_covered = (*covered, key, *("@",) * _list_depth(gql_field.type))
        sub = self.selection_set(node.selection_set, named, (*path, key), child_covered)
        if sub is None:  # every sub-field refused: the field goes too (null, errors are below)
            self.covered.append((*covered, key))
            return None
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=node.directives,
            selection_set=sub,
        )

    def subject_selections(self, parent: GraphQLCompositeType) -> list[SelectionNode]:
        subjects = self.owner.subject_fields
        if not subjects:
            return []
        if parent.name in subjects:
            return [_subject_field(subjects[parent.name])]
        extra: list[SelectionNode] = []
        for type_name in sorted(self.owner.possible_types.get(parent.name, ())):
            if type_name in subjects and self.owner.schema.get_type(type_name) is not None:
                extra.append(
                    InlineFragmentNode(
                        type_condition=NamedTypeNode(name=NameNode(value=type_name)),
                        selection_set=SelectionSetNode(
                            selections=(_subject_field(subjects[type_name]),)
                        ),
                    )
                )
        return extra


def _subject_field(field_name: str) -> FieldNode:
    return FieldNode(alias=NameNode(value=SUBJECT_ALIAS), name=NameNode(value=field_name))


def collect_subjects(data: Any) -> set[str]:
    """Every data-subject identifier fetched under ``SUBJECT_ALIAS`` in merged subgraph data."""
    found: set[str] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == SUBJECT_ALIAS:
                    if isinstance(item, str):
                        found.add(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, dict | list))
    return found
