"""Persisted operations over real HTTP: automatic persisted queries and trusted documents, in
memory and in Redis (shared by two gateways)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.http.servers import running_gateway

QUERY = "query Me { me { id name } }"
QUERY_HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _apq(sha256: str, query: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if query is not None:
        body["query"] = query
    return body


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_apq_not_found_then_registered_then_served_by_hash() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        missing = client.post("/graphql", json=_apq(QUERY_HASH))
        assert missing.status_code == 200
        assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"
        strict = client.post(
            "/graphql",
            json=_apq(QUERY_HASH),
            headers={"accept": "application/graphql-response+json"},
        )
        assert strict.status_code == 400
        registered = client.post("/graphql", json=_apq(QUERY_HASH, QUERY))
        assert registered.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        by_hash = client.post("/graphql", json=_apq(QUERY_HASH))
        assert by_hash.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        by_get = client.get(
            "/graphql",
            params={"extensions": orjson.dumps(_apq(QUERY_HASH)["extensions"]).decode()},
            headers={"apollo-require-preflight": "1"},
        )
        assert by_get.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}


def test_apq_hash_mismatch_and_bad_extension() -> None:
    with running_gateway() as running, httpx.Client(base_url=running.url) as client:
        mismatch = client.post("/graphql", json=_apq("00" * 32, QUERY))
        assert mismatch.status_code == 200
        assert _code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"
        bad = client.post("/graphql", json={"extensions": {"persistedQuery": {"version": 2}}})
        assert bad.status_code == 400
        assert _code(bad) == "BAD_REQUEST"


def test_apq_can_be_switched_off() -> None:
    with (
        running_gateway(settings={"persisted_queries": {"apq": False}}) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        response = client.post("/graphql", json=_apq(QUERY_HASH, QUERY))
        assert _code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"


def _manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_bytes(
        orjson.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": QUERY_HASH, "name": "Me", "type": "query", "body": QUERY}],
            }
        )
    )
    return path


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_trusted_documents_enforced_for_an_application(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    prefix = request.getfixturevalue("redis_prefix") if backend == "redis" else "unused"
    settings = {
        "persisted_queries": {
            "backend": backend,
            "key_prefix": prefix,
            "trusted": {"anonymous": {"manifest": str(_manifest(tmp_path)), "mode": "enforce"}},
        }
    }
    with running_gateway(settings=settings) as running, httpx.Client(base_url=running.url) as c:
        by_id = c.post("/graphql", json={"documentId": f"sha256:{QUERY_HASH}"})
        assert by_id.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        by_hash = c.post("/graphql", json=_apq(QUERY_HASH))
        assert by_hash.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        same_text = c.post("/graphql", json={"query": QUERY})
        assert same_text.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        before = len(running.subgraph.requests)
        other = c.post("/graphql", json={"query": "{ me { id } }"})
        assert other.status_code == 403
        assert _code(other) == "QUERY_NOT_IN_SAFELIST"
        unknown = c.post("/graphql", json={"documentId": "sha256:" + "11" * 32})
        assert _code(unknown) == "PERSISTED_QUERY_NOT_IN_LIST"
        register = c.post(
            "/graphql", json=_apq(hashlib.sha256(b"{ me { id } }").hexdigest(), "{ me { id } }")
        )
        assert _code(register) == "PERSISTED_QUERY_NOT_IN_LIST"
        assert len(running.subgraph.requests) == before


def test_trusted_documents_in_allow_mode_let_other_queries_through(tmp_path: Path) -> None:
    settings = {
        "persisted_queries": {
            "trusted": {"anonymous": {"manifest": str(_manifest(tmp_path)), "mode": "allow"}}
        }
    }
    with running_gateway(settings=settings) as running, httpx.Client(base_url=running.url) as c:
        assert c.post("/graphql", json={"documentId": QUERY_HASH}).json()["data"]["me"]["id"] == "1"
        assert c.post("/graphql", json={"query": "{ me { id } }"}).json() == {
            "data": {"me": {"id": "1"}}
        }


@pytest.mark.redis
def test_redis_apq_is_shared_between_gateways(redis_prefix: str) -> None:
    settings = {
        "persisted_queries": {
            "backend": "redis",
            "key_prefix": redis_prefix,
            "redis_ttl_seconds": 60,
        }
    }
    with (
        running_gateway(settings=settings) as first,
        running_gateway(settings=settings) as second,
        httpx.Client() as client,
    ):
        registered = client.post(f"{first.url}/graphql", json=_apq(QUERY_HASH, QUERY))
        assert registered.json()["data"]["me"]["name"] == "Ada"
        served = client.post(f"{second.url}/graphql", json=_apq(QUERY_HASH))
        assert served.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}


@pytest.mark.redis
def test_redis_down_degrades_apq_to_not_found() -> None:
    settings = {"persisted_queries": {"backend": "redis", "redis_url": "redis://127.0.0.1:9/0"}}
    with running_gateway(settings=settings) as running, httpx.Client(base_url=running.url) as c:
        assert _code(c.post("/graphql", json=_apq(QUERY_HASH))) == "PERSISTED_QUERY_NOT_FOUND"
        full = c.post("/graphql", json=_apq(QUERY_HASH, QUERY))
        assert full.json()["data"]["me"]["name"] == "Ada"


def _guard(tmp_path: Path) -> Any:
    from gateway.auth.applications import create_registry
    from gateway.auth.guard import HttpGuard
    from gateway.config import Settings, dev_settings

    settings = dev_settings(Settings(), tmp_path)
    return HttpGuard(settings.auth, create_registry(settings.auth.applications))


def test_enforce_mode_applies_to_the_callers_application_only(tmp_path: Path) -> None:
    from gateway.auth.cli import mint_token

    settings = {
        "persisted_queries": {
            "trusted": {"sibansos": {"manifest": str(_manifest(tmp_path)), "mode": "enforce"}}
        }
    }
    sibansos = {"authorization": f"Bearer {mint_token('sibansos')}"}
    other = {"authorization": f"Bearer {mint_token('sehat-lampung')}"}
    with (
        running_gateway(settings=settings, guard=_guard(tmp_path)) as running,
        httpx.Client(base_url=running.url) as c,
    ):
        freeform = {"query": "{ me { id } }"}
        refused = c.post("/graphql", json=freeform, headers=sibansos)
        assert refused.status_code == 403
        assert _code(refused) == "QUERY_NOT_IN_SAFELIST"
        trusted = c.post("/graphql", json={"documentId": QUERY_HASH}, headers=sibansos)
        assert trusted.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
        assert c.post("/graphql", json=freeform, headers=other).json() == {
            "data": {"me": {"id": "1"}}
        }
        anonymous = c.post("/graphql", json=freeform)
        assert anonymous.json() == {"data": {"me": {"id": "1"}}}
        not_theirs = c.post("/graphql", json={"documentId": QUERY_HASH}, headers=other)
        assert _code(not_theirs) == "PERSISTED_QUERY_NOT_IN_LIST"
        plan_anonymous = c.post("/graphql/plan", json={"query": "{ me { id } }"})
        assert plan_anonymous.status_code == 401
        plan = c.post("/graphql/plan", json={"query": "{ me { id } }"}, headers=other)
        assert plan.status_code == 200
