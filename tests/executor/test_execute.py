"""PlanExecutor on hand-written plans with a fake transport: merging, entities, errors."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.executor.execute import PlanExecutor
from gateway.executor.transport import http_error
from gateway.planner.plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    QueryPlan,
    RepresentationRule,
    RequiredField,
    SequenceNode,
)
from gateway.supergraph import Supergraph
from tests.executor.fakes import FakeTransport, responses

USERS_FETCH = FetchNode("accounts", "{ users { __typename id name } }")
USER_KEY = (RepresentationRule("User", (RequiredField("id", "id"),)),)
REVIEWS_FETCH = FetchNode(
    "reviews",
    "query($representations: [_Any!]!) { _entities(representations: $representations) "
    "{ ... on User { reviews { body } } } }",
    requires=USER_KEY,
)
USERS_THEN_REVIEWS = QueryPlan(
    SequenceNode((USERS_FETCH, FlattenNode(("users", "@"), REVIEWS_FETCH)))
)


def _executor(supergraph: Supergraph, transport: FakeTransport) -> PlanExecutor:
    return PlanExecutor(supergraph, transport, {"accounts": "http://override.test/graphql"})


def _entities(body: dict[str, Any], make: Any) -> dict[str, Any]:
    return {"data": {"_entities": [make(rep) for rep in body["variables"]["representations"]]}}


@pytest.mark.anyio
async def test_root_fetch_sends_used_variables_and_merges_data(supergraph: Supergraph) -> None:
    transport = FakeTransport(
        responses(
            accounts={"data": {"me": {"id": "1"}}},
            products={"data": {"topProducts": [{"upc": "p"}]}},
        )
    )
    plan = QueryPlan(
        ParallelNode(
            (
                FetchNode(
                    "accounts",
                    "query Q($a: Int) { me { id } }",
                    variable_usages=("a", "absent"),
                    operation_name="Q",
                ),
                FetchNode("products", "{ topProducts { upc } }"),
            )
        )
    )
    state = await _executor(supergraph, transport).execute(plan, {"a": 1, "b": 2})
    assert state.data == {"me": {"id": "1"}, "topProducts": [{"upc": "p"}]}
    assert state.errors == []
    accounts = transport.requests[0]
    assert accounts == (
        "accounts",
        "http://override.test/graphql",
        {"query": "query Q($a: Int) { me { id } }", "variables": {"a": 1}, "operationName": "Q"},
    )
    assert transport.requests[1][1] == "http://products.test/graphql"
    assert transport.requests[1][2] == {"query": "{ topProducts { upc } }", "variables": {}}


@pytest.mark.anyio
async def test_entity_fetch_dedupes_representations_and_merges_into_every_owner(
    supergraph: Supergraph,
) -> None:
    users = {
        "data": {
            "users": [
                {"__typename": "User", "id": "1", "name": "a"},
                {"__typename": "User", "id": "2", "name": "b"},
                {"__typename": "User", "id": "1", "name": "a again"},
            ]
        }
    }
    transport = FakeTransport(
        responses(
            accounts=users,
            reviews=lambda body: _entities(body, lambda rep: {"reviews": [{"body": rep["id"]}]}),
        )
    )
    state = await _executor(supergraph, transport).execute(USERS_THEN_REVIEWS, {})
    sent = transport.bodies("reviews")[0]["variables"]["representations"]
    assert sent == [{"__typename": "User", "id": "1"}, {"__typename": "User", "id": "2"}]
    assert [user.get("reviews") for user in state.data["users"]] == [
        [{"body": "1"}],
        [{"body": "2"}],
        [{"body": "1"}],
    ]
    assert state.errors == []


@pytest.mark.anyio
async def test_null_entity_merges_nothing_and_interface_object_typename_is_kept(
    supergraph: Supergraph,
) -> None:
    media = {
        "data": {"media": [{"__typename": "Book", "id": "b"}, {"__typename": "Movie", "id": "m"}]}
    }
    fetch = FetchNode(
        "reviews",
        "query($representations: [_Any!]!) { _entities(representations: $representations) "
        "{ ... on Media { rating } } }",
        requires=(RepresentationRule("Media", (RequiredField("id", "id"),), typename="Media"),),
    )
    transport = FakeTransport(
        responses(
            products=media,
            reviews={"data": {"_entities": [{"__typename": "Media", "rating": 4}, None]}},
        )
    )
    plan = QueryPlan(
        SequenceNode(
            (
                FetchNode("products", "{ media { __typename id } }"),
                FlattenNode(("media", "@"), fetch),
            )
        )
    )
    state = await _executor(supergraph, transport).execute(plan, {})
    assert transport.bodies("reviews")[0]["variables"]["representations"] == [
        {"__typename": "Media", "id": "b"},
        {"__typename": "Media", "id": "m"},
    ]
    assert state.data == {
        "media": [
            {"__typename": "Book", "id": "b", "rating": 4},
            {"__typename": "Movie", "id": "m"},
        ]
    }


@pytest.mark.anyio
async def test_root_errors_keep_paths_and_get_service_name(supergraph: Supergraph) -> None:
    transport = FakeTransport(
        responses(
            accounts={
                "data": {"me": None},
                "errors": [
                    {
                        "message": "boom",
                        "path": ["me"],
                        "locations": [{"line": 1, "column": 3}],
                        "extensions": {"code": "FORBIDDEN", "detail": 1},
                    },
                    {"message": "no path"},
                ],
            }
        )
    )
    state = await _executor(supergraph, transport).execute(
        QueryPlan(FetchNode("accounts", "{ me { id } }")), {}
    )
    assert state.data == {"me": None}
    assert state.errors == [
        {
            "message": "boom",
            "path": ["me"],
            "extensions": {"code": "FORBIDDEN", "detail": 1, "serviceName": "accounts"},
        },
        {
            "message": "no path",
            "extensions": {"serviceName": "accounts", "code": "DOWNSTREAM_SERVICE_ERROR"},
        },
    ]


@pytest.mark.anyio
async def test_entity_errors_are_repathed_to_every_owner_or_left_without_path(
    supergraph: Supergraph,
) -> None:
    users = {
        "data": {
            "users": [
                {"__typename": "User", "id": "1"},
                {"__typename": "User", "id": "2"},
                {"__typename": "User", "id": "1"},
            ]
        }
    }
    reviews = {
        "data": {"_entities": [{"reviews": None}, {"reviews": []}]},
        "errors": [
            {"message": "bad reviews", "path": ["_entities", 0, "reviews"]},
            {"message": "vague", "path": ["_entities"]},
        ],
    }
    transport = FakeTransport(responses(accounts=users, reviews=reviews))
    state = await _executor(supergraph, transport).execute(USERS_THEN_REVIEWS, {})
    assert [error.get("path") for error in state.errors] == [
        ["users", 0, "reviews"],
        ["users", 2, "reviews"],
        None,
    ]
    assert state.covered[2] == ("users", "@")
    assert state.errors[0]["message"] == "bad reviews"
    assert state.errors[0]["extensions"]["serviceName"] == "reviews"


@pytest.mark.anyio
async def test_failing_subgraph_degrades_only_its_fields(supergraph: Supergraph) -> None:
    transport = FakeTransport(
        responses(
            accounts={"data": {"users": [{"__typename": "User", "id": "1", "name": "a"}]}},
            products={"data": {"topProducts": [{"upc": "p"}]}},
            reviews=http_error("reviews", "500: Internal Server Error"),
        )
    )
    plan = QueryPlan(
        ParallelNode(
            (
                USERS_THEN_REVIEWS.node,  # type: ignore[arg-type]
                FetchNode("products", "{ topProducts { upc } }"),
            )
        )
    )
    state = await _executor(supergraph, transport).execute(plan, {})
    assert state.data == {
        "users": [{"__typename": "User", "id": "1", "name": "a"}],
        "topProducts": [{"upc": "p"}],
    }
    assert state.errors == [
        {
            "message": "HTTP fetch failed from 'reviews': 500: Internal Server Error",
            "path": ["users", "@"],
            "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "service": "reviews"},
        }
    ]
    assert state.covered == [("users", "@")]


@pytest.mark.anyio
async def test_failed_root_fetch_leaves_dependent_fetch_without_objects(
    supergraph: Supergraph,
) -> None:
    transport = FakeTransport(responses(accounts=http_error("accounts", "request timed out")))
    state = await _executor(supergraph, transport).execute(USERS_THEN_REVIEWS, {})
    assert state.data == {}
    assert [error["extensions"]["code"] for error in state.errors] == ["SUBREQUEST_HTTP_ERROR"]
    assert "path" not in state.errors[0]
    assert transport.bodies("reviews") == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"unexpected": 1},
        {"data": "nope"},
        {"data": {"_entities": [{}]}},
        {"data": {}, "errors": "bad"},
    ],
)
async def test_malformed_entity_response_is_one_error(supergraph: Supergraph, payload: Any) -> None:
    users = {
        "data": {"users": [{"__typename": "User", "id": "1"}, {"__typename": "User", "id": "2"}]}
    }
    transport = FakeTransport(responses(accounts=users, reviews=[payload]))
    state = await _executor(supergraph, transport).execute(USERS_THEN_REVIEWS, {})
    assert len(state.errors) == 1
    error = state.errors[0]
    assert error["extensions"] == {"code": "SUBREQUEST_MALFORMED_RESPONSE", "service": "reviews"}
    assert error["path"] == ["users", "@"]
    assert state.data["users"] == [
        {"__typename": "User", "id": "1"},
        {"__typename": "User", "id": "2"},
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(("flag", "expected"), [(True, "then"), (False, "else")])
async def test_condition_picks_branch_by_boolean_variable(
    supergraph: Supergraph, flag: bool, expected: str
) -> None:
    transport = FakeTransport(
        responses(
            accounts={"data": {"me": {"branch": "then"}}},
            products={"data": {"me": {"branch": "else"}}},
        )
    )
    plan = QueryPlan(
        ConditionNode(
            "flag",
            FetchNode("accounts", "{ me { id } }"),
            FetchNode("products", "{ me { id } }"),
        )
    )
    state = await _executor(supergraph, transport).execute(plan, {"flag": flag})
    assert state.data == {"me": {"branch": expected}}
    assert len(transport.requests) == 1


@pytest.mark.anyio
async def test_sequence_runs_in_order(supergraph: Supergraph) -> None:
    transport = FakeTransport(responses(accounts={"data": {"a": 1}}, products={"data": {"b": 2}}))
    plan = QueryPlan(SequenceNode((FetchNode("products", "{ b }"), FetchNode("accounts", "{ a }"))))
    state = await _executor(supergraph, transport).execute(plan, {})
    assert [name for name, _, _ in transport.requests] == ["products", "accounts"]
    assert list(state.data) == ["b", "a"]


@pytest.mark.anyio
async def test_entity_variables_include_used_client_variables(supergraph: Supergraph) -> None:
    users = {"data": {"users": [{"__typename": "User", "id": "1"}]}}
    fetch = FetchNode(
        "reviews",
        "query($representations: [_Any!]!, $n: Int) { _entities(representations: "
        "$representations) { ... on User { reviews { body } } } }",
        variable_usages=("n",),
        requires=USER_KEY,
    )
    transport = FakeTransport(
        responses(accounts=users, reviews={"data": {"_entities": [{"reviews": []}]}})
    )
    plan = QueryPlan(SequenceNode((USERS_FETCH, FlattenNode(("users", "@"), fetch))))
    await _executor(supergraph, transport).execute(plan, {"n": 3, "unused": 1})
    assert transport.bodies("reviews")[0]["variables"] == {
        "representations": [{"__typename": "User", "id": "1"}],
        "n": 3,
    }
