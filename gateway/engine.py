"""The in-process gateway: one ``GraphQLRequest`` in, one response dict out (no HTTP here).

Pipeline: parse -> validate against the API schema (both cached by query text) -> select the
operation -> coerce variables -> plan (LRU by query, operation name and active override labels) ->
execute the plan against the subgraphs -> shape the response to the client's operation.

Responses follow Apollo Gateway's key order (``errors`` before ``data``). Requests that fail before
execution carry only ``errors``; internal failures never leak details to the client (they are
logged) and answer ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import orjson
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from gateway.auth.access import AccessControl, PreparedAccess
from gateway.auth.principal import ANONYMOUS, Principal
from gateway.errors import ErrorDict, GatewayError, PlanningError
from gateway.executor.defer import active_fragments, entity_seed, split_whole
from gateway.executor.execute import ExecutionState, PlanExecutor
from gateway.executor.incremental import DeferredParts
from gateway.executor.lean_transport import LeanTransport
from gateway.executor.response import ResponseShaper
from gateway.executor.stream import NegativeInitialCount, active_streams, cut_streams
from gateway.executor.transport import SubgraphTransport
from gateway.gc_tuning import note_eviction
from gateway.limits.checks import OperationLimits
from gateway.limits.errors import LimitExceeded
from gateway.planner import build_query_plan
from gateway.planner.builder import EntityAnchor, build_entity_plan
from gateway.planner.defer import (
    DeferredDocuments,
    DeferredOperation,
    PartDocument,
    StreamedField,
    deferred_documents,
    deferred_operation,
    entity_anchor,
    has_defer,
    strip_defer,
    with_defer,
)
from gateway.planner.merge import merge_fetches
from gateway.planner.plan import (
    DeferPlan,
    DeferredPlan,
    FetchNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from gateway.planner.validation import SubgraphOperationValidator
from gateway.supergraph import Supergraph, load_supergraph

logger = logging.getLogger("jamajama.gateway")

Planner = Callable[..., QueryPlan]

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

_PERCENT_LABEL = re.compile(r"^percent\((\d+(?:\.\d+)?)\)$")
#: failed documents longer than this are not cached (bounded memory under bad input)
_CACHED_FAILURE_LENGTH = 2048

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A small least-recently-used cache (no locking needed: one event loop per process)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._maxsize:
            self._items.popitem(last=False)
            note_eviction()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class _PreparedOperation:
    """What one operation of a valid document needs at request time; built once."""

    node: OperationDefinitionNode
    kind: str
    shaper: ResponseShaper
    needs_subgraphs: bool
    #: its ``@defer`` fragments (None: defers nothing)
    deferred: DeferredOperation | None = None
    #: its parts' own operations, by the set of fragments active (gateway/planner/defer.py)
    parts: dict[frozenset[int], _Parts] = field(default_factory=dict)
    #: a primary part: the positions whose key it also fetches for its deferred parts
    anchors: tuple[EntityAnchor, ...] = ()
    #: a deferred part planned as entity fetches on the primary part's objects there
    entity: EntityAnchor | None = None


@dataclass(frozen=True, slots=True)
class _Parts:
    """An operation cut for incremental delivery: the primary part's and each active
    fragment's operation, prepared as any operation (shaper, planning key)."""

    documents: DeferredDocuments
    primary: _PreparedDocument
    fragments: Mapping[int, _PreparedDocument]


