"""Gateway (gateway/engine.py): the request pipeline with a fake planner and a fake transport."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from gateway.engine import Gateway, GraphQLRequest
from gateway.planner.plan import FetchNode, QueryPlan
from gateway.supergraph import Supergraph
from tests.executor.fakes import FakeTransport, responses


class FakePlanner:
    """Returns a fixed plan and records each call's operation name and override labels."""

    def __init__(self, plan: QueryPlan | Exception) -> None:
        self.plan = plan
        self.calls: list[tuple[str | None, frozenset[str]]] = []

    def __call__(
        self,
        supergraph: Supergraph,
        document: Any,
        operation_name: str | None = None,
        *,
        override_labels: frozenset[str] = frozenset(),
    ) -> QueryPlan:
        self.calls.append((operation_name, override_labels))
        if isinstance(self.plan, Exception):
            raise self.plan
        return self.plan


ME_PLAN = QueryPlan(
    FetchNode("accounts", "query($n: Int) { me { id name } }", variable_usages=("n",))
)


def _gateway(
    supergraph: Supergraph, planner: FakePlanner, transport: FakeTransport, **options: Any
) -> Gateway:
    return Gateway(supergraph, transport=transport, planner=planner, **options)


@pytest.mark.anyio
async def test_execute_plans_fetches_and_shapes(supergraph: Supergraph) -> None:
    answer = {"data": {"me": {"id": "1", "name": "Ada"}, "topProducts": []}}
    transport = FakeTransport(responses(accounts=answer))
    planner = FakePlanner(ME_PLAN)
    gateway = _gateway(supergraph, planner, transport)
    query = "query Me($n: Int = 7) { me { name } topProducts(first: $n) { upc } }"
    expected = {"data": {"me": {"name": "Ada"}, "topProducts": []}}
    assert await gateway.execute(query) == expected
    assert await gateway.execute(query, operation_name="Me") == expected
    # coerced variables (with defaults) are what the subgraph receives
    assert transport.requests[0][2]["variables"] == {"n": 7}
    # one plan per (query, operation name, labels)
    assert planner.calls == [("Me", frozenset()), ("Me", frozenset())]
    await gateway.execute(query)
    assert len(planner.calls) == 2


@pytest.mark.anyio
async def test_errors_come_before_data(supergraph: Supergraph) -> None:
    transport = FakeTransport(
        responses(accounts={"data": {"me": None}, "errors": [{"message": "no", "path": ["me"]}]})
    )
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), transport)
    response = await gateway.execute("{ me { name } }")
    assert list(response) == ["errors", "data"]
    assert response == {
        "errors": [
            {
                "message": "no",
                "path": ["me"],
                "extensions": {"serviceName": "accounts", "code": "DOWNSTREAM_SERVICE_ERROR"},
            }
        ],
        "data": {"me": None},
    }


@pytest.mark.anyio
async def test_parse_failure_is_coded_and_not_executed(supergraph: Supergraph) -> None:
    planner = FakePlanner(ME_PLAN)
    gateway = _gateway(supergraph, planner, FakeTransport(responses()))
    result = await gateway.process(GraphQLRequest("{ me { "))
    assert not result.executed
    assert result.response == {
        "errors": [
            {
                "message": "Syntax Error: Expected Name, found <EOF>.",
                "locations": [{"line": 1, "column": 8}],
                "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
            }
        ]
    }
    assert planner.calls == []


@pytest.mark.anyio
async def test_validation_failure_uses_graphql_js_wording_and_locations(
    supergraph: Supergraph,
) -> None:
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), FakeTransport(responses()))
    result = await gateway.process(GraphQLRequest("{\n  me { nme }\n}"))
    assert not result.executed
    assert result.response == {
        "errors": [
            {
                "message": 'Cannot query field "nme" on type "User". Did you mean "name"?',
                "locations": [{"line": 2, "column": 8}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "name", "message"),
    [
        (
            "query A { me { id } } query B { me { id } }",
            None,
            "Must provide operation name if query contains multiple operations.",
        ),
        ("query A { me { id } }", "C", 'Unknown operation named "C".'),
    ],
)
async def test_operation_selection_errors(
    supergraph: Supergraph, query: str, name: str | None, message: str
) -> None:
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), FakeTransport(responses()))
    result = await gateway.process(GraphQLRequest(query, operation_name=name))
    assert not result.executed
    assert result.response == {
        "errors": [{"message": message, "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"}}]
    }


