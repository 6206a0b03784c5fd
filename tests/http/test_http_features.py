"""GraphQL over HTTP features over real HTTP: batching, CORS, CSRF with headers, request ids,
error masking, GraphiQL page and plan endpoint, health and readiness."""

from __future__ import annotations

import io
import logging
from typing import Any

import httpx
import orjson

from gateway.observability.logs import JsonFormatter
from tests.http.servers import running_gateway

PREFLIGHT = {"apollo-require-preflight": "true"}


def test_batch_runs_every_operation_and_answers_an_array() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        response = client.post(
            "/graphql",
            json=[
                {"query": "{ me { id } }"},
                {"query": "query Q { me { name } }", "operationName": "Q"},
                {"query": "{ nope }"},
            ],
        )
        assert response.status_code == 200
        first, second, third = response.json()
        assert first == {"data": {"me": {"id": "1"}}}
        assert second == {"data": {"me": {"name": "Ada"}}}
        assert third["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_batching_can_be_switched_off() -> None:
    with (
        running_gateway(settings={"http": {"max_batch": 0}}) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        response = client.post("/graphql", json=[{"query": "{ me { id } }"}])
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_NOT_ENABLED"


def test_get_with_preflight_header_runs_queries() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        response = client.get(
            "/graphql", params={"query": "{ me { id } }"}, headers={"x-apollo-operation-name": "x"}
        )
        assert response.json() == {"data": {"me": {"id": "1"}}}
        mutation = client.get(
            "/graphql",
            params={"query": 'mutation { rename(id: "1", name: "x") { id } }'},
            headers=PREFLIGHT,
        )
        assert mutation.status_code == 405


def test_cors_is_closed_by_default_and_opens_for_configured_origins() -> None:
    preflight = {
        "origin": "https://portal.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization",
    }
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        closed = client.options("/graphql", headers=preflight)
        assert "access-control-allow-origin" not in closed.headers
        simple = client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"origin": preflight["origin"]}
        )
        assert "access-control-allow-origin" not in simple.headers
    settings = {"http": {"cors": {"allow_origins": ["https://portal.example"]}}}
    with (
        running_gateway(settings=settings) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        opened = client.options("/graphql", headers=preflight)
        assert opened.status_code == 200
        assert opened.headers["access-control-allow-origin"] == "https://portal.example"
        other = client.options("/graphql", headers={**preflight, "origin": "https://evil.example"})
        assert other.status_code == 400


def test_request_id_is_echoed_or_generated() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        given = client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"x-request-id": "abc-123"}
        )
        assert given.headers["x-request-id"] == "abc-123"
        bad = client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"x-request-id": "a b<script>"}
        )
        generated = bad.headers["x-request-id"]
        assert generated != "a b<script>" and len(generated) >= 16


def _subgraph_error(body: dict[str, Any]) -> Any:
    return {
        "data": {"me": None},
        "errors": [
            {
                "message": "NIK 1871010101010001 belongs to Siti",
                "path": ["me"],
                "extensions": {"code": "NOT_FOUND"},
            }
        ],
    }


def test_subgraph_error_details_are_redacted_unless_configured() -> None:
    with running_gateway(_subgraph_error) as running, httpx.Client(base_url=running.url) as c:
        errors = c.post("/graphql", json={"query": "{ me { id } }"}).json()["errors"]
        assert errors == [
            {
                "message": "Subgraph errors redacted",
                "path": ["me"],
                "extensions": {"code": "NOT_FOUND", "serviceName": "accounts"},
            }
        ]
    settings = {"http": {"subgraph_errors": "pass"}}
    with (
        running_gateway(_subgraph_error, settings) as running,
        httpx.Client(base_url=running.url) as c,
    ):
        errors = c.post("/graphql", json={"query": "{ me { id } }"}).json()["errors"]
        assert errors[0]["message"] == "NIK 1871010101010001 belongs to Siti"


def test_internal_errors_are_masked_with_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("jamajama").addHandler(handler)
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        original = running.gateway._executor.execute

        async def failing(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret detail: /var/lib/jamajama/db.sqlite3")

        running.gateway._executor.execute = failing
        try:
            response = client.post(
                "/graphql", json={"query": "{ me { id } }"}, headers={"x-request-id": "req-42"}
            )
        finally:
            running.gateway._executor.execute = original
        body = response.json()
        assert body["errors"] == [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"},
            }
        ]
        assert "secret detail" not in response.text
    logging.getLogger("jamajama").removeHandler(handler)
    logged = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(entry for entry in logged if entry.get("exception") == "RuntimeError")
    assert failure["request_id"] == "req-42"
    assert "secret detail" in failure["traceback"]


def test_graphiql_page_for_browsers_and_switch_off() -> None:
    html = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        page = client.get("/graphql", headers=html)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert client.get("/graphiql/graphiql.js").status_code == 200
        assert client.get("/graphiql/../app.py").status_code == 404
        plan = client.post("/graphql/plan", json={"query": "{ me { id name } }"})
        assert plan.status_code == 200
        assert 'Fetch(service: "accounts")' in plan.json()["plan"]
        invalid = client.post("/graphql/plan", json={"query": "{ nope }"})
        assert invalid.status_code == 400
    with (
        running_gateway(settings={"http": {"graphiql": False}}) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        page = client.get("/graphql", headers=html)
        assert page.status_code == 400  # a GET without a query (and no CSRF header)
        assert client.post("/graphql/plan", json={"query": "{ me { id } }"}).status_code == 404
        assert client.get("/graphiql/graphiql.js").status_code == 404


def test_ready_needs_reachable_subgraphs() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "supergraph": True,
            "subgraphs": {"accounts": "up", "products": "up", "reviews": "up"},
        }
        running.gateway.subgraph_urls["reviews"] = "http://127.0.0.1:9/graphql"
        # readiness keeps results for a while, but a changed set of URLs is probed again
        down = client.get("/ready")
        assert down.status_code == 503
        assert down.json()["subgraphs"]["reviews"].startswith("unreachable")


def test_a_subgraph_http_failure_is_redacted_like_its_graphql_errors() -> None:
    # issue 14, finding 4: the transport's status text reached clients past the redaction
    with running_gateway(lambda body: 502) as running, httpx.Client(base_url=running.url) as c:
        errors = c.post("/graphql", json={"query": "{ me { id } }"}).json()["errors"]
        assert errors == [
            {
                "message": "Subgraph errors redacted",
                "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "service": "accounts"},
            }
        ]
    settings = {"http": {"subgraph_errors": "pass"}}
    with (
        running_gateway(lambda body: 502, settings) as running,
        httpx.Client(base_url=running.url) as c,
    ):
        errors = c.post("/graphql", json={"query": "{ me { id } }"}).json()["errors"]
        assert errors[0]["message"] == "HTTP fetch failed from 'accounts': 502: Bad Gateway"
