"""The kit refuses /graphql requests not signed by the gateway (v2: method, path, query string,
body digest, timestamp, subgraph and nonce), and a signature used twice (replay cache)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from yarl import URL

from gateway.executor.signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RequestSigner,
    SignedRequest,
    Verified,
    signature,
    verify,
)
from subgraphs import load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.signing import KEYS_ENV, ReplayCache
from subgraphs.kit.store import Store
from tests.http.servers import serve

JSON = {"content-type": "application/json"}


@pytest.fixture
def kependudukan(world_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(KEYS_ENV, "old-key, new-key")
    store = Store(world_dir / "kependudukan.sqlite3")
    try:
        with serve(build_app(load_subgraph("kependudukan"), store)) as url:
            yield url
    finally:
        store.close()


def two_niks(world_dir: Path) -> list[str]:
    conn = sqlite3.connect(world_dir / "kependudukan.sqlite3")
    try:
        return [row[0] for row in conn.execute("SELECT nik FROM penduduk ORDER BY nik LIMIT 2")]
    finally:
        conn.close()


def lookup(nik: str) -> bytes:
    return orjson.dumps({"query": f'{{ penduduk(nik: "{nik}") {{ nama }} }}'})


def test_kit_answers_signed_requests_only(kependudukan: str) -> None:
    url = f"{kependudukan}/graphql"
    body = orjson.dumps({"query": "{ __typename }"})
    with httpx.Client() as client:
        unsigned = client.post(url, content=body, headers=JSON)
        assert unsigned.status_code == 401
        assert unsigned.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        signed = RequestSigner("new-key")("kependudukan", url, body)
        assert signed[SIGNATURE_HEADER].startswith("v2=")
        ok = client.post(url, content=body, headers={**JSON, **signed})
        assert ok.json() == {"data": {"__typename": "Query"}}
        for_other = RequestSigner("new-key")("kesehatan", url, body)
        replayed = client.post(url, content=body, headers={**JSON, **for_other})
        assert replayed.status_code == 401
        assert client.get(f"{kependudukan}/health").status_code == 200


def test_a_signature_is_accepted_once(kependudukan: str, world_dir: Path) -> None:
    url = f"{kependudukan}/graphql"
    body = lookup(two_niks(world_dir)[0])
    signed = RequestSigner("old-key")("kependudukan", url, body)
    with httpx.Client() as client:
        first = client.post(url, content=body, headers={**JSON, **signed})
        assert first.status_code == 200 and first.json()["data"]["penduduk"]["nama"]
        again = client.post(url, content=body, headers={**JSON, **signed})
    assert again.status_code == 401
    assert again.json()["errors"][0]["message"].startswith("the signature was already used")


def test_a_captured_signature_cannot_be_replayed_as_a_get_with_another_query(
    kependudukan: str, world_dir: Path
) -> None:
    """Issue 12, found 4: the v1 signature covered the body only, and GET reads the query string."""
    mine, theirs = two_niks(world_dir)
    url = f"{kependudukan}/graphql"
    body = lookup(mine)
    captured = RequestSigner("new-key")("kependudukan", url, body)
    other = urlencode({"query": f'{{ penduduk(nik: "{theirs}") {{ nama }} }}'})
    with httpx.Client() as client:
        # not even sent first: the attacker re-aims the captured request before it is used
        response = client.request(
            "GET", f"{url}?{other}", content=body, headers={**JSON, **captured}
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"].startswith("the signature does not match")
        # nor to the same query with a query string added (the path and query are signed)
        re_aimed = client.post(f"{url}?x=1", content=body, headers={**JSON, **captured})
        assert re_aimed.status_code == 401
        # the genuine request still passes once
        assert client.post(url, content=body, headers={**JSON, **captured}).status_code == 200


def test_a_get_signed_the_same_way_is_answered(kependudukan: str, world_dir: Path) -> None:
    query = urlencode({"query": f'{{ penduduk(nik: "{two_niks(world_dir)[1]}") {{ nama }} }}'})
    url = str(URL(f"{kependudukan}/graphql?{query}"))  # as aiohttp would send it
    signed = RequestSigner("new-key")("kependudukan", url, b"", method="GET")
    with httpx.Client() as client:
        response = client.get(url, headers=signed)
        assert response.status_code == 200 and response.json()["data"]["penduduk"]["nama"]
        assert client.get(url).status_code == 401


def test_verify_binds_every_part_of_the_request() -> None:
    url = "http://opd.example/graphql"
    body = b'{"query":"{ me { id } }"}'
    headers = RequestSigner("k")("accounts", url, body)
    parts = {
        "method": "POST",
        "path": "/graphql",
        "query": "",
        "body": body,
        "subgraph": "accounts",
    }
    assert isinstance(verify([b"k"], headers, **parts), Verified)  # type: ignore[arg-type]
    for name, value in [
        ("method", "GET"),
        ("path", "/graphql/"),
        ("query", "a=1"),
        ("body", body + b" "),
        ("subgraph", "products"),
    ]:
        changed = {**parts, name: value}
        assert verify([b"k"], headers, **changed) == "the signature does not match"  # type: ignore[arg-type]
    assert verify([b"x"], headers, **parts) == "the signature does not match"  # type: ignore[arg-type]
    other_nonce = {**headers, NONCE_HEADER: "0" * 32}
    assert verify([b"k"], other_nonce, **parts) == "the signature does not match"  # type: ignore[arg-type]
    late = float(headers[TIMESTAMP_HEADER]) + 61
    assert verify([b"k"], headers, now=late, **parts) == "the signature has expired"  # type: ignore[arg-type]
    assert verify([b"k"], {}, **parts) == "the request is not signed by the gateway"  # type: ignore[arg-type]
    request = SignedRequest("POST", "/graphql", "", body, headers[TIMESTAMP_HEADER], "accounts", "")
    v1_like = {TIMESTAMP_HEADER: headers[TIMESTAMP_HEADER], SIGNATURE_HEADER: "v1=00"}
    assert verify([b"k"], v1_like, **parts) == "the signature is not version v2"  # type: ignore[arg-type]
    no_nonce = {**headers, SIGNATURE_HEADER: signature(b"k", request)}
    del no_nonce[NONCE_HEADER]
    assert verify([b"k"], no_nonce, **parts) == "the signature has no nonce"  # type: ignore[arg-type]


def test_the_replay_cache_is_bounded_and_never_accepts_a_forgotten_nonce() -> None:
    cache = ReplayCache(tolerance=60, capacity=3)
    now = 1_000_000.0
    for n in range(3):
        assert cache.admit(f"n{n}", int(now) + n, now + n) is None
    assert cache.admit("n1", int(now) + 1, now + 3) == "the signature was already used (replay)"
    # full: the oldest (n0) is forgotten, and nothing as old as it is accepted any more
    assert cache.admit("n3", int(now) + 3, now + 3) is None
    assert len(cache) == 3
    assert cache.admit("n0", int(now), now + 3) is not None
    assert cache.admit("fresh-but-old", int(now), now + 3) is not None
    for n in range(4, 1000):  # a flood stays within the capacity
        cache.admit(f"n{n}", int(now) + n, now + n)
        assert len(cache) <= 3
    # nonces leave the cache when their timestamp leaves the window
    quiet = ReplayCache(tolerance=60, capacity=100)
    for n in range(50):
        assert quiet.admit(f"q{n}", int(now), now) is None
    assert quiet.admit("later", int(now) + 120, now + 120) is None
    assert len(quiet) == 1
