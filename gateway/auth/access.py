"""Access control around one gateway: the seam between the engine and auth/audit.

The engine calls three things per request, in this order:
1. ``prepare(principal, query, document, operation, variables)`` before planning: the operation
   rewritten for the caller's grants (cached per document, operation and grants: the walk's
   document mode, blind to variable values), a key for the plan cache (the set of removals), so
   plans are never shared across rights, and what the request's variables make of it (the
   walk's request mode): the errors of what was removed, the coordinates it touches, and the
   variables to execute with (the cursors the caller sent, unsealed; a cursor that does not
   unseal rejects the request with ``BAD_USER_INPUT`` before any subgraph call).
2. the engine plans and executes ``prepared.plan_document`` with ``prepared.variables`` and
   shapes the response with the *client's* operation, passing ``prepared.covered`` so removed
   fields are plain nulls.
3. ``release(prepared, data, errors, raw_data, ...)``: pseudonymises identifiers and seals cursors
   (``masking``), scrubs error messages, answers introspection from the schema filtered for the
   caller, then writes the audit record. What the response released (identifiers per kind) and
   the identifiers of refused lookups are left on ``prepared.outcome`` for the audit layer. When the
   operation touched personal data the record must be durable first; if the audit store fails,
   the data is withheld (fail closed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    build_ast_schema,
    execute_sync,
    parse,
    print_schema,
)
from graphql.language import (
    FieldDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
)

from gateway.audit.config import AuditSection
from gateway.audit.log import AuditLog
from gateway.audit.records import AuditEvent, Disclosures
from gateway.audit.store import AuditUnavailableError
from gateway.audit.subjects import subject_paths
from gateway.auth.authorize import (
    AuthorizedOperation,
    OperationAuthorizer,
    RequestAuthorization,
    collect_subjects,
)
from gateway.auth.config import AuthSection
from gateway.auth.cursors import CursorSeal, InvalidCursorError
from gateway.auth.directives import AuthRequirements, Requirement
from gateway.auth.identifiers import Identifiers, identifier_key
from gateway.auth.masking import Masker, Released
from gateway.auth.policies import PolicyEvaluator
from gateway.auth.principal import Grants, Principal
from gateway.gc_tuning import note_eviction
from gateway.operation import OperationWalk
from gateway.operation.conditions import all_hold
from gateway.operation.introspection import introspection_document
from gateway.supergraph import Supergraph

logger = logging.getLogger("jamajama.access")

AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"


@dataclass(slots=True)
class AccessOutcome:
    """What one response handed out, for the audit layer to index (filled by ``release``)."""

    #: (kind, real value) of every identifier the response carried, in clear or as a pseudonym
    released: list[tuple[str, str]] = field(default_factory=list)
    #: (kind, value) of every lookup by identifier that was refused
    refused_lookups: tuple[tuple[str, str], ...] = ()
    #: how many cursors were sealed
    cursors: int = 0


@dataclass(frozen=True, slots=True)
class PreparedAccess:
    """One request's authorization outcome, handed back to ``release``."""

    principal: Principal
    grants: Grants
    #: the rewrite for the caller's grants (document mode, cached)
    authorized: AuthorizedOperation
    #: what the request's variables make of it: refusals reported, coordinates touched
    decided: RequestAuthorization
    #: the client's operation in request mode (masking, introspection)
    walk: OperationWalk
    document_hash: str
    #: non-empty in reject mode when something was refused: answer these and nothing else
    rejection: tuple[dict[str, Any], ...] = ()
    #: the variables to execute ``plan_document`` with (cursors unsealed)
    variables: Mapping[str, Any] = field(default_factory=dict)
    outcome: AccessOutcome = field(default_factory=AccessOutcome)

    @property
    def document(self) -> DocumentNode:
        return self.walk.document

    @property
    def operation(self) -> OperationDefinitionNode:
        return self.walk.operation

    @property
    def plan_document(self) -> DocumentNode | None:
        return self.authorized.document

    @property
    def plan_key(self) -> frozenset[tuple[tuple[str, ...], str]]:
        """What distinguishes this rewrite of the document (part of the plan cache key)."""
        return self.authorized.plan_key

    @property
    def covered(self) -> tuple[tuple[str, ...], ...]:
        return self.authorized.covered

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.decided.errors()


