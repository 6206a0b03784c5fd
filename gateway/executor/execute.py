"""Runs a query plan: one ``match`` over node kinds, subgraph calls through a ``SubgraphTransport``.

Results are deep-merged into one response data tree keyed by client response keys; subgraph errors
are re-pathed into client paths. A failed fetch degrades only the fields it was asked for: its error
is recorded, its fields stay absent, and fetches that depended on them find no objects. Shaping the
data to the client's operation (and null propagation) is ``response.py``'s job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType

from gateway.errors import ErrorDict, SubgraphError
from gateway.executor.context_batch import alias as batch_alias
from gateway.executor.context_batch import batched_operation
from gateway.executor.context_batch import variable as batch_variable
from gateway.executor.merge import deep_merge
from gateway.executor.representations import (
    FoundObjects,
    RepresentationBuilder,
    Representations,
    ResponsePath,
    context_groups,
    paths_of_objects_at,
)
from gateway.executor.transport import SubgraphTransport, malformed_response
from gateway.planner.aliasing import restore_path, undo_aliases
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    MergedFetchPart,
    ParallelNode,
    PathElement,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from gateway.supergraph.model import Supergraph


@dataclass(slots=True)
class ExecutionState:
    """What one plan execution accumulates: merged data, errors, and the paths those errors cover.

    ``covered`` holds the client paths (``@`` for any index) whose missing values are already
    explained by an error, so shaping adds no second "Cannot return null" for them. ``found``
    holds the objects at the flatten paths walked so far, for the fetches that read them next.
    """

    variables: Mapping[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[ErrorDict] = field(default_factory=list)
    covered: list[tuple[PathElement | int, ...]] = field(default_factory=list)
    found: FoundObjects = field(init=False)

    def __post_init__(self) -> None:
        self.found = FoundObjects(self.data)

    def add_error(self, error: ErrorDict, covers: tuple[PathElement | int, ...]) -> None:
        self.errors.append(error)
        self.covered.append(covers)


class PlanExecutor:
    """Executes plans against one supergraph; built once, shared by all requests."""

    def __init__(
        self,
        supergraph: Supergraph,
        transport: SubgraphTransport,
        subgraph_urls: Mapping[str, str] | None = None,
    ) -> None:
        self._transport = transport
        urls = {name: subgraph.url for name, subgraph in supergraph.subgraphs.items()}
        urls.update(subgraph_urls or {})
        self._urls = urls
        self._object_types = frozenset(
            name
            for name, gql_type in supergraph.schema.type_map.items()
            if isinstance(gql_type, GraphQLObjectType)
        )
        self._representations = RepresentationBuilder(supergraph.possible_types)

    async def execute(
        self, plan: QueryPlan, variables: Mapping[str, Any], data: dict[str, Any] | None = None
    ) -> ExecutionState:
        """Run ``plan`` with the coerced ``variables``; subgraph failures become errors.
        ``data``: objects another plan fetched, which this one's entity fetches start from."""
        state = ExecutionState(variables=variables, data={} if data is None else data)
        if plan.node is not None:
            await self._run(plan.node, state)
        return state

    async def _run(self, node: PlanNode, state: ExecutionState) -> None:
        match node:
            case SequenceNode(nodes=nodes):
                for child in nodes:
                    await self._run(child, state)
            case ParallelNode(nodes=nodes) if nodes:
                async with asyncio.TaskGroup() as group:
                    for child in nodes[1:]:
                        group.create_task(self._run(child, state))
                    # the first branch runs in this task (one task fewer), still first: the
                    # tasks start when it first waits; a failure in it cancels the others
                    await self._run(nodes[0], state)
            case ConditionNode(condition=condition, if_clause=if_clause, else_clause=else_clause):
                branch = if_clause if state.variables.get(condition) is True else else_clause
                if branch is not None:
                    await self._run(branch, state)
            case FlattenNode(path=path, node=fetch):
                await self._fetch(fetch, path, state)
            case FetchNode():
                await self._fetch(node, (), state)
            case MergedFetchNode():
                await self._merged_fetch(node, state)

    async def _fetch(
        self, node: FetchNode, path: tuple[PathElement, ...], state: ExecutionState
    ) -> None:
        try:
            if node.requires is None:
                await self._root_fetch(node, state)
            else:
                await self._entity_fetch(node, path, state)
        except SubgraphError as error:
            self._add_fetch_failure(error, path, state)

    @staticmethod
    def _add_fetch_failure(
        error: SubgraphError, path: tuple[PathElement, ...], state: ExecutionState
    ) -> None:
        """A fetch that got no usable answer: one error at its flatten path (covering it)."""
        body: ErrorDict = {"message": error.message}
        if path:
            body["path"] = list(path)
        body["extensions"] = {"code": error.code, **error.extensions}
        state.add_error(body, path)

    def _variables(
        self, node: FetchNode | MergedFetchNode, variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {name: variables[name] for name in node.variable_usages if name in variables}

    async def _send(
        self, node: FetchNode, variables: dict[str, Any], operation: str | None = None
    ) -> tuple[Any, list[Any]]:
        body: dict[str, Any] = {"query": operation or node.operation, "variables": variables}
        if node.operation_name:
            body["operationName"] = node.operation_name
        payload = await self._transport.fetch(node.service, self._urls[node.service], body)
        return _check_response(node.service, payload)

    async def execute_event(
        self,
        root: FetchNode,
        payload: Any,
        rest: PlanNode | None,
        variables: Mapping[str, Any],
    ) -> ExecutionState:
        """One subscription event: ``payload`` (a GraphQL response the subgraph sent for the
        subscription ``root``) takes the root fetch's place, then ``rest`` of the plan runs on
        it (gateway/subscriptions/)."""
        state = ExecutionState(variables=variables)
        try:
            self._apply_root(root, *_check_response(root.service, payload), state)
        except SubgraphError as error:
            state.add_error({"message": error.message, "extensions": {"code": error.code}}, ())
            return state
        if rest is not None:
            await self._run(rest, state)
        return state

    async def _root_fetch(self, node: FetchNode, state: ExecutionState) -> None:
        data, errors = await self._send(node, self._variables(node, state.variables))
        self._apply_root(node, data, errors, state)

    def _apply_root(
        self,
        node: FetchNode,
        data: dict[str, Any] | None,
        errors: list[dict[str, Any]],
        state: ExecutionState,
    ) -> None:
        for error in errors:
            usable = _usable_path(error.get("path"))
            if usable is not None:
                usable = restore_path(usable, node.renames)
            state.add_error(_downstream_error(error, node.service, usable), usable or ())
        if data is not None:
            undo_aliases(data, node.renames)
            deep_merge(state.data, data, self._object_types)
            state.found.merged((), [data])

    async def _entity_fetch(
        self, node: FetchNode, path: tuple[PathElement, ...], state: ExecutionState
    ) -> None:
        assert node.requires is not None
        objects = state.found.at(path)
        if not objects:
            return
        if node.context_inputs:
            await self._contextual_fetch(node, path, objects, state)
            return
        representations = self._representations.build(objects, node.requires)
        if not representations.items:
            return
        variables = {
            "representations": representations.items,
            **self._variables(node, state.variables),
        }
        data, errors = await self._send(node, variables)
        entities = None if data is None else data.get("_entities")
        part = _EntityPart(node, path, objects, representations)
        self._apply_entities(part, entities, data is not None, errors, state)

    async def _contextual_fetch(
        self,
        node: FetchNode,
        path: tuple[PathElement, ...],
        objects: list[dict[str, Any]],
        state: ExecutionState,
    ) -> None:
        """An entity fetch with ``@fromContext`` arguments: the objects grouped by their values,
        every group in one request (``context_batch.py``: ``_entities`` aliased per group)."""
        assert node.requires is not None
        requires = node.requires
        parts: list[tuple[_EntityPart, dict[str, Any]]] = []
        for context_variables, indices in context_groups(
            state.data, path, node.context_inputs, objects
        ):
            representations = self._representations.build([objects[i] for i in indices], requires)
            if not representations.items:
                continue
            representations.owners = [[indices[o] for o in own] for own in representations.owners]
            values = {"representations": representations.items, **context_variables}
            parts.append((_EntityPart(node, path, objects, representations), values))
        if not parts:
            return
        variables = self._variables(node, state.variables)
        operation = None
        if len(parts) == 1:
            variables.update(parts[0][1])
        else:
            contextual = tuple(c.variable for c in node.context_inputs)
            operation = batched_operation(node.operation, contextual, len(parts))
            for index, (_, values) in enumerate(parts):
                variables.update({batch_variable(k, index): v for k, v in values.items()})
        try:
            data, errors = await self._send(node, variables, operation)
        except SubgraphError as error:
            self._add_fetch_failure(error, path, state)
            return
        by_part = _errors_by_alias(errors, len(parts), data is not None) if operation else [errors]
        for index, (part, _) in enumerate(parts):
            key = batch_alias(index) if operation else "_entities"
            entities = None if data is None else data.get(key)
            try:
                self._apply_entities(part, entities, data is not None, by_part[index], state)
            except SubgraphError as error:
                self._add_fetch_failure(error, path, state)

    def _apply_entities(
        self,
        part: _EntityPart,
        entities: Any,
        has_data: bool,
        errors: list[dict[str, Any]],
        state: ExecutionState,
    ) -> None:
        """Merge one entity fetch's ``_entities`` answer into its objects; re-path its errors."""
        node, representations = part.fetch, part.representations
        if has_data:
            if not isinstance(entities, list) or len(entities) != len(representations.items):
                raise malformed_response(
                    node.service,
                    f"expected _entities to be a list of {len(representations.items)} items",
                )
            renames, objects, object_types = node.renames, part.objects, self._object_types
            for entity, owners in zip(entities, representations.owners, strict=True):
                if type(entity) is dict:
                    if renames:
                        undo_aliases(entity, renames)
                    for owner in owners:
                        deep_merge(objects[owner], entity, object_types)
            state.found.merged(part.path, entities)
        if errors:
            object_paths = paths_of_objects_at(state.data, part.path)
            for error in errors:
                self._add_entity_error(
                    error, node, part.path, object_paths, representations.owners, state
                )

    async def _merged_fetch(self, node: MergedFetchNode, state: ExecutionState) -> None:
        """Several fetches in one request; each part gets its data and errors as if sent alone.

        A part with no representations to send asks for none (an empty list); when only one
        part has work, its own fetch is sent instead. A failed request (transport, HTTP status)
        fails every part that had work, each with its own error. An answer nulled whole is
        sent again part by part where it must be: the parts its errors do not name when one
        names a part, every part when none does (which part failed cannot be told), so a
        failing fetch degrades only its own fields, as its separate request would have.
        """
        variables = self._variables(node, state.variables)
        working = self._working_parts(node, state, variables)
        if len(working) <= 1:
            for part, _ in working:
                await self._fetch(part.fetch, part.path, state)
            return
        body: dict[str, Any] = {"query": node.operation, "variables": variables}
        if node.operation_name:
            body["operationName"] = node.operation_name
        try:
            payload = await self._transport.fetch(node.service, self._urls[node.service], body)
            data, errors = _check_response(node.service, payload)
        except SubgraphError as error:
            for part, _ in working:
                self._add_fetch_failure(error, part.path, state)
            return
        if data is None and not _names_a_part(errors, working):
            await self._resend_apart([part for part, _ in working], state)
            return
        by_part = _errors_by_part(errors, working, data is not None)
        retry: list[MergedFetchPart] = []
        for index, (part, entity_part) in enumerate(working):
            if data is None and not by_part[index]:
                # Another part's error nulled the whole answer: this part's own request would
                # have succeeded, so it is sent again on its own (degrading only the failed part).
                retry.append(part)
                continue
            try:
                self._apply_part(part, entity_part, data, by_part[index], state)
            except SubgraphError as error:
                self._add_fetch_failure(error, part.path, state)
        if retry:
            await self._resend_apart(retry, state)

    async def _resend_apart(self, parts: list[MergedFetchPart], state: ExecutionState) -> None:
        """Each part's own request, in parallel (after a merged answer that failed whole)."""
        async with asyncio.TaskGroup() as group:
            for part in parts:
                group.create_task(self._fetch(part.fetch, part.path, state))

    def _working_parts(
        self, node: MergedFetchNode, state: ExecutionState, variables: dict[str, Any]
    ) -> list[tuple[MergedFetchPart, _EntityPart | None]]:
        """The parts with something to ask; sets each entity part's representations variable."""
        working: list[tuple[MergedFetchPart, _EntityPart | None]] = []
        for part in node.parts:
            fetch = part.fetch
            if fetch.requires is None:
                working.append((part, None))
                continue
            assert part.variable is not None
            items: list[dict[str, Any]] = []
            objects = state.found.at(part.path)
            if objects:
                representations = self._representations.build(objects, fetch.requires)
                items = representations.items
                if items:
                    working.append((part, _EntityPart(fetch, part.path, objects, representations)))
            variables[part.variable] = items
        return working

    def _apply_part(
        self,
        part: MergedFetchPart,
        entity_part: _EntityPart | None,
        data: dict[str, Any] | None,
        errors: list[dict[str, Any]],
        state: ExecutionState,
    ) -> None:
        if entity_part is None:
            part_data = None if data is None else {k: data[k] for k in part.keys if k in data}
            self._apply_root(part.fetch, part_data, errors, state)
        else:
            assert part.alias is not None
            entities = None if data is None else data.get(part.alias)
            self._apply_entities(entity_part, entities, data is not None, errors, state)

    def _add_entity_error(
        self,
        error: dict[str, Any],
        node: FetchNode,
        flatten_path: tuple[PathElement, ...],
        object_paths: list[ResponsePath],
        owners: list[list[int]],
        state: ExecutionState,
    ) -> None:
        path = _usable_path(error.get("path"))
        if (
            path is not None
            and len(path) >= 2
            and path[0] == "_entities"
            and isinstance(path[1], int)
            and 0 <= path[1] < len(owners)
        ):
            rest = restore_path(path[2:], node.renames)
            for owner in owners[path[1]]:
                client_path = (*object_paths[owner], *rest)
                state.add_error(_downstream_error(error, node.service, client_path), client_path)
            return
        # No usable path: like Apollo Gateway, the client error carries none; the flatten path
        # still marks which fields the error explains.
        state.add_error(_downstream_error(error, node.service, None), flatten_path)


@dataclass(slots=True)
class _EntityPart:
    """An entity fetch about to be answered: the objects it was built from, its representations."""

    fetch: FetchNode
    path: tuple[PathElement, ...]
    objects: list[dict[str, Any]]
    representations: Representations


def _part_owners(working: list[tuple[MergedFetchPart, _EntityPart | None]]) -> dict[str, int]:
    """The part each top-level response key of a merged answer belongs to."""
    owner: dict[str, int] = {}
    for index, (part, entity_part) in enumerate(working):
        if entity_part is None:
            for key in part.keys:
                owner[key] = index
        elif part.alias is not None:
            owner[part.alias] = index
    return owner


def _names_a_part(
    errors: list[dict[str, Any]], working: list[tuple[MergedFetchPart, _EntityPart | None]]
) -> bool:
    """Whether some error's path starts in one of the parts (so the failing part is known)."""
    owner = _part_owners(working)
    for error in errors:
        path = _usable_path(error.get("path"))
        if path and isinstance(path[0], str) and path[0] in owner:
            return True
    return False


def _errors_by_part(
    errors: list[dict[str, Any]],
    working: list[tuple[MergedFetchPart, _EntityPart | None]],
    has_data: bool,
) -> list[list[dict[str, Any]]]:
    """Each error of a merged answer, given to the part its path starts in.

    An entity part's error path ``[alias, i, ...]`` becomes ``["_entities", i, ...]``, as its
    own request would have answered. An error whose path names no part (or has none) fails
    every part when the answer has no data (each separate request would have reported it);
    beside data it is reported once, with the first part.
    """
    return _assign_errors(
        errors, _part_owners(working), len(working), has_data, lambda i: working[i][1] is not None
    )


def _errors_by_alias(
    errors: list[dict[str, Any]], count: int, has_data: bool
) -> list[list[dict[str, Any]]]:
    """Each error of a batched contextual fetch, given to the value set whose ``_<i>`` its path
    starts with (as ``["_entities", ...]``, the path its own request would have given); an
    error naming none goes to the first set beside data, to every set without data."""
    owner = {batch_alias(index): index for index in range(count)}
    return _assign_errors(errors, owner, count, has_data, lambda _: True)


def _assign_errors(
    errors: list[dict[str, Any]],
    owner: dict[str, int],
    count: int,
    has_data: bool,
    entity_part: Callable[[int], bool],
) -> list[list[dict[str, Any]]]:
    """Errors of one answer to several parts, by the part owning the first key of their path
    (an entity part's path becomes ``["_entities", ...]``); an error naming no part goes to the
    first part beside data, to every part without data."""
    by_part: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for error in errors:
        path = _usable_path(error.get("path"))
        owning = owner.get(path[0]) if path and isinstance(path[0], str) else None
        if path is None or owning is None:
            for part_errors in by_part[:1] if has_data else by_part:
                part_errors.append(error)
            continue
        if entity_part(owning):
            error = {**error, "path": ["_entities", *path[1:]]}
        by_part[owning].append(error)
    return by_part


def _check_response(service: str, payload: Any) -> tuple[Any, list[Any]]:
    """``(data, errors)`` of a well-formed GraphQL response, else a malformed-response error."""
    if not isinstance(payload, dict):
        raise malformed_response(service, "the response is not a JSON object")
    if "data" not in payload and "errors" not in payload:
        raise malformed_response(service, "the response has neither data nor errors")
    data = payload.get("data")
    errors = payload.get("errors")
    if data is not None and not isinstance(data, dict):
        raise malformed_response(service, "data is not an object")
    if errors is None:
        errors = []
    elif not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
        raise malformed_response(service, "errors is not a list of objects")
    return data, errors


def _usable_path(path: Any) -> tuple[str | int, ...] | None:
    if isinstance(path, list) and path and all(isinstance(p, str | int) for p in path):
        return tuple(path)
    return None


def _downstream_error(
    error: dict[str, Any], service: str, path: tuple[PathElement | int, ...] | None
) -> ErrorDict:
    """A subgraph's GraphQL error as the client sees it (Apollo Gateway's shape)."""
    message = error.get("message")
    if not isinstance(message, str) or not message:
        message = f'Error while fetching subquery from service "{service}"'
    extensions = error.get("extensions")
    merged: dict[str, Any] = dict(extensions) if isinstance(extensions, dict) else {}
    merged["serviceName"] = service
    merged.setdefault("code", "DOWNSTREAM_SERVICE_ERROR")
    result: ErrorDict = {"message": message}
    if path:
        result["path"] = list(path)
    result["extensions"] = merged
    return result
