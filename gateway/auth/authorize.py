"""Field-level authorization: remove what the caller may not see from the operation before planning.

The client's operation is rewritten (fragment spreads inlined, through the operation walk in
document mode) without the fields and type conditions the caller's grants do not satisfy, so no
subgraph is ever asked for them. The rewrite ignores variable values (it and its plan are cached
per document and grants); a refusal under a variable ``@skip``/``@include`` is reported only to
requests whose variables include it (``AuthorizedOperation.for_request``). Each removal
becomes an error with the response path of the removed field and code
``UNAUTHORIZED_FIELD_OR_TYPE``; the response carries ``null`` there (the shaper is told that these
paths are covered, so no second "cannot return null" error appears). A selection set left empty
removes its parent field as well, unless every removal in it sits under a variable
``@skip``/``@include`` of its own: the parent then stays (asking ``__typename``), so a request
that excludes them reads ``{}`` there and one that includes them reads the refused fields as
null in it. In reject mode the caller gets the errors and nothing else.

Two more rewrites protect identifiers (``gateway.auth.identifiers``): a lookup by identifier
(``penduduk(nik:)``) is refused like a field unless the caller has the reveal rights, and the
refused identifier is kept for the audit log (``RequestAuthorization.refused_lookups``); every
cursor argument (``after``) becomes a reserved variable (``jamajamaCursor0``...) whose value the
access layer unseals per request (``AuthorizedOperation.cursors``), so the plan stays cacheable and
a subgraph only ever receives a cursor the gateway sealed for this caller and list.

The rewrite also adds, to every selection of a data-subject type (``Penduduk``: ``nik``), a field
under a reserved alias, so the audit log learns every resident an operation returned even when the
client did not ask for the identifier. The shaper drops it: the client never sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
)

from gateway.audit.subjects import SUBJECT_ALIAS, is_subject_alias, subject_selection
from gateway.audit.subjects import collect_subjects as collect_subjects
from gateway.auth.directives import AuthRequirements
from gateway.auth.errors import UNAUTHORIZED_FIELD_OR_TYPE
from gateway.auth.principal import Grants
from gateway.operation import INTROSPECTION_FIELDS, Conditions, Field, Fragment, OperationWalk
from gateway.operation.conditions import all_hold

#: SUBJECT_ALIAS (and aliases starting with it): where the gateway fetches data-subject
#: identifiers for the audit log (gateway/audit/subjects.py)
_RESERVED = f"the alias {SUBJECT_ALIAS} is reserved by the gateway"
#: prefix of the variables that carry unsealed cursors to subgraphs
CURSOR_VARIABLE = "jamajamaCursor"
_RESERVED_VARIABLE = f"variables named {CURSOR_VARIABLE}… are reserved by the gateway"

Path = tuple[str, ...]


#: what an object whose every sub-field a request may exclude is still asked for
_TYPENAME = FieldNode(name=NameNode(value="__typename"))


@dataclass(frozen=True, slots=True)
class Refusal:
    """One removed part of an operation."""

    path: tuple[str, ...]
    #: the same path with ``"@"`` at list levels (what the response shaper matches)
    covered: tuple[str, ...]
    coordinate: str
    reason: str
    #: the variable ``@skip``/``@include`` around it: it is reported when they hold
    conditions: Conditions = ()

    def error(self) -> dict[str, Any]:
        what = "type" if "." not in self.coordinate else "field"
        return {
            "message": f"Unauthorized {what} {self.coordinate}: {self.reason}",
            "path": list(self.path),
            "extensions": {"code": UNAUTHORIZED_FIELD_OR_TYPE, "reason": self.reason},
        }


@dataclass(frozen=True, slots=True)
class ArgumentSource:
    """Where a request's argument value comes from: a literal, a variable, or nothing."""

    literal: str | None = None
    variable: str | None = None

    @classmethod
    def of(cls, node: ValueNode | None) -> ArgumentSource:
        if isinstance(node, StringValueNode):
            return cls(literal=node.value)
        if isinstance(node, VariableNode):
            return cls(variable=node.name.value)
        return cls()

    def value(self, variables: Mapping[str, Any]) -> Any:
        return self.literal if self.variable is None else variables.get(self.variable)


@dataclass(frozen=True, slots=True)
class CursorArgument:
    """A cursor argument rewritten into the reserved ``variable`` (unsealed per request)."""

    variable: str
    #: the field the cursor belongs to (``Query.daftarPenduduk``): part of the seal
    coordinate: str
    source: ArgumentSource
    #: the variable ``@skip``/``@include`` around its field: unsealed only when they hold
    conditions: Conditions = ()


@dataclass(frozen=True, slots=True)
class RefusedLookup:
    """A refused lookup by identifier, whose value the audit log records."""

    kind: str
    source: ArgumentSource
    conditions: Conditions = ()


