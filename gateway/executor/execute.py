"""Runs a query plan: one ``match`` over node kinds, subgraph calls through a ``SubgraphTransport``.

Results are deep-merged into one response data tree keyed by client response keys; subgraph errors
are re-pathed into client paths. A failed fetch degrades only the fields it was asked for: its error
is recorded, its fields stay absent, and fetches that depended on them find no objects. Shaping the
data to the client's operation (and null propagation) is ``response.py``'s job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType

from gateway.errors import ErrorDict, SubgraphError
from gateway.executor.merge import deep_merge
from gateway.executor.representations import (
    RepresentationBuilder,
    ResponsePath,
    objects_at,
    paths_of_objects_at,
)
from gateway.executor.transport import SubgraphTransport, malformed_response
from gateway.planner.aliasing import undo_aliases
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
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
    explained by an error, so shaping adds no second "Cannot return null" for them.
    """

    variables: Mapping[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[ErrorDict] = field(default_factory=list)
    covered: list[tuple[PathElement | int, ...]] = field(default_factory=list)

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

    async def execute(self, plan: QueryPlan, variables: Mapping[str, Any]) -> ExecutionState:
        """Run ``plan`` with the coerced ``variables``; subgraph failures become errors."""
        state = ExecutionState(variables=variables)
        if plan.node is not None:
            await self._run(plan.node, state)
        return state

    async def _run(self, node: PlanNode, state: ExecutionState) -> None:
        match node:
            case SequenceNode(nodes=nodes):
                for child in nodes:
                    await self._run(child, state)
            case ParallelNode(nodes=nodes):
                async with asyncio.TaskGroup() as group:
                    for child in nodes:
                        group.create_task(self._run(child, state))
            case ConditionNode(condition=condition, if_clause=if_clause, else_clause=else_clause):
                branch = if_clause if state.variables.get(condition) is True else else_clause
                if branch is not None:
                    await self._run(branch, state)
            case FlattenNode(path=path, node=fetch):
                await self._fetch(fetch, path, state)
            case FetchNode():
                await self._fetch(node, (), state)

    async def _fetch(
        self, node: FetchNode, path: tuple[PathElement, ...], state: ExecutionState
    ) -> None:
        try:
            if node.requires is None:
                await self._root_fetch(node, state)
            else:
                await self._entity_fetch(node, path, state)
        except SubgraphError as error:
            body: ErrorDict = {"message": error.message}
            if path:
                body["path"] = list(path)
            body["extensions"] = {"code": error.code, **error.extensions}
            state.add_error(body, path)

    def _variables(self, node: FetchNode, variables: Mapping[str, Any]) -> dict[str, Any]:
        return {name: variables[name] for name in node.variable_usages if name in variables}

    async def _send(self, node: FetchNode, variables: dict[str, Any]) -> tuple[Any, list[Any]]:
        body: dict[str, Any] = {"query": node.operation, "variables": variables}
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
            self._merge_root(root, *_check_response(root.service, payload), state)
        except SubgraphError as error:
            state.add_error({"message": error.message, "extensions": {"code": error.code}}, ())
            return state
        if rest is not None:
            await self._run(rest, state)
        return state

    async def _root_fetch(self, node: FetchNode, state: ExecutionState) -> None:
        data, errors = await self._send(node, self._variables(node, state.variables))
        self._merge_root(node, data, errors, state)

    def _merge_root(
        self, node: FetchNode, data: Any, errors: list[Any], state: ExecutionState
    ) -> None:
        for error in errors:
            path = error.get("path")
            usable = _usable_path(path)
            state.add_error(_downstream_error(error, node.service, usable), usable or ())
        if data is not None:
            undo_aliases(data, node.renames)
            deep_merge(state.data, data, self._object_types)

    async def _entity_fetch(
        self, node: FetchNode, path: tuple[PathElement, ...], state: ExecutionState
    ) -> None:
        assert node.requires is not None
        objects = objects_at(state.data, path)
        if not objects:
            return
        representations = self._representations.build(objects, node.requires)
        if not representations.items:
            return
        variables = {
            "representations": representations.items,
            **self._variables(node, state.variables),
        }
        data, errors = await self._send(node, variables)
        if data is not None:
            entities = data.get("_entities")
            if not isinstance(entities, list) or len(entities) != len(representations.items):
                raise malformed_response(
                    node.service,
                    f"expected _entities to be a list of {len(representations.items)} items",
                )
            for index, entity in enumerate(entities):
                if isinstance(entity, dict):
                    undo_aliases(entity, node.renames)
                    for owner in representations.owners[index]:
                        deep_merge(objects[owner], entity, self._object_types)
        if errors:
            object_paths = paths_of_objects_at(state.data, path)
            for error in errors:
                self._add_entity_error(
                    error, node.service, path, object_paths, representations.owners, state
                )

    def _add_entity_error(
        self,
        error: dict[str, Any],
        service: str,
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
            rest = path[2:]
            for owner in owners[path[1]]:
                client_path = (*object_paths[owner], *rest)
                state.add_error(_downstream_error(error, service, client_path), client_path)
            return
        # No usable path: like Apollo Gateway, the client error carries none; the flatten path
        # still marks which fields the error explains.
        state.add_error(_downstream_error(error, service, None), flatten_path)


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
