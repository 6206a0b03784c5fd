"""The Starlette app (gateway/http/app.py): GraphQL over HTTP methods, media types, status codes."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.executor.fakes import FakeTransport

GRAPHQL_RESPONSE = "application/graphql-response+json"
PREFLIGHT = {"apollo-require-preflight": "true"}


@pytest.mark.anyio
async def test_post_executes_and_answers_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { name } }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"me": {"name": "Ada"}}}


@pytest.mark.anyio
async def test_post_honours_graphql_response_media_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "query Q { me { id } }", "operationName": "Q", "variables": None},
        headers={"accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"me": {"id": "1"}}}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "code"),
    [("{ me { ", "GRAPHQL_PARSE_FAILED"), ("{ me { nope } }", "GRAPHQL_VALIDATION_FAILED")],
)
@pytest.mark.parametrize(
    ("accept", "status"), [(None, 200), ("application/json", 200), (GRAPHQL_RESPONSE, 400)]
)
async def test_request_failing_before_execution_status_depends_on_media_type(
    client: httpx.AsyncClient, query: str, code: str, accept: str | None, status: int
) -> None:
    headers = {"accept": accept} if accept else {}
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["errors"]
    assert body["errors"][0]["extensions"] == {"code": code}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "the request body is not valid JSON"),
        (b"[1]", "application/json", "the request body must be a JSON object"),
        (b'{"variables": {}}', "application/json", "the request has no query"),
        (
            b'{"query": "{ me { id } }", "extensions": 1}',
            "application/json",
            "extensions must be a JSON object",
        ),
        (b'{"query": 3}', "application/json", "query must be a string"),
        (
            b'{"query": "{ me { id } }", "variables": [1]}',
            "application/json",
            "variables must be a JSON object",
        ),
        (
            b'{"query": "{ me { id } }", "operationName": 1}',
            "application/json",
            "operationName must be a string",
        ),
    ],
)
async def test_malformed_http_request_is_400_with_code(
    client: httpx.AsyncClient, content: bytes, content_type: str, message: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


@pytest.mark.anyio
async def test_get_runs_queries_with_url_parameters(
    client: httpx.AsyncClient, transport: FakeTransport
) -> None:
    response = await client.get(
        "/graphql",
        headers=PREFLIGHT,
        params={
            "query": "query Q($flag: Boolean!) { me { id name @include(if: $flag) } }",
            "variables": orjson.dumps({"flag": False}).decode(),
            "operationName": "Q",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"id": "1"}}}
    assert len(transport.requests) == 1


@pytest.mark.anyio
async def test_get_refuses_mutations_with_405(
    client: httpx.AsyncClient, transport: FakeTransport
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { rename(id: "1", name: "x") { id } }'},
        headers=PREFLIGHT,
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "Can only perform a query operation here."
    assert transport.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "the request has no query"),
        ({"query": "{ me { id } }", "variables": "{"}, "variables must be a JSON object"),
    ],
)
async def test_get_with_bad_parameters_is_400(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get("/graphql", params=params, headers=PREFLIGHT)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == message


@pytest.mark.anyio
async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    assert (await client.put("/graphql", json={"query": "{ me { id } }"})).status_code == 405


@pytest.mark.anyio
async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