@dataclass(frozen=True, slots=True)
class Touch:
    """A field coordinate the rewritten operation asks for, under its conditions."""

    coordinate: str
    personal: bool
    conditions: Conditions = ()


@dataclass(frozen=True, slots=True)
class RequestAuthorization:
    """What one request's variables make of an ``AuthorizedOperation`` (request mode)."""

    #: the refusals of selections the request does include
    refusals: tuple[Refusal, ...]
    #: field coordinates the request touches (``Penduduk.tanggalLahir``)
    coordinates: frozenset[str]
    #: whether any of them is personal data
    personal: bool
    #: (kind, identifier) of each refused lookup by identifier (for the audit log)
    refused_lookups: tuple[tuple[str, str], ...] = ()

    def errors(self) -> list[dict[str, Any]]:
        return [refusal.error() for refusal in self.refusals]


@dataclass(frozen=True, slots=True)
class AuthorizedOperation:
    """The operation as the caller may run it; built once per (document, operation, grants).

    Built in the walk's document mode, so it (and the plan of ``document``) never depends on
    variable values: every selection the grants refuse is removed, whatever its conditions.
    ``for_request`` then decides, with the request's variables, which refusals are reported and
    which coordinates are touched.
    """

    #: the rewritten operation (fragments inlined), or None when nothing is left to fetch
    document: DocumentNode | None
    operation: OperationDefinitionNode | None
    refusals: tuple[Refusal, ...]
    #: paths the shaper must not report as null errors (removed fields and their emptied parents)
    covered: tuple[tuple[str, ...], ...]
    touched: tuple[Touch, ...] = ()
    #: when type conditions were refused: the client's operation without those fragments (fields
    #: kept), for shaping the response; None means shape with the client's own operation
    shape_document: DocumentNode | None = None
    shape_operation: OperationDefinitionNode | None = None
    #: the operation uses the gateway's reserved alias: refuse it whole, in every mode
    forbidden: bool = False
    #: cursor arguments moved into reserved variables of ``document``
    cursors: tuple[CursorArgument, ...] = ()
    lookups: tuple[RefusedLookup, ...] = ()

    def for_request(self, variables: Mapping[str, Any]) -> RequestAuthorization:
        refusals = tuple(
            dict(
                ((r.path, r.coordinate), r)
                for r in self.refusals
                if all_hold(r.conditions, variables)
            ).values()
        )
        touched = [t for t in self.touched if all_hold(t.conditions, variables)]
        lookups = tuple(
            dict.fromkeys(
                (lookup.kind, str(value))
                for lookup in self.lookups
                if all_hold(lookup.conditions, variables)
                and (value := lookup.source.value(variables)) is not None
            )
        )
        return RequestAuthorization(
            refusals=refusals,
            coordinates=frozenset(t.coordinate for t in touched),
            personal=any(t.personal for t in touched),
            refused_lookups=lookups,
        )

    def errors(self) -> list[dict[str, Any]]:
        """The errors of every refusal, whatever the conditions (a forbidden operation's answer)."""
        unique = dict(((r.path, r.coordinate), r) for r in self.refusals)
        return [refusal.error() for refusal in unique.values()]

    @property
    def plan_key(self) -> frozenset[tuple[tuple[str, ...], str]]:
        """What distinguishes this rewrite of the document (part of the plan cache key)."""
        return frozenset((r.path, r.coordinate) for r in self.refusals)


class OperationAuthorizer:
    """Rewrites operations for grants; stateless apart from what it precomputes per supergraph."""

    def __init__(
        self,
        schema: GraphQLSchema,
        requirements: AuthRequirements,
        *,
        personal_policies: frozenset[str] = frozenset(),
        subject_fields: Mapping[str, tuple[str, ...]] | None = None,
        possible_types: Mapping[str, frozenset[str]] | None = None,
        lookups: Mapping[str, tuple[str, str]] | None = None,
        cursor_argument: str | None = None,
    ) -> None:
        self.schema = schema
        #: ``Type.field`` -> (argument, identifier kind) of lookups by identifier
        self.lookups = dict(lookups or {})
        self.cursor_argument = cursor_argument
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
        walk = OperationWalk(document, operation, self.schema)  # document mode: cacheable
        assert walk.root is not None, "validated operations have a root type"
        rewrite = _Rewrite(self, grants, walk)
        selection_set = rewrite.selection_set(operation.selection_set, walk.root, (), (), ())
        for name in _reserved_variables(operation):
            rewrite.refusals.append(Refusal((), (), f"${name}", _RESERVED_VARIABLE))
            rewrite.forbidden = True
        rewritten_operation: OperationDefinitionNode | None = None
        if selection_set is not None and rewrite.fetches:
            rewritten_operation = _with_selections(operation, selection_set, rewrite.cursors)
        shape_operation: OperationDefinitionNode | None = None
        if rewrite.refused_types:
            shaping = _Rewrite(self, grants, walk, shape_only=True)
            kept = shaping.selection_set(operation.selection_set, walk.root, (), (), ())
            shape_operation = _with_selections(operation, kept or SelectionSetNode(selections=()))
        return AuthorizedOperation(
            document=_document(rewritten_operation),
            operation=rewritten_operation,
            refusals=tuple(dict.fromkeys(rewrite.refusals)),
            covered=tuple(dict.fromkeys(rewrite.covered)),
            touched=tuple(dict.fromkeys(rewrite.touched)),
            shape_document=_document(shape_operation),
            shape_operation=shape_operation,
            forbidden=rewrite.forbidden,
            cursors=tuple(rewrite.cursors),
            lookups=tuple(dict.fromkeys(rewrite.lookups)),
        )


