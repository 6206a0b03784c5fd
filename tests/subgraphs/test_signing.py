"""The kit refuses /graphql requests not signed by the gateway when a signing key is set."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from gateway.executor.signing import RequestSigner
from subgraphs import load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.signing import KEYS_ENV
from subgraphs.kit.store import Store
from tests.http.servers import serve


def test_kit_answers_signed_requests_only(world_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, "old-key, new-key")
    store = Store(world_dir / "wilayah.sqlite3")
    try:
        with serve(build_app(load_subgraph("wilayah"), store)) as url, httpx.Client() as client:
            body = orjson.dumps({"query": "{ __typename }"})
            headers = {"content-type": "application/json"}
            unsigned = client.post(f"{url}/graphql", content=body, headers=headers)
            assert unsigned.status_code == 401
            assert unsigned.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            signed = RequestSigner("new-key")("wilayah", body)
            ok = client.post(f"{url}/graphql", content=body, headers={**headers, **signed})
            assert ok.json() == {"data": {"__typename": "Query"}}
            for_other = RequestSigner("new-key")("kesehatan", body)
            replayed = client.post(f"{url}/graphql", content=body, headers={**headers, **for_other})
            assert replayed.status_code == 401
            assert client.get(f"{url}/health").status_code == 200
    finally:
        store.close()


def test_kit_is_open_without_a_key(world_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEYS_ENV, raising=False)
    store = Store(world_dir / "wilayah.sqlite3")
    try:
        with serve(build_app(load_subgraph("wilayah"), store)) as url, httpx.Client() as client:
            ok = client.post(f"{url}/graphql", json={"query": "{ __typename }"})
            assert ok.json() == {"data": {"__typename": "Query"}}
    finally:
        store.close()