@dataclass(slots=True)
class _PreparedDocument:
    """A parsed document and its validation outcome, cached by query text."""

    document: DocumentNode | None
    errors: list[ErrorDict] | None
    operations: dict[str | None, _PreparedOperation] = field(default_factory=dict)
    #: the document as sent, when it carries ``@defer`` (``document`` is stripped of it)
    with_defer: DocumentNode | None = None


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """A response plus what the HTTP layer needs to choose a status code.

    ``executed`` is False when the request failed before execution (parse, validation, operation
    selection, variables); ``operation_not_allowed`` when its operation kind was refused (e.g. a
    mutation over GET).
    """

    response: dict[str, Any]
    executed: bool = True
    operation_not_allowed: bool = False
    #: refused before execution: it defers and the client cannot take multipart (HTTP 406)
    not_acceptable: bool = False
    #: the operation's ``@defer`` fragments: multipart answers split the response by them
    deferred: DeferredOperation | None = None
    #: the parts after ``response`` (the primary part, ``hasNext: true``) when the operation's
    #: deferred fragments are delivered incrementally (``GraphQLRequest.stream_deferred``)
    later: AsyncIterator[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """One GraphQL request as the engine takes it (the HTTP layer, tools and tests build it).

    ``principal`` is the authenticated caller (anonymous when None); it matters only when the
    gateway has access control. ``allowed_operations`` restricts the operation kinds (``{"query"}``
    over GET); None allows all.
    """

    query: str
    variables: Mapping[str, Any] | None = None
    operation_name: str | None = None
    principal: Principal | None = None
    request_id: str | None = None
    allowed_operations: Collection[str] | None = None
    #: False when the client cannot take an incremental (multipart) answer: an operation with
    #: ``@defer`` is then refused before it runs, as Hive Gateway does (406)
    incremental: bool = True
    #: deliver an operation's deferred fragments as parts, each when its own fetches are done
    #: (``GatewayResult.later``); False: the whole result in one response (SSE, WebSocket)
    stream_deferred: bool = False

    @property
    def purpose(self) -> str | None:
        """The purpose the caller declared (carried by the principal, which policies read)."""
        return self.principal.purpose if self.principal is not None else None


@dataclass(slots=True)
class _Run:
    """One request past parsing, validation and variable coercion."""

    request: GraphQLRequest
    prepared: _PreparedDocument
    operation: _PreparedOperation
    coerced: dict[str, Any]
    raw_variables: dict[str, Any]
    #: a primary part: set to its raw data once fetched; a deferred entity part: awaited
    seed: asyncio.Future[Any] | None = None
    #: its active ``@stream`` fields and their ``initialCount`` (gateway/executor/stream.py)
    streams: list[tuple[StreamedField, int]] = field(default_factory=list)

    @property
    def document(self) -> DocumentNode:
        assert self.prepared.document is not None
        return self.prepared.document


class _RequestFailure(Exception):
    """A request that cannot be executed; carries the response errors."""

    def __init__(
        self, errors: list[ErrorDict], *, not_allowed: bool = False, not_acceptable: bool = False
    ) -> None:
        super().__init__(errors[0]["message"] if errors else "request failed")
        self.errors = errors
        self.not_allowed = not_allowed
        self.not_acceptable = not_acceptable


class Gateway:
    """A federation gateway over one supergraph; safe to share across concurrent requests."""

    def __init__(
        self,
        supergraph: Supergraph,
        *,
        transport: SubgraphTransport | None = None,
        subgraph_urls: Mapping[str, str] | None = None,
        override_labels: Collection[str] = (),
        planner: Planner = build_query_plan,
        document_cache_size: int = 1024,
        plan_cache_size: int = 1024,
        access: AccessControl | None = None,
        random_percent: Callable[[], float] | None = None,
        limits: OperationLimits | None = None,
        on_plan_cache: Callable[[bool], None] | None = None,
        deduplicate_requests: bool = False,
        validate_subgraph_operations: bool = False,
        merge_fetches: bool = True,
    ) -> None:
        self.supergraph = supergraph
        #: the API schema plus ``@defer``, which operations may use (gateway/planner/defer.py)
        self._validation_schema = with_defer(supergraph.api_schema)
        #: debug check of every new plan's subgraph operations (``[planner]``; tests turn it on)
        self.plan_validator = (
            SubgraphOperationValidator(supergraph) if validate_subgraph_operations else None
        )
        self._owned_transport: LeanTransport | None = None
        if transport is None:
            self._owned_transport = transport = LeanTransport()
        self._executor = PlanExecutor(supergraph, transport, subgraph_urls)
        self._planner = planner
        #: extra lines a printed plan shows in a fetch (connector subgraphs: their HTTP calls)
        self.describe_fetch: Callable[[str, str], list[str]] | None = None
        #: fetches to one subgraph that run at the same time go in one request (``[planner]``)
        self._merge_fetches = merge_fetches
        self._documents: LruCache[str, _PreparedDocument] = LruCache(document_cache_size)
        #: authorization, masking and audit (None: an open gateway without auth directives)
        self.access = access
        self._access_shapers: LruCache[Any, ResponseShaper] = LruCache(plan_cache_size)
        self._plans: LruCache[tuple[Any, ...], QueryPlan] = LruCache(plan_cache_size)
        self._static_labels = frozenset(override_labels)
        self._percent_labels = tuple(
            (label, float(match.group(1)))
            for label in sorted(supergraph.override_labels)
            if (match := _PERCENT_LABEL.match(label))
        )
        self._random_percent = random_percent or (lambda: random.random() * 100)
        #: operation limits, checked once per distinct document (None: no limits)
        self.limits = limits
        #: called with True on a plan cache hit, False on a miss (metrics)
        self.on_plan_cache = on_plan_cache
        #: where each subgraph is reached (routing URLs with overrides applied)
        self.subgraph_urls = {name: sub.url for name, sub in supergraph.subgraphs.items()}
        self.subgraph_urls.update(subgraph_urls or {})
        #: identical queries in flight share one execution (open gateways only: with access
        #: control every caller is authorized, masked and audited on its own)
        self._deduplicate = deduplicate_requests
        self._in_flight: dict[tuple[Any, ...], asyncio.Future[GatewayResult]] = {}

    @classmethod
    def from_supergraph_sdl(
        cls,
        sdl: str,
        subgraph_urls: Mapping[str, str] | None = None,
        transport: SubgraphTransport | None = None,
        authorization_enforced: bool = False,
        **options: Any,
    ) -> Gateway:
        """Load ``sdl`` (raises ``SupergraphError``) and build a gateway on it."""
        supergraph = load_supergraph(sdl, authorization_enforced=authorization_enforced)
        return cls(supergraph, transport=transport, subgraph_urls=subgraph_urls, **options)

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """The GraphQL response (``errors`` then ``data``) for an anonymous request."""
        return (await self.process(GraphQLRequest(query, variables, operation_name))).response

    async def process(self, request: GraphQLRequest) -> GatewayResult:
        """The response to ``request``, also telling whether execution started (status codes)."""
        key = self._shared_key(request)
        if key is None:
            return await self._process_guarded(request)
        shared = self._in_flight.get(key)
        if shared is None:
            # Its own task: a caller that disconnects does not cancel the others.
            shared = asyncio.ensure_future(self._process_guarded(request))
            self._in_flight[key] = shared
            shared.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(shared)

    def _shared_key(self, request: GraphQLRequest) -> tuple[Any, ...] | None:
        """The key under which identical requests share one execution, or None not to share."""
        if not self._deduplicate or self.access is not None:
            return None
        prepared = self._documents.get(request.query)
        if prepared is None or prepared.document is None:
            return None  # not seen yet, or invalid: run it on its own
        operation = prepared.operations.get(request.operation_name)
        if operation is None or operation.kind != "query":
            return None  # mutations are never shared
        if operation.deferred is not None and request.stream_deferred:
            return None  # its later parts are one client's stream
        try:
            encoded = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        allowed = request.allowed_operations
        allowed_key = None if allowed is None else tuple(sorted(allowed))
        return (request.query, request.operation_name, encoded, allowed_key)

    async def _process_guarded(self, request: GraphQLRequest) -> GatewayResult:
        return await _guarded(self._process(request))

    async def _process(self, request: GraphQLRequest) -> GatewayResult:
        run = self._start(request)
        deferred = run.operation.deferred
        if deferred is not None and request.stream_deferred:
            active = active_fragments(deferred, run.coerced)
            if run.streams:
                return await self._process_streamed(run, deferred, active)
            if active and run.operation.kind == "query":
                return await self._process_incremental(run, deferred, active)
            if active:  # a mutation runs once: its complete response is cut
                result = await self._process_run(run)
                first, *rest = split_whole(result.response, deferred, active, run.coerced)
                later = _iterate(rest) if rest else None
                return replace(result, response=first, deferred=deferred, later=later)
        result = await self._process_run(run)
        if deferred is None or not result.executed:
            return result
        return replace(result, deferred=deferred)

    async def _process_streamed(
        self, run: _Run, deferred: DeferredOperation, active: frozenset[int]
    ) -> GatewayResult:
        """An operation with active ``@stream`` fields runs once, whole (released, so masked and
        audited, once); its response is cut: deferred fragments as a mutation's
        (``split_whole``), then the streamed lists' later items out of the primary part into
        ``items`` entries (gateway/executor/stream.py), sent in the first later part, before
        the first deferred fragment's entries (tests/defer/cases/stream-and-defer)."""
        result = await self._process_run(run)
        if not result.executed:
            return replace(result, deferred=deferred)
        first, *rest = (
            split_whole(result.response, deferred, active, run.coerced)
            if active
            else [result.response]
        )
        entries = cut_streams(first, run.streams)
        rest = [_streamed_in(part, run.streams) for part in rest]
        if entries and rest:  # ready together: one part, the items first (as Hive sends them)
            incremental = [*entries, *rest[0].get("incremental", ())]
            rest = [{"incremental": incremental, "hasNext": rest[0]["hasNext"]}, *rest[1:]]
        elif entries:
            first = {**first, "hasNext": True}
            rest = [{"incremental": entries, "hasNext": False}]
        later = _iterate(rest) if rest else None
        return replace(result, response=first, deferred=deferred, later=later)

    async def _process_incremental(
        self, run: _Run, deferred: DeferredOperation, active: frozenset[int]
    ) -> GatewayResult:
        """The primary part as the response, the deferred parts as ``later``: every part's own
        operation starts now, the primary is released first (gateway/executor/incremental.py)."""
        parts = self._parts(run.operation, deferred, active)
        seed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def run_part(index: int) -> Callable[[], Awaitable[dict[str, Any]]]:
            documents = parts.documents.fragments[index]
            part = self._part_run(run, documents, parts.fragments[index], seed)
            release = await self._executed(part)
            return lambda: _released(release)

        later = DeferredParts(deferred, parts.documents, run.coerced, run_part)
        try:
            primary_run = self._part_run(run, parts.documents.primary, parts.primary, seed)
            primary = await _guarded(self._process_run(primary_run))
        except BaseException:
            later.cancel()
            raise
        finally:
            if not seed.done():  # not fetched (refused, failed): entity parts find no object
                seed.set_result({})
        if not primary.executed or not later.applies_to(primary.response.get("data")):
            later.cancel()
            return replace(primary, deferred=deferred)
        response = {**primary.response, "hasNext": True}
        return replace(primary, response=response, deferred=deferred, later=later.parts())

    def _parts(
        self, operation: _PreparedOperation, deferred: DeferredOperation, active: frozenset[int]
    ) -> _Parts:
        """``operation`` cut by its ``active`` fragments, prepared once per set."""
        parts = operation.parts.get(active)
        if parts is None:
            documents = deferred_documents(deferred, active)
            anchors = self._entity_anchors(deferred, documents)
            parts = _Parts(
                documents,
                self._prepare_part(documents.primary, anchors=tuple(anchors.values())),
                {
                    i: self._prepare_part(d, entity=anchors.get(i))
                    for i, d in documents.fragments.items()
                },
            )
            operation.parts[active] = parts
        return parts

    def _entity_anchors(
        self, deferred: DeferredOperation, documents: DeferredDocuments
    ) -> dict[int, EntityAnchor]:
        """The fragments the primary part encloses whose objects are entities: planned as
        entity fetches on the primary's objects (the others re-read their path from the root)."""
        anchors: dict[int, EntityAnchor] = {}
        if self._planner is not build_query_plan:
            return anchors
        for index, parent in documents.parents.items():
            anchor = entity_anchor(self.supergraph, deferred, index) if parent is None else None
            if anchor is None:
                continue
            part = documents.fragments[index]
            try:
                build_entity_plan(self.supergraph, part.plan, None, anchor)
            except (PlanningError, GraphQLError):
                continue  # not plannable from that key: re-read from the root
            anchors[index] = anchor
        return anchors

    def _prepare_part(
        self,
        part: PartDocument,
        *,
        anchors: tuple[EntityAnchor, ...] = (),
        entity: EntityAnchor | None = None,
    ) -> _PreparedDocument:
        node = part.operation
        shaper = ResponseShaper(self.supergraph.api_schema, part.shape, part.shape_operation)
        name = node.name.value if node.name else None
        operation = _PreparedOperation(
            node=node,
            kind=node.operation.value,
            shaper=shaper,
            needs_subgraphs=not shaper.only_introspection,
            anchors=anchors,
            entity=entity,
        )
        return _PreparedDocument(part.plan, None, {name: operation})

    @staticmethod
    def _part_run(
        run: _Run,
        part: PartDocument,
        prepared: _PreparedDocument,
        seed: asyncio.Future[Any] | None = None,
    ) -> _Run:
        """``run`` for one part's operation (its text the query: plan and shaper cache key)."""
        (operation,) = prepared.operations.values()
        request = replace(run.request, query=part.text)
        return _Run(request, prepared, operation, run.coerced, run.raw_variables, seed)

    async def _process_run(self, run: _Run) -> GatewayResult:
        request = run.request
        if self.access is not None:
            return await self._process_secured(run, self.access)
        operation = run.operation
        raw: Any = {}
        covered: Any = ()
        errors: list[ErrorDict] = []
        if operation.needs_subgraphs:
            plan = self._plan(
                request.query,
                run.document,
                request.operation_name,
                operation.node,
                anchors=operation.anchors,
                entity=operation.entity,
            )
            state = await self._execute_plan(run, plan, run.coerced)
            raw, covered, errors = state.data, state.covered, state.errors
        data, shaping_errors = operation.shaper.shape(
            raw, run.coerced, raw_variables=run.raw_variables, covered=covered
        )
        return _result(data, [*errors, *shaping_errors])

    def _start(self, request: GraphQLRequest) -> _Run:
        """Parse, validate, select the operation, check its kind, coerce the variables."""
        prepared = self._prepare_document(request.query, request.principal)
        operation = self._prepare_operation(prepared, request.operation_name)
        allowed = request.allowed_operations
        if allowed is not None and operation.kind not in allowed:
            message = f"Can only perform a {'/'.join(sorted(allowed))} operation here."
            raise _RequestFailure(
                [{"message": message, "extensions": {"code": "METHOD_NOT_ALLOWED"}}],
                not_allowed=True,
            )
        if operation.deferred is not None and not request.incremental:
            raise _RequestFailure([dict(_NEEDS_MULTIPART)], not_acceptable=True)
        raw_variables = dict(request.variables or {})
        coerced = self._coerce_variables(operation.node, raw_variables)
        streams = _streams(operation.deferred, coerced)
        return _Run(request, prepared, operation, coerced, raw_variables, streams=streams)

    async def _process_secured(self, run: _Run, access: AccessControl) -> GatewayResult:
        """``_process`` under access control: authorize before planning, mask + audit after."""
        release = await self._executed_secured(run, access)
        return await release()

    async def _executed(self, run: _Run) -> Release:
        """``run`` executed now; its release (mask, audit) when the result is about to be sent
        (a deferred part: only once it will be, so no record is written for a part never sent)."""
        try:
            if self.access is not None:
                return await self._executed_secured(run, self.access)
            result = await self._process_run(run)
        except Exception as error:  # as ``_guarded`` answers it
            result = _failure(error)
        return lambda: _now(result)

    async def _executed_secured(self, run: _Run, access: AccessControl) -> Release:
        request = run.request
        guarded = access.prepare(
            request.principal or ANONYMOUS,
            request.query,
            run.document,
            run.operation.node,
            run.coerced,
        )
        data: dict[str, Any] | None = None
        errors: list[ErrorDict] = []
        raw: Any = {}
        if not guarded.rejection:
            raw, data, errors = await self._execute_authorized(run, guarded)

        async def release() -> GatewayResult:
            released, released_errors = await access.release(
                guarded,
                data,
                errors,
                raw,
                request_id=request.request_id,
                raw_variables=run.raw_variables,
            )
            if guarded.rejection:
                return GatewayResult({"errors": released_errors}, executed=False)
            return _result(released, released_errors)

        return release

    async def _execute_authorized(
        self, run: _Run, guarded: PreparedAccess
    ) -> tuple[Any, dict[str, Any] | None, list[ErrorDict]]:
        """Plan and run the operation rewritten for the caller; shape with the client's own."""
        covered: list[Any] = list(guarded.covered)
        errors: list[ErrorDict] = []
        raw: Any = {}
        rewritten, node = guarded.authorized.document, guarded.authorized.operation
        if run.operation.needs_subgraphs and rewritten is not None and node is not None:
            name = node.name.value if node.name else None
            plan = self._plan(
                run.request.query,
                rewritten,
                name,
                node,
                variant=guarded.plan_key,
                anchors=run.operation.anchors,
                entity=run.operation.entity,
            )
            # the caller's variables with its cursors unsealed (access control's hook)
            state = await self._execute_plan(run, plan, dict(guarded.variables))
            raw = state.data
            covered.extend(state.covered)
            errors.extend(state.errors)
        shaper = self._authorized_shaper(run, guarded)
        data, shaping_errors = shaper.shape(
            raw, run.coerced, raw_variables=run.raw_variables, covered=covered
        )
        return raw, data, [*guarded.errors, *errors, *shaping_errors]

    async def _execute_plan(
        self, run: _Run, plan: QueryPlan, variables: Mapping[str, Any]
    ) -> ExecutionState:
        """Run ``plan``; a deferred entity part from the primary part's objects (awaited), a
        primary part handing its raw data to those parts."""
        data = None
        entity = run.operation.entity
        if entity is not None and run.seed is not None:
            data = entity_seed(await asyncio.shield(run.seed), entity)
        state = await self._executor.execute(plan, variables, data)
        if entity is None and run.seed is not None and not run.seed.done():
            run.seed.set_result(state.data)
        return state

    def _authorized_shaper(self, run: _Run, guarded: PreparedAccess) -> ResponseShaper:
        """The client's shaper, or one without refused type conditions (cached per rewrite)."""
        authorized = guarded.authorized
        if authorized.shape_document is None or authorized.shape_operation is None:
            return run.operation.shaper
        key = (run.request.query, run.operation.node.name, guarded.plan_key)
        shaper = self._access_shapers.get(key)
        if shaper is None:
            shaper = ResponseShaper(
                self.supergraph.api_schema, authorized.shape_document, authorized.shape_operation
            )
            self._access_shapers.put(key, shaper)
        return shaper

    # -- subscriptions (the session around them: gateway/subscriptions/) ------------------------

    async def start_subscription(
        self, request: GraphQLRequest
    ) -> SubscriptionStart | GatewayResult | None:
        """A subscription past parsing, validation, authorization and planning; the refusal as a
        ``GatewayResult``; None when the operation is not a subscription (run it with
        ``process``). The plan's root fetch is the subgraph subscription; the rest runs on each
        event (``subscription_event``)."""
        try:
            run = self._start(request)
            if run.operation.kind != "subscription":
                return None
            guarded = None
            document, node = run.document, run.operation.node
            variables: Mapping[str, Any] = run.coerced
            shaper = run.operation.shaper
            errors: list[ErrorDict] = []
            if self.access is not None:
                guarded = self.access.prepare(
                    request.principal or ANONYMOUS, request.query, document, node, run.coerced
                )
                if guarded.rejection or guarded.authorized.document is None:
                    # refused as a whole: released (audited) like a refused query
                    _, refused = await self.access.release(
                        guarded, None, guarded.errors, request_id=request.request_id
                    )
                    return GatewayResult({"errors": refused}, executed=False)
                authorized = guarded.authorized.operation
                assert authorized is not None
                document, node = guarded.authorized.document, authorized
                variables, errors = guarded.variables, guarded.errors
                shaper = self._authorized_shaper(run, guarded)
            name = node.name.value if node.name else None
            variant = guarded.plan_key if guarded is not None else None
            plan = self._plan(request.query, document, name, node, variant=variant)
            root, rest = _split_subscription(plan)
        except _RequestFailure as failure:
            return GatewayResult({"errors": failure.errors}, executed=False)
        except GatewayError as error:
            return GatewayResult({"errors": [error.to_graphql_error()]}, executed=False)
        return SubscriptionStart(run, guarded, root, rest, variables, shaper, tuple(errors))

    async def subscription_event(
        self,
        start: SubscriptionStart,
        payload: Any,
        audited: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """The client's response for one event (``payload``: what the subgraph sent for the root
        fetch): the rest of the plan run on it, shaped, and under access control authorized,
        masked and audited (the record written before this returns) like a query's response;
        ``audited`` is called when that record carries personal data."""
        run = start.run
        state = await self._executor.execute_event(start.root, payload, start.rest, start.variables)
        covered: list[Any] = [*(start.guarded.covered if start.guarded else ()), *state.covered]
        data, shaping_errors = start.shaper.shape(
            state.data, run.coerced, raw_variables=run.raw_variables, covered=covered
        )
        errors = [*start.errors, *state.errors, *shaping_errors]
        if start.guarded is not None and self.access is not None:
            data, errors = await self.access.release(
                start.guarded,
                data,
                errors,
                state.data,
                request_id=run.request.request_id,
                raw_variables=run.raw_variables,
                audited=audited,
            )
        return _result(data, errors).response

    def query_plan(
        self, query: str, operation_name: str | None = None, principal: Principal | None = None
    ) -> QueryPlan | DeferPlan | None:
        """The plan of an operation as this gateway would run it for ``principal`` (None: no
        subgraph needed). With access control that is the operation rewritten for the caller's
        grants, so the plan names nothing the caller's schema hides. An operation whose
        ``@defer`` fragments are active without variables is shown as its parts' plans (each
        part's operation planned and authorized as it runs).

        For tools (GraphiQL's plan view); raises ``GatewayError`` with the request's errors when
        the operation cannot be planned.
        """
        try:
            prepared = self._prepare_document(query, principal)
            operation = self._prepare_operation(prepared, operation_name)
        except _RequestFailure as failure:
            first = failure.errors[0]
            code = first.get("extensions", {}).get("code", BAD_USER_INPUT)
            raise GatewayError(first["message"], code=code) from failure
        if not operation.needs_subgraphs or prepared.document is None:
            return None
        deferred = operation.deferred
        if deferred is not None and (active := active_fragments(deferred, {})):
            parts = self._parts(operation, deferred, active)
            documents = parts.documents
            return DeferPlan(
                print_ast(documents.primary.shape_operation.selection_set),
                self._part_plan(documents.primary, parts.primary, principal) or QueryPlan(None),
                tuple(
                    DeferredPlan(
                        deferred.deferred[i].path,
                        deferred.deferred[i].label,
                        print_ast(deferred.deferred[i].selections),
                        self._part_plan(part, parts.fragments[i], principal) or QueryPlan(None),
                        ("Primary",) if _entity_of(parts.fragments[i]) is not None else (),
                    )
                    for i, part in documents.fragments.items()
                ),
            )
        return self._query_plan(query, prepared.document, operation_name, operation.node, principal)

    def _part_plan(
        self, part: PartDocument, prepared: _PreparedDocument, principal: Principal | None
    ) -> QueryPlan | None:
        (operation,) = prepared.operations.values()
        if not operation.needs_subgraphs:
            return None
        name = operation.node.name.value if operation.node.name else None
        return self._query_plan(
            part.text,
            part.plan,
            name,
            operation.node,
            principal,
            anchors=operation.anchors,
            entity=operation.entity,
        )

    def _query_plan(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        operation: OperationDefinitionNode,
        principal: Principal | None,
        *,
        anchors: tuple[EntityAnchor, ...] = (),
        entity: EntityAnchor | None = None,
    ) -> QueryPlan | None:
        if self.access is None:
            return self._plan(
                query, document, operation_name, operation, anchors=anchors, entity=entity
            )
        guarded = self.access.prepare(principal or ANONYMOUS, query, document, operation, {})
        if guarded.rejection:
            first = guarded.rejection[0]
            raise GatewayError(first["message"], code=first["extensions"]["code"])
        rewritten, node = guarded.authorized.document, guarded.authorized.operation
        if rewritten is None or node is None:
            return None
        name = node.name.value if node.name else None
        return self._plan(
            query, rewritten, name, node, variant=guarded.plan_key, anchors=anchors, entity=entity
        )

    def _prepare_document(
        self, query: str, principal: Principal | None = None
    ) -> _PreparedDocument:
        prepared = self._documents.get(query)
        if prepared is None:
            prepared = self._parse_and_validate(query)
            # A long query that failed is not kept: the cache's memory stays bounded.
            if prepared.errors is None or len(query) <= _CACHED_FAILURE_LENGTH:
                self._documents.put(query, prepared)
        if prepared.errors is not None:
            raise _RequestFailure(self._errors_for(query, prepared.errors, principal))
        return prepared

    def _errors_for(
        self, query: str, errors: list[ErrorDict], principal: Principal | None
    ) -> list[ErrorDict]:
        """Validation errors told from the caller's filtered schema, so no message or "did you
        mean" hint names a field that schema hides (access control only)."""
        if self.access is None or not any(_code(e) == VALIDATION_FAILED for e in errors):
            return errors
        schema = self.access.filtered_schema(self.access.grants(principal or ANONYMOUS))
        found = validate(with_defer(schema), parse(query))
        if not found:  # cannot happen (the filtered schema is a subset); never leak the hint
            return [{**e, "message": _DID_YOU_MEAN.sub("", e["message"])} for e in errors]
        return [_request_error(error, VALIDATION_FAILED) for error in found]

    def _parse_and_validate(self, query: str) -> _PreparedDocument:
        limits = self.limits
        try:
            document = parse(query) if limits is None else limits.parse(query)
            if limits is not None:
                limits.check(document)
        except GraphQLError as error:
            return _PreparedDocument(None, [_request_error(error, PARSE_FAILED)])
        except LimitExceeded as exceeded:
            return _PreparedDocument(None, exceeded.errors)
        errors = validate(self._validation_schema, document)
        if errors:
            return _PreparedDocument(
                None, [_request_error(error, VALIDATION_FAILED) for error in errors]
            )
        if limits is not None:
            try:
                limits.check_cost(self.supergraph.schema, document)
            except LimitExceeded as exceeded:
                return _PreparedDocument(None, exceeded.errors)
        if has_defer(document):  # run without it; the HTTP layer splits (planner/defer.py)
            return _PreparedDocument(strip_defer(document), None, with_defer=document)
        return _PreparedDocument(document, None)

    def _prepare_operation(
        self, prepared: _PreparedDocument, operation_name: str | None
    ) -> _PreparedOperation:
        operation = prepared.operations.get(operation_name)
        if operation is not None:
            return operation
        assert prepared.document is not None
        node = _select_operation(prepared.document, operation_name)
        shaper = ResponseShaper(self.supergraph.api_schema, prepared.document, node)
        operation = _PreparedOperation(
            node=node,
            kind=node.operation.value,
            shaper=shaper,
            needs_subgraphs=not shaper.only_introspection,
            deferred=_deferred_of(prepared.with_defer, node),
        )
        prepared.operations[operation_name] = operation
        return operation

    def _coerce_variables(
        self, node: OperationDefinitionNode, raw: dict[str, Any]
    ) -> dict[str, Any]:
        definitions = node.variable_definitions or ()
        if not definitions:
            return {}
        result = get_variable_values(self.supergraph.api_schema, definitions, raw)
        if isinstance(result, list):
            raise _RequestFailure([_request_error(error, BAD_USER_INPUT) for error in result])
        # graphql-core 3.3 wraps the values (``VariableValues.coerced``); 3.2 returns the dict.
        coerced: Any = result
        return dict(getattr(coerced, "coerced", coerced))

    def _active_labels(self) -> frozenset[str]:
        if not self._percent_labels:
            return self._static_labels
        drawn = {
            label for label, percent in self._percent_labels if self._random_percent() < percent
        }
        return self._static_labels | drawn if drawn else self._static_labels

    def _plan(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        node: OperationDefinitionNode,
        *,
        variant: Any = None,
        anchors: tuple[EntityAnchor, ...] = (),
        entity: EntityAnchor | None = None,
    ) -> QueryPlan:
        """The plan (cached); ``anchors``/``entity``: a deferring operation's parts (see
        ``_entity_anchors``)."""
        labels = self._active_labels()
        key = (query, operation_name, labels, variant, anchors, entity)
        plan = self._plans.get(key)
        if self.on_plan_cache is not None:
            self.on_plan_cache(plan is not None)
        if plan is None:
            name = node.name.value if node.name else operation_name
            if entity is not None:
                plan = build_entity_plan(
                    self.supergraph, document, name, entity, override_labels=labels
                )
            elif anchors:
                plan = build_query_plan(
                    self.supergraph, document, name, override_labels=labels, anchors=anchors
                )
            else:
                plan = self._planner(self.supergraph, document, name, override_labels=labels)
            if self._merge_fetches:
                plan = merge_fetches(plan)
            if self.plan_validator is not None:
                self.plan_validator.check(plan)
            self._plans.put(key, plan)
        return plan

    async def aclose(self) -> None:
        """Close the subgraph transport this gateway created (a transport passed in stays open)."""
        if self._owned_transport is not None:
            await self._owned_transport.aclose()


@dataclass(frozen=True, slots=True)
class SubscriptionStart:
    """A planned subscription: ``root`` is sent to its subgraph as a subscription; ``rest`` runs
    on each event with ``variables``; ``errors`` (refused fields) go with every event."""

    run: _Run
    guarded: PreparedAccess | None
    root: FetchNode
    rest: PlanNode | None
    variables: Mapping[str, Any]
    shaper: ResponseShaper
    errors: tuple[ErrorDict, ...]

    @property
    def request(self) -> GraphQLRequest:
        return self.run.request


def _deferred_of(
    document: DocumentNode | None, stripped: OperationDefinitionNode
) -> DeferredOperation | None:
    """The ``@defer`` fragments of the operation ``stripped`` was, found in the document as sent
    (stripping keeps definitions in place, so the operation is found by position)."""
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for original in operations:
        if (
            original.loc is not None
            and stripped.loc is not None
            and original.loc.start == stripped.loc.start
        ):
            return deferred_operation(document, original)
    return None


def _split_subscription(plan: QueryPlan) -> tuple[FetchNode, PlanNode | None]:
    """The subscription fetch the plan starts with, and what follows it."""
    node = plan.node
    if isinstance(node, FetchNode) and node.operation_kind == "subscription":
        return node, None
    if isinstance(node, SequenceNode) and node.nodes:
        first, *rest = node.nodes
        if isinstance(first, FetchNode) and first.operation_kind == "subscription":
            following = rest[0] if len(rest) == 1 else SequenceNode(tuple(rest))
            return first, following if rest else None
    raise GatewayError(
        "this subscription cannot be planned as one subgraph subscription",
        code="OPERATION_NOT_SUPPORTED",
    )


#: a result's release: masked and audited when awaited
Release = Callable[[], Awaitable["GatewayResult"]]


async def _now(result: GatewayResult) -> GatewayResult:
    return result


async def _released(release: Release) -> dict[str, Any]:
    return (await _guarded(release())).response


def _streamed_in(part: dict[str, Any], streams: list[tuple[StreamedField, int]]) -> dict[str, Any]:
    """A deferred part with the lists streamed inside its fragments cut: each fragment's entry
    followed by its lists' later items (gateway/executor/stream.py)."""
    incremental: list[dict[str, Any]] = []
    for entry in part.get("incremental", ()):
        incremental.append(entry)
        incremental.extend(cut_streams(entry, streams, entry["path"]))
    return {**part, "incremental": incremental} if "incremental" in part else part


def _streams(
    deferred: DeferredOperation | None, coerced: Mapping[str, Any]
) -> list[tuple[StreamedField, int]]:
    """The operation's active ``@stream`` fields with their ``initialCount`` (refused below 0)."""
    if deferred is None or not deferred.streams:
        return []
    try:
        return active_streams(deferred, coerced)
    except NegativeInitialCount as bad:
        raise _RequestFailure(
            [{"message": str(bad), "extensions": {"code": BAD_USER_INPUT}}]
        ) from None


async def _iterate(parts: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for part in parts:
        yield part


async def _guarded(work: Awaitable[GatewayResult]) -> GatewayResult:
    """``work``'s result, or the response to its failure (internal ones never leak details)."""
    try:
        return await work
    except Exception as error:
        return _failure(error)


def _failure(error: Exception) -> GatewayResult:
    """The response to a request that failed with ``error``."""
    if isinstance(error, _RequestFailure):
        return GatewayResult(
            {"errors": error.errors},
            executed=False,
            operation_not_allowed=error.not_allowed,
            not_acceptable=error.not_acceptable,
        )
    if isinstance(error, GatewayError):
        logger.warning("request failed: %s (%s)", error.message, error.code)
        return GatewayResult({"errors": [error.to_graphql_error()], "data": None})
    logger.error("unexpected error while executing a request", exc_info=error)
    internal = {
        "message": "Internal server error",
        "extensions": {"code": INTERNAL_SERVER_ERROR},
    }
    return GatewayResult({"errors": [internal], "data": None})


def _result(data: dict[str, Any] | None, errors: list[ErrorDict]) -> GatewayResult:
    """Apollo Gateway's key order: ``errors`` (when any) before ``data``."""
    if errors:
        return GatewayResult({"errors": errors, "data": data})
    return GatewayResult({"data": data})


INCREMENTAL_DELIVERY_NOT_ACCEPTED = "INCREMENTAL_DELIVERY_NOT_ACCEPTED"
_NEEDS_MULTIPART: ErrorDict = {
    "message": "This operation uses @defer: its response is delivered incrementally, which "
    "needs `Accept: multipart/mixed` (e.g. `multipart/mixed;deferSpec=20220824`).",
    "extensions": {"code": INCREMENTAL_DELIVERY_NOT_ACCEPTED},
}

_DID_YOU_MEAN = re.compile(r" Did you mean .*$")


def _code(error: ErrorDict) -> Any:
    return error.get("extensions", {}).get("code")


def _select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """GraphQL spec GetOperation: the named operation, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        message = "Must provide operation name if query contains multiple operations."
    else:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        message = f'Unknown operation named "{name}".'
    raise _RequestFailure(
        [{"message": message, "extensions": {"code": OPERATION_RESOLUTION_FAILURE}}]
    )


_SINGLE_QUOTED = re.compile(r"'([^'\s]+)'")
_NOT_PROVIDED = re.compile(
    r'^Variable "(\$\w+)" has invalid value: '
    r'Expected a value of non-null type "(.+)" to be provided\.$'
)


def _js_wording(message: str) -> str:
    """graphql-core's message in graphql-js's wording, which clients and Apollo Gateway use.

    graphql-core quotes names with single quotes where graphql-js uses double quotes; names cannot
    contain quotes or spaces, so only such quoted tokens are rewritten.
    """
    message = _json_literals(_SINGLE_QUOTED.sub(r'"\1"', message))
    return _NOT_PROVIDED.sub(r'Variable "\1" of required type "\2" was not provided.', message)


_PYTHON_LITERALS = {"True": "true", "False": "false", "None": "null"}
_LITERAL_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\b(?:True|False|None)\b')


def _json_literals(message: str) -> str:
    """Print the client's values as JSON: graphql-core shows Python's ``True``/``None``."""
    return _LITERAL_OR_STRING.sub(lambda m: _PYTHON_LITERALS.get(m.group(0), m.group(0)), message)


def _request_error(error: GraphQLError, code: str) -> ErrorDict:
    """A graphql-core error as a response error with a stable code (locations kept, no path)."""
    result: ErrorDict = {"message": _js_wording(error.message)}
    if error.locations:
        result["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    result["extensions"] = {"code": code}
    return result


def _entity_of(prepared: _PreparedDocument) -> EntityAnchor | None:
    (operation,) = prepared.operations.values()
    return operation.entity