@pytest.mark.anyio
async def test_bad_variables_are_bad_user_input(supergraph: Supergraph) -> None:
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), FakeTransport(responses()))
    result = await gateway.process(
        GraphQLRequest(
            "mutation($id: ID!, $name: String!) { rename(id: $id, name: $name) { id } }",
            {"name": 3},
        )
    )
    assert not result.executed
    errors = result.response["errors"]
    assert [error["extensions"] for error in errors] == [{"code": "BAD_USER_INPUT"}] * 2
    assert errors[0]["message"] == 'Variable "$id" of required type "ID!" was not provided.'
    assert errors[0]["locations"] == [{"line": 1, "column": 10}]


@pytest.mark.anyio
async def test_introspection_only_needs_no_plan(supergraph: Supergraph) -> None:
    planner = FakePlanner(RuntimeError("must not plan"))
    transport = FakeTransport(responses())
    gateway = _gateway(supergraph, planner, transport)
    response = await gateway.execute("{ __typename __schema { queryType { name } } }")
    assert response == {
        "data": {"__typename": "Query", "__schema": {"queryType": {"name": "Query"}}}
    }
    assert planner.calls == []
    assert transport.requests == []


@pytest.mark.anyio
async def test_unexpected_failure_is_generic_internal_error(
    supergraph: Supergraph, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = _gateway(
        supergraph, FakePlanner(RuntimeError("secret detail")), FakeTransport(responses())
    )
    with caplog.at_level(logging.ERROR, logger="jamajama.gateway"):
        response = await gateway.execute("{ me { id } }")
    assert response == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
        "data": None,
    }
    assert "secret detail" in caplog.text


@pytest.mark.anyio
async def test_override_labels_percent_drawn_per_request_and_named_by_option(
    supergraph: Supergraph,
) -> None:
    labelled = dataclasses.replace(
        supergraph, override_labels=frozenset({"percent(25)", "beta", "gamma"})
    )
    draws = iter([10.0, 90.0, 24.99])
    planner = FakePlanner(ME_PLAN)
    transport = FakeTransport(responses(accounts={"data": {"me": {"name": "x"}}}))
    gateway = _gateway(
        labelled, planner, transport, override_labels={"beta"}, random_percent=lambda: next(draws)
    )
    for _ in range(3):
        await gateway.execute("{ me { name } }")
    assert [labels for _, labels in planner.calls] == [
        frozenset({"beta", "percent(25)"}),
        frozenset({"beta"}),
    ]


@pytest.mark.anyio
async def test_mutations_can_be_refused(supergraph: Supergraph) -> None:
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), FakeTransport(responses()))
    result = await gateway.process(
        GraphQLRequest(
            'mutation { rename(id: "1", name: "x") { id } }', allowed_operations={"query"}
        )
    )
    assert result.operation_not_allowed
    assert not result.executed
    assert result.response["errors"][0]["message"] == "Can only perform a query operation here."


@pytest.mark.anyio
async def test_documents_are_parsed_and_validated_once_per_query_text(
    supergraph: Supergraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.engine as engine_module

    parsed: list[str] = []
    real_parse = engine_module.parse

    def counting_parse(source: str) -> Any:
        parsed.append(source)
        return real_parse(source)

    monkeypatch.setattr(engine_module, "parse", counting_parse)
    gateway = _gateway(supergraph, FakePlanner(ME_PLAN), FakeTransport(responses()))
    for _ in range(3):
        await gateway.execute("{ __typename }")
        await gateway.execute("{ nope }")
    assert parsed == ["{ __typename }", "{ nope }"]


def test_lru_cache_evicts_least_recently_used() -> None:
    from gateway.engine import LruCache

    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2