def _reserved_variables(operation: OperationDefinitionNode) -> list[str]:
    """The variables the client defines under the prefix the gateway reserves for cursors."""
    return [
        d.variable.name.value
        for d in operation.variable_definitions or ()
        if d.variable.name.value.startswith(CURSOR_VARIABLE)
    ]


def _with_selections(
    operation: OperationDefinitionNode,
    selection_set: SelectionSetNode,
    cursors: list[CursorArgument] | None = None,
) -> OperationDefinitionNode:
    definitions = tuple(operation.variable_definitions or ()) + tuple(
        VariableDefinitionNode(
            variable=VariableNode(name=NameNode(value=c.variable)),
            type=NamedTypeNode(name=NameNode(value="String")),
            directives=(),
        )
        for c in cursors or ()
    )
    return OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=definitions,
        directives=operation.directives,
        selection_set=selection_set,
    )


def _document(operation: OperationDefinitionNode | None) -> DocumentNode | None:
    return DocumentNode(definitions=(operation,)) if operation is not None else None


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


class _Rewrite:
    """One rewrite of an operation for one set of grants (the walk in document mode)."""

    def __init__(
        self,
        owner: OperationAuthorizer,
        grants: Grants,
        walk: OperationWalk,
        *,
        shape_only: bool = False,
    ) -> None:
        self.owner = owner
        #: keep every field, drop only refused type conditions, add nothing (the shaping copy)
        self.shape_only = shape_only
        self.refused_types = False
        self.forbidden = False
        self.grants = grants
        self.walk = walk
        self.refusals: list[Refusal] = []
        self.covered: list[tuple[str, ...]] = []
        self.touched: list[Touch] = []
        self.cursors: list[CursorArgument] = []
        self.lookups: list[RefusedLookup] = []
        #: whether any kept field needs a subgraph (not only __typename / introspection)
        self.fetches = False

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        path: tuple[str, ...],
        covered: tuple[str, ...],
        conditions: Conditions,
    ) -> SelectionSetNode | None:
        kept: list[SelectionNode] = []
        for selection in self.walk.selections(selection_set, parent):
            inherited = (*conditions, *selection.conditions)
            if isinstance(selection, Field):
                node: SelectionNode | None = self.field(selection, path, covered, inherited)
            else:
                node = self.fragment(selection, parent, path, covered, inherited)
            if node is not None:
                kept.append(node)
        if self.shape_only:
            return SelectionSetNode(selections=tuple(kept))
        if not kept:
            return None
        kept.extend(self.subject_selections(parent))
        return SelectionSetNode(selections=tuple(kept))

    def fragment(
        self,
        fragment: Fragment,
        parent: GraphQLCompositeType,
        path: tuple[str, ...],
        covered: tuple[str, ...],
        conditions: Conditions,
    ) -> InlineFragmentNode | None:
        condition = fragment.type_condition
        target = parent
        if condition is not None and condition != parent.name:
            found = fragment.target
            assert isinstance(found, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
            target = found
            why = self.owner.requirements.check_type(target.name, self.grants)
            if why is not None:
                self.refusals.append(Refusal(path, covered, target.name, why, conditions))
                self.refused_types = True
                return None
        sub = self.selection_set(fragment.selection_set, target, path, covered, conditions)
        if sub is None:
            return None
        return InlineFragmentNode(
            type_condition=NamedTypeNode(name=NameNode(value=condition)) if condition else None,
            directives=fragment.node.directives,
            selection_set=sub,
        )

    def field(
        self, field: Field, path: Path, covered: Path, conditions: Conditions
    ) -> FieldNode | None:
        node, name, key = field.node, field.name, field.key
        parent = field.parent
        assert parent is not None
        here, here_covered = (*path, key), (*covered, key)
        if is_subject_alias(key) and not self.shape_only:  # reserved: it would alias the NIK
            self._refuse(here, here_covered, f"{parent.name}.{name}", _RESERVED, conditions)
            self.forbidden = True
            return None
        if name == "__typename" or (self.shape_only and node.selection_set is None):
            return node
        if name in INTROSPECTION_FIELDS:
            if not self.grants.introspection:
                self._refuse(here, here_covered, name, "introspection is disabled", conditions)
                return None
            return node
        coordinate = f"{parent.name}.{name}"
        why = self.owner.requirements.check_field(parent.name, name, self.grants)
        if why is not None and not self.shape_only:
            self._refuse(here, here_covered, coordinate, why, conditions)
            self._refused_lookup(node, coordinate, conditions)
            return None
        definition = field.definition
        assert definition is not None, "validated operations select known fields"
        personal = self.owner.is_personal(parent.name, name)
        self.touched.append(Touch(coordinate, personal, conditions))
        self.fetches = True
        if node.selection_set is None:
            return node
        return self.composite(field, definition, here, covered, conditions)

    def composite(
        self,
        field: Field,
        definition: GraphQLField,
        path: Path,
        covered: Path,
        conditions: Conditions,
    ) -> FieldNode | None:
        node = field.node
        assert node.selection_set is not None
        named = get_named_type(definition.type)
        assert isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
        child_covered = (*covered, field.key, *("@",) * _list_depth(definition.type))
        before = len(self.refusals)
        sub = self.selection_set(node.selection_set, named, path, child_covered, conditions)
        if sub is None and self._only_conditionally_refused(before, conditions):
            # a request may exclude every refused sub-field: the object itself stays ({}),
            # its data subject still known to the audit log
            sub = SelectionSetNode(selections=(_TYPENAME, *self.subject_selections(named)))
        if sub is None:  # every sub-field refused: the field goes too (null, errors are below)
            self.covered.append((*covered, field.key))
            return None
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=self._arguments(
                node, f"{field.parent.name}.{field.name}" if field.parent else "", conditions
            ),
            directives=node.directives,
            selection_set=sub,
        )

    def _only_conditionally_refused(self, since: int, conditions: Conditions) -> bool:
        """Whether the refusals from ``since`` on (one field's emptied selection) are all under
        a variable ``@skip``/``@include`` of their own, below the field's ``conditions``."""
        refusals = self.refusals[since:]
        return bool(refusals) and all(len(r.conditions) > len(conditions) for r in refusals)

    def _arguments(
        self, node: FieldNode, coordinate: str, conditions: Conditions
    ) -> tuple[ArgumentNode, ...]:
        """The field's arguments, its cursor (if any) moved into a reserved variable."""
        name = self.owner.cursor_argument
        arguments = tuple(node.arguments or ())
        if name is None or self.shape_only:
            return arguments
        kept: list[ArgumentNode] = []
        for argument in arguments:
            value = argument.value
            if argument.name.value == name and not isinstance(value, NullValueNode):
                variable = f"{CURSOR_VARIABLE}{len(self.cursors)}"
                source = ArgumentSource.of(value)
                self.cursors.append(CursorArgument(variable, coordinate, source, conditions))
                value = VariableNode(name=NameNode(value=variable))
                argument = ArgumentNode(name=argument.name, value=value)
            kept.append(argument)
        return tuple(kept)

    def _refused_lookup(self, node: FieldNode, coordinate: str, conditions: Conditions) -> None:
        lookup = self.owner.lookups.get(coordinate)
        if lookup is None:
            return
        argument, kind = lookup
        for given in node.arguments or ():
            if given.name.value == argument:
                source = ArgumentSource.of(given.value)
                self.lookups.append(RefusedLookup(kind, source, conditions))

    def _refuse(
        self, path: Path, covered: Path, coordinate: str, why: str, conditions: Conditions
    ) -> None:
        self.refusals.append(Refusal(path, covered, coordinate, why, conditions))
        self.covered.append(covered)

    def subject_selections(self, parent: GraphQLCompositeType) -> list[SelectionNode]:
        subjects = self.owner.subject_fields
        if not subjects:
            return []
        if parent.name in subjects:
            return [subject_selection(p) for p in subjects[parent.name]]
        extra: list[SelectionNode] = []
        for type_name in sorted(self.owner.possible_types.get(parent.name, ())):
            if type_name in subjects and self.owner.schema.get_type(type_name) is not None:
                extra.append(
                    InlineFragmentNode(
                        type_condition=NamedTypeNode(name=NameNode(value=type_name)),
                        selection_set=SelectionSetNode(
                            selections=tuple(subject_selection(p) for p in subjects[type_name])
                        ),
                    )
                )
        return extra