class AccessControl:
    """Authorization, masking and audit for one supergraph; shared by all requests."""

    def __init__(
        self,
        supergraph: Supergraph,
        section: AuthSection,
        audit: AuditLog | None = None,
        *,
        subject_fields: Mapping[str, str | Sequence[str]] | None = None,
        fail_closed: bool = True,
        cache_size: int = 2048,
    ) -> None:
        self.section = section
        self.audit = audit
        self.fail_closed = fail_closed
        self.schema = supergraph.api_schema
        self.requirements = AuthRequirements.from_supergraph(supergraph)
        key = identifier_key(section.identifiers)
        self.identifiers = Identifiers(section.identifiers, key)
        self._require_lookup_rights()
        self.policies = PolicyEvaluator(section.policies, section.purpose_header)
        self.authorizer = OperationAuthorizer(
            supergraph.api_schema,
            self.requirements,
            personal_policies=frozenset(section.personal_policies),
            subject_fields=subject_paths(
                supergraph.api_schema,
                subject_fields if subject_fields is not None else AuditSection().subject_fields,
            ),
            possible_types=supergraph.possible_types,
            lookups=self.identifiers.arguments,
            cursor_argument=self.identifiers.cursor_argument,
        )
        self.seal = CursorSeal(key)
        self.masker = Masker(
            supergraph.api_schema, self.identifiers, self.seal, supergraph.possible_types
        )
        self._cache: OrderedDict[tuple[str, str | None, Grants], AuthorizedOperation] = (
            OrderedDict()
        )
        self._cache_size = cache_size
        self._schemas: dict[frozenset[str], GraphQLSchema] = {}

    def _require_lookup_rights(self) -> None:
        """A lookup by identifier needs what reading it in clear needs (scope + purpose)."""
        policies = frozenset(self.identifiers.section.reveal_policies)
        for coordinate, (_, kind) in self.identifiers.arguments.items():
            parent, _, name = coordinate.partition(".")
            scope = frozenset({self.identifiers.kinds[kind].reveal_scope})
            self.requirements.require(
                parent,
                name,
                Requirement(True, ((scope,),), ((policies,),) if policies else ()),
            )

    # -- before planning ---------------------------------------------------------------------

    def grants(self, principal: Principal) -> Grants:
        introspection = self.section.introspection == "all" or (
            self.section.introspection == "authenticated" and principal.authenticated
        )
        return Grants(
            authenticated=principal.authenticated,
            scopes=principal.scopes,
            policies=self.policies.evaluate_all(self.requirements.policy_names, principal),
            introspection=introspection,
        )

    def prepare(
        self,
        principal: Principal,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None = None,
    ) -> PreparedAccess:
        """Authorize one request; ``variables`` (coerced) decide its ``@skip``/``@include``."""
        grants = self.grants(principal)
        authorized = self._authorized(query, document, operation, grants)
        walk = OperationWalk(document, operation, self.schema, dict(variables or {}))
        decided = authorized.for_request(walk.variables or {})
        rejection: tuple[dict[str, Any], ...] = ()
        execution = dict(variables or {})
        if authorized.forbidden:
            rejection = tuple(authorized.errors())
        elif self.section.mode == "reject" and decided.refusals:
            rejection = tuple(decided.errors())
        else:
            try:
                execution = self._unsealed(authorized, principal, execution)
            except InvalidCursorError as error:
                rejection = (error.to_graphql_error(),)
        return PreparedAccess(
            principal=principal,
            grants=grants,
            authorized=authorized,
            decided=decided,
            walk=walk,
            document_hash=hashlib.sha256(query.encode()).hexdigest(),
            rejection=rejection,
            variables=execution,
            outcome=AccessOutcome(refused_lookups=decided.refused_lookups),
        )

    def _unsealed(
        self, authorized: AuthorizedOperation, principal: Principal, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """``variables`` plus each cursor argument unsealed (``InvalidCursorError`` if forged)."""
        for cursor in authorized.cursors:
            given = cursor.source.value(variables)
            if not all_hold(cursor.conditions, variables):
                given = None  # its field is not in this request's response
            variables[cursor.variable] = (
                None
                if given is None
                else self.seal.unseal(given, principal.application, cursor.coordinate)
            )
        return variables

    def _authorized(
        self,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        grants: Grants,
    ) -> AuthorizedOperation:
        """The rewrite for ``grants``, cached per (document, operation, grants)."""
        key = (query, operation.name.value if operation.name else None, grants)
        authorized = self._cache.get(key)
        if authorized is not None:
            self._cache.move_to_end(key)
            return authorized
        authorized = self.authorizer.authorize(document, operation, grants)
        self._cache[key] = authorized
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
            note_eviction()
        return authorized

    # -- after execution ---------------------------------------------------------------------

    async def release(
        self,
        prepared: PreparedAccess,
        data: dict[str, Any] | None,
        errors: list[dict[str, Any]],
        raw_data: Any = None,
        *,
        request_id: str | None = None,
        raw_variables: Mapping[str, Any] | None = None,
        disclosures: Disclosures | None = None,
        audited: Callable[[], None] | None = None,
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The response the caller may see, after its audit record is written. Every identifier
        the response carries (fields, keys, sealed cursors; in clear or as a pseudonym) and every
        refused lookup is filed with the record, with any extra ``disclosures``. ``audited`` is
        called once a record of personal data is durably written (the subscription metrics)."""
        hidden = self.identifiers.hidden(prepared.grants)
        if prepared.rejection:
            data, errors = None, list(prepared.rejection)
        elif data is not None:
            data = self._filter_introspection(prepared, data, raw_variables or {})
        if data is not None:
            for refusal in prepared.decided.refusals:
                if "." in refusal.coordinate:  # a field (type refusals drop fragments only)
                    _clear(data, refusal.path)
            released = self.masker.mask_data(
                data, prepared.walk, hidden, prepared.principal.application
            )
            self._note(prepared.outcome, released)
        errors = self.masker.scrub_errors(errors, hidden)
        subjects = collect_subjects(raw_data) if raw_data is not None and data is not None else ()
        decided = prepared.decided
        personal = decided.personal or any(
            self.identifiers.fields.get(c) not in (None, *hidden) for c in decided.coordinates
        )
        hashed = _Hashes(self.audit.subject_hash) if self.audit is not None else None
        event = self._event(prepared, subjects, errors, data, request_id, personal, hashed)
        if self.audit is None or hashed is None:
            return data, errors
        disclosures = _disclosed_by(prepared.outcome, disclosures)
        if disclosures:
            event = self._disclosed(event, disclosures, hashed)
        if personal or subjects or disclosures:
            if not await self._append_durably(event) and self.fail_closed:
                return None, [
                    {
                        "message": "The audit log is unavailable, so personal data cannot be "
                        "released now; operations without personal data still work.",
                        "extensions": {"code": AUDIT_UNAVAILABLE},
                    }
                ]
            if audited is not None:
                audited()
        else:
            self.audit.append_later(event)  # bounded queue: a full one drops, never blocks
        return data, errors

    @staticmethod
    def _note(outcome: AccessOutcome, released: Released) -> None:
        outcome.released = list(dict.fromkeys(released.identifiers))
        outcome.cursors = released.cursors

    async def _append_durably(self, event: AuditEvent) -> bool:
        """Write a record before its data leaves; False when the audit store is unavailable."""
        assert self.audit is not None
        try:
            await self.audit.append(event)
        except AuditUnavailableError as error:
            logger.error("audit store unavailable, personal data withheld: %s", error.message)
            return False
        return True

    async def drain(self) -> None:
        """Wait for audit records still being written (shutdown, tests)."""
        if self.audit is not None:
            await self.audit.drain()

    def _disclosed(
        self, event: AuditEvent, disclosures: Disclosures, hashed: _Hashes
    ) -> AuditEvent:
        return dataclasses.replace(
            event,
            released=tuple(sorted({hashed(v) for v in disclosures.released})),
            refused_lookups=tuple(sorted({hashed(v) for v in disclosures.refused_lookups})),
        )

    def _event(
        self,
        prepared: PreparedAccess,
        subjects: Any,
        errors: list[dict[str, Any]],
        data: Any,
        request_id: str | None,
        personal: bool,
        hashed: _Hashes | None,
    ) -> AuditEvent:
        principal = prepared.principal
        subject_hashes = tuple(sorted({hashed(s) for s in subjects})) if hashed is not None else ()
        refused = tuple(
            (".".join(r.path), r.coordinate, r.reason) for r in prepared.decided.refusals
        )
        if prepared.rejection:
            outcome = "rejected"
        elif data is None:
            outcome = "failed"
        elif errors:
            outcome = "partial"
        else:
            outcome = "ok"
        operation = prepared.operation
        return AuditEvent(
            time=datetime.now(UTC).isoformat(timespec="milliseconds"),
            request_id=request_id,
            application=principal.application,
            opd=principal.opd,
            user=principal.user,
            purpose=principal.purpose,
            operation_name=operation.name.value if operation.name else None,
            operation_type=operation.operation.value,
            document_hash=prepared.document_hash,
            fields=tuple(sorted(prepared.decided.coordinates)),
            subjects=subject_hashes,
            refused=refused,
            outcome=outcome,
            personal=personal,
        )

    # -- introspection -----------------------------------------------------------------------

    def filtered_schema(self, grants: Grants) -> GraphQLSchema:
        """The API schema without what ``grants`` may not use (what GraphiQL shows the caller)."""
        refused_fields = frozenset(
            f"{t}.{f}"
            for (t, f) in self._all_fields()
            if self.requirements.check_field(t, f, grants) is not None
        )
        refused_types = frozenset(
            t for t in self.requirements.types if self.requirements.check_type(t, grants)
        )
        key = refused_fields | {f"type:{t}" for t in refused_types}
        schema = self._schemas.get(key)
        if schema is None:
            schema = _prune(self.schema, refused_fields, refused_types)
            self._schemas[key] = schema
        return schema

    def _all_fields(self) -> list[tuple[str, str]]:
        fields = []
        for name, gql_type in self.schema.type_map.items():
            if name.startswith("__"):
                continue
            for field_name in getattr(gql_type, "fields", {}) or {}:
                if hasattr(gql_type, "interfaces"):
                    fields.append((name, field_name))
        return fields

    def _filter_introspection(
        self, prepared: PreparedAccess, data: dict[str, Any], raw_variables: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Introspection answered from the caller's schema; refused: the non-null root is null."""
        document = introspection_document(prepared.walk)
        if document is None:
            return data
        if not prepared.grants.introspection:
            refused = {r.path[0] for r in prepared.decided.refusals if len(r.path) == 1}
            return None if refused & data.keys() else data
        schema = self.filtered_schema(prepared.grants)
        result = execute_sync(schema, document, variable_values=dict(raw_variables))
        for key, value in (result.data or {}).items():
            if key in data:
                data[key] = value
        return data


class _Hashes:
    """The audit's subject hashes of one response: its subjects and the identifiers it released
    are mostly the same values (a resident's NIK is both), so each is hashed once."""

    __slots__ = ("_hash", "_memo")

    def __init__(self, hash_value: Callable[[str], str]) -> None:
        self._hash = hash_value
        self._memo: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        found = self._memo.get(value)
        if found is None:
            found = self._memo[value] = self._hash(value)
        return found


def _clear(value: Any, path: tuple[str, ...]) -> None:
    """Null the value at a refused path (every list item): defence in depth, e.g. against a
    value fetched for another field's ``@requires`` under the same response key."""
    if isinstance(value, list):
        for item in value:
            _clear(item, path)
        return
    if not isinstance(value, dict) or not path:
        return
    if len(path) == 1:
        if value.get(path[0]) is not None:
            value[path[0]] = None
        return
    _clear(value.get(path[0]), path[1:])


def _prune(
    schema: GraphQLSchema, refused_fields: frozenset[str], refused_types: frozenset[str]
) -> GraphQLSchema:
    """Rebuild ``schema`` from SDL without the refused fields and types (and what empties)."""
    document = parse(print_schema(schema))
    removed_types = set(refused_types)
    definitions = list(document.definitions)
    while True:
        changed = False
        kept: list[Any] = []
        for definition in definitions:
            name = definition.name.value if isinstance(definition, TypeDefinitionNode) else None
            if name is not None and name in removed_types:
                changed = True
                continue
            if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                name = definition.name.value
                fields = tuple(
                    f
                    for f in definition.fields or ()
                    if f"{name}.{f.name.value}" not in refused_fields
                    and _named(f) not in removed_types
                )
                if not fields:
                    removed_types.add(name)
                    changed = True
                    continue
                if len(fields) != len(definition.fields or ()):
                    changed = True
                interfaces = tuple(
                    i for i in definition.interfaces or () if i.name.value not in removed_types
                )
                definition = definition.__class__(
                    **{
                        **{k: getattr(definition, k) for k in definition.keys},
                        "fields": fields,
                        "interfaces": interfaces,
                    }
                )
            elif isinstance(definition, UnionTypeDefinitionNode):
                members = tuple(
                    t for t in definition.types or () if t.name.value not in removed_types
                )
                if not members:
                    removed_types.add(definition.name.value)
                    changed = True
                    continue
                if len(members) != len(definition.types or ()):
                    changed = True
                    definition = UnionTypeDefinitionNode(
                        **{**{k: getattr(definition, k) for k in definition.keys}, "types": members}
                    )
            kept.append(definition)
        definitions = kept
        if not changed:
            break
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def _named(field: FieldDefinitionNode) -> str:
    type_node: Any = field.type
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type
    return type_node.name.value


def _disclosed_by(outcome: AccessOutcome, extra: Disclosures | None) -> Disclosures:
    """What the response let out or asked about besides its subjects, for the audit index."""
    released = {value for _, value in outcome.released}
    refused = {value for _, value in outcome.refused_lookups}
    if extra is not None:
        released |= extra.released
        refused |= extra.refused_lookups
    return Disclosures(frozenset(released), frozenset(refused))
