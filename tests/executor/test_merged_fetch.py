"""Merged fetches (``gateway/planner/merge.py``) run as one request: each part gets its own data
and errors, and a failure degrades exactly the parts of the failed request."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.executor.execute import PlanExecutor
from gateway.executor.transport import http_error
from gateway.planner.merge import merge_fetches
from gateway.planner.plan import (
    FetchNode,
    FlattenNode,
    MergedFetchNode,
    ParallelNode,
    QueryPlan,
    RepresentationRule,
    RequiredField,
    SequenceNode,
)
from gateway.supergraph import Supergraph
from tests.executor.fakes import FakeTransport, responses

USER_KEY = (RepresentationRule("User", (RequiredField("id", "id"),)),)
PRODUCT_KEY = (RepresentationRule("Product", (RequiredField("upc", "upc"),)),)
ROOT = FetchNode(
    "accounts",
    "{ users { __typename id } topProducts { __typename upc } }",
)
USER_REVIEWS = FetchNode(
    "reviews",
    "query Q__reviews__1($representations: [_Any!]!) { _entities(representations: "
    "$representations) { ... on User { reviews { body } } } }",
    requires=USER_KEY,
    operation_name="Q__reviews__1",
)
PRODUCT_REVIEWS = FetchNode(
    "reviews",
    "query Q__reviews__2($representations: [_Any!]!, $first: Int) { _entities(representations: "
    "$representations) { ... on Product { reviews(first: $first) { stars } } } }",
    requires=PRODUCT_KEY,
    variable_usages=("first",),
    operation_name="Q__reviews__2",
)
LATEST = FetchNode("reviews", "{ latest { body } }")
PLAN = merge_fetches(
    QueryPlan(
        SequenceNode(
            (
                ROOT,
                ParallelNode(
                    (
                        FlattenNode(("users", "@"), USER_REVIEWS),
                        FlattenNode(("topProducts", "@"), PRODUCT_REVIEWS),
                        LATEST,
                    )
                ),
            )
        )
    )
)


def _root_data(_: dict[str, Any]) -> dict[str, Any]:
    """A fresh root answer per request (the executor merges into the objects it receives)."""
    return {
        "data": {
            "users": [{"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}],
            "topProducts": [{"__typename": "Product", "upc": "p1"}],
        }
    }


def _executor(supergraph: Supergraph, transport: FakeTransport) -> PlanExecutor:
    return PlanExecutor(supergraph, transport)


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    """What a subgraph answers to the merged document (by its variables)."""
    variables = body["variables"]
    return {
        "data": {
            "e0": [{"reviews": [{"body": f"by {r['id']}"}]} for r in variables["r0"]],
            "e1": [{"reviews": [{"stars": len(r["upc"])}]} for r in variables["r1"]],
            "latest": [{"body": "new"}],
        }
    }


def test_the_plan_has_one_merged_fetch_for_the_three_parallel_reviews_fetches() -> None:
    assert isinstance(PLAN.node, SequenceNode)
    merged = PLAN.node.nodes[1]
    assert isinstance(merged, MergedFetchNode)
    assert [part.path for part in merged.parts] == [("users", "@"), ("topProducts", "@"), ()]
    assert merged.variable_usages == ("first",)
    assert merged.operation_name == "Q__reviews__1"


@pytest.mark.anyio
async def test_one_request_answers_every_part(supergraph: Supergraph) -> None:
    transport = FakeTransport(responses(accounts=_root_data, reviews=_answer))
    state = await _executor(supergraph, transport).execute(PLAN, {"first": 2, "other": 1})
    assert state.errors == []
    assert state.data == {
        "users": [
            {"__typename": "User", "id": "u1", "reviews": [{"body": "by u1"}]},
            {"__typename": "User", "id": "u2", "reviews": [{"body": "by u2"}]},
        ],
        "topProducts": [{"__typename": "Product", "upc": "p1", "reviews": [{"stars": 2}]}],
        "latest": [{"body": "new"}],
    }
    [body] = transport.bodies("reviews")
    assert body["variables"] == {
        "first": 2,
        "r0": [{"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}],
        "r1": [{"__typename": "Product", "upc": "p1"}],
    }
    assert body["operationName"] == "Q__reviews__1"
    assert "e0: _entities(representations: $r0)" in body["query"]


@pytest.mark.anyio
async def test_errors_get_the_paths_of_their_own_part(supergraph: Supergraph) -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        result = _answer(body)
        result["data"]["e0"][1] = None
        result["errors"] = [
            {"message": "hidden", "path": ["e0", 1, "reviews"]},
            {"message": "late", "path": ["latest", 0, "body"]},
        ]
        return result

    transport = FakeTransport(responses(accounts=_root_data, reviews=answer))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [(e["message"], e.get("path")) for e in state.errors] == [
        ("hidden", ["users", 1, "reviews"]),
        ("late", ["latest", 0, "body"]),
    ]
    assert state.data["users"][1] == {"__typename": "User", "id": "u2"}
    assert state.data["topProducts"][0]["reviews"] == [{"stars": 2}]


@pytest.mark.anyio
async def test_a_failed_request_fails_each_part_with_its_own_error(
    supergraph: Supergraph,
) -> None:
    failure = http_error("reviews", "500: Internal Server Error")
    transport = FakeTransport(responses(accounts=_root_data, reviews=failure))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [e.get("path") for e in state.errors] == [["users", "@"], ["topProducts", "@"], None]
    assert {e["extensions"]["code"] for e in state.errors} == {"SUBREQUEST_HTTP_ERROR"}
    assert state.covered == [("users", "@"), ("topProducts", "@"), ()]
    assert state.data == _root_data({})["data"]  # the accounts fetch's data is untouched
    assert len(transport.bodies("reviews")) == 1


@pytest.mark.anyio
async def test_a_part_whose_answer_is_malformed_fails_alone(supergraph: Supergraph) -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        result = _answer(body)
        result["data"]["e1"] = []
        return result

    transport = FakeTransport(responses(accounts=_root_data, reviews=answer))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [(e["extensions"]["code"], e.get("path")) for e in state.errors] == [
        ("SUBREQUEST_MALFORMED_RESPONSE", ["topProducts", "@"])
    ]
    assert state.data["users"][0]["reviews"] == [{"body": "by u1"}]
    assert "reviews" not in state.data["topProducts"][0]


@pytest.mark.anyio
async def test_an_answer_nulled_by_one_part_resends_the_others_alone(
    supergraph: Supergraph,
) -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if "r0" in body["variables"]:  # the merged request: the latest field fails, non-null
            return {"data": None, "errors": [{"message": "down", "path": ["latest"]}]}
        alone = [{"reviews": [{"body": "alone"}]} for _ in body["variables"]["representations"]]
        return {"data": {"_entities": alone}}

    transport = FakeTransport(responses(accounts=_root_data, reviews=answer))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [(e["message"], e.get("path")) for e in state.errors] == [("down", ["latest"])]
    sent = [body.get("operationName") for body in transport.bodies("reviews")]
    assert sent[0] == "Q__reviews__1" and sorted(sent[1:]) == ["Q__reviews__1", "Q__reviews__2"]
    assert transport.bodies("reviews")[1]["query"] in (
        USER_REVIEWS.operation,
        PRODUCT_REVIEWS.operation,
    )
    assert state.data["users"][0]["reviews"] == [{"body": "alone"}]
    assert "latest" not in state.data


@pytest.mark.anyio
async def test_a_part_with_no_objects_sends_an_empty_list_or_no_merge(
    supergraph: Supergraph,
) -> None:
    no_products = {"data": {"users": [{"__typename": "User", "id": "u1"}], "topProducts": []}}
    transport = FakeTransport(responses(accounts=no_products, reviews=_answer))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert state.errors == []
    [body] = transport.bodies("reviews")
    assert body["variables"]["r1"] == []
    assert state.data["users"][0]["reviews"] == [{"body": "by u1"}]

    only_users = QueryPlan(
        merge_fetches(
            QueryPlan(
                SequenceNode(
                    (
                        ROOT,
                        ParallelNode(
                            (
                                FlattenNode(("users", "@"), USER_REVIEWS),
                                FlattenNode(("topProducts", "@"), PRODUCT_REVIEWS),
                            )
                        ),
                    )
                )
            )
        ).node
    )
    single = {"data": {"_entities": [{"reviews": [{"body": "one"}]}]}}
    transport = FakeTransport(responses(accounts=no_products, reviews=single))
    state = await _executor(supergraph, transport).execute(only_users, {})
    [body] = transport.bodies("reviews")
    assert body["query"] == USER_REVIEWS.operation  # only one part had work: its own fetch
    assert state.data["users"][0]["reviews"] == [{"body": "one"}]


@pytest.mark.anyio
async def test_an_error_naming_no_part_is_reported_once_beside_data_and_by_each_part_without(
    supergraph: Supergraph,
) -> None:
    def with_data(body: dict[str, Any]) -> dict[str, Any]:
        return _answer(body) | {"errors": [{"message": "slow"}]}

    transport = FakeTransport(responses(accounts=_root_data, reviews=with_data))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [(e["message"], e.get("path")) for e in state.errors] == [("slow", None)]
    assert state.data["latest"] == [{"body": "new"}]

    failed = {"data": None, "errors": [{"message": "down"}]}
    transport = FakeTransport(responses(accounts=_root_data, reviews=failed))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [e["message"] for e in state.errors] == ["down", "down", "down"]
    assert sorted(state.covered) == [(), ("topProducts", "@"), ("users", "@")]
    # which part failed cannot be told: each was sent again alone, and each failed alone
    assert len(transport.bodies("reviews")) == 4


@pytest.mark.anyio
async def test_an_answer_failed_whole_without_path_is_resent_part_by_part(
    supergraph: Supergraph,
) -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        # the subgraph fails any request asking for product reviews, naming no path
        if "r1" in body["variables"] or "... on Product" in body["query"]:
            return {"data": None, "errors": [{"message": "products down"}]}
        if "r0" not in body["variables"] and "_entities" not in body["query"]:
            return {"data": {"latest": [{"body": "new"}]}}
        alone = [{"reviews": [{"body": "alone"}]} for _ in body["variables"]["representations"]]
        return {"data": {"_entities": alone}}

    transport = FakeTransport(responses(accounts=_root_data, reviews=answer))
    state = await _executor(supergraph, transport).execute(PLAN, {})
    assert [(e["message"], e.get("path")) for e in state.errors] == [("products down", None)]
    assert state.covered == [("topProducts", "@")]
    assert state.data["users"][0]["reviews"] == [{"body": "alone"}]
    assert state.data["latest"] == [{"body": "new"}]
    assert "reviews" not in state.data["topProducts"][0]
    assert len(transport.bodies("reviews")) == 4  # the merged request, then each part alone
