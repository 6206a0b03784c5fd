"""Issue 12, found 7, over real HTTP: a batch of N operations counts N, failed authentications
are throttled per client address, and forwarded addresses are believed from trusted proxies only
(so anonymous callers behind the load balancer do not share one bucket)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from gateway.assembly import assemble
from gateway.auth.cli import mint_token
from gateway.config import Settings, dev_settings
from gateway.serve import EDGE_OPTIONS
from tests.auth.harness import SUPERGRAPH, OpdWorld
from tests.http.servers import serve

QUERY = {"query": "{ provinsi { nama } }"}


@contextmanager
def gateway(opd_world: OpdWorld, tmp_path: Path, **limits: Any) -> Iterator[httpx.Client]:
    settings = dev_settings(Settings(), tmp_path)
    section = settings.rate_limit.model_copy(update=limits)
    settings = settings.model_copy(update={"rate_limit": section})
    assembly = assemble(
        settings, supergraph_sdl=SUPERGRAPH.read_text(), subgraph_urls=opd_world.urls
    )
    # as `jamajama gateway` serves it (uvicorn does not rewrite the client address)
    with (
        serve(assembly.app, **EDGE_OPTIONS) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def bearer(application: str) -> dict[str, str]:
    return {"authorization": f"Bearer {mint_token(application)}"}


def test_a_batch_of_n_operations_counts_n(opd_world: OpdWorld, tmp_path: Path) -> None:
    with gateway(opd_world, tmp_path, default_limit=4) as client:
        batch = client.post("/graphql", json=[QUERY] * 5, headers=bearer("developer"))
        assert batch.status_code == 429
        assert batch.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "4 operations per window" in batch.json()["errors"][0]["message"]
        assert 1 <= int(batch.headers["retry-after"]) <= 60
        # the refused batch used the window up: one operation more is refused too
        assert client.post("/graphql", json=QUERY, headers=bearer("developer")).status_code == 429
        other = client.post("/graphql", json=[QUERY] * 3, headers=bearer("sibansos"))
        assert other.status_code == 200 and len(other.json()) == 3
        assert client.post("/graphql", json=QUERY, headers=bearer("sibansos")).status_code == 200
        assert client.post("/graphql", json=QUERY, headers=bearer("sibansos")).status_code == 429


def test_failed_authentications_are_throttled_per_address(
    opd_world: OpdWorld, tmp_path: Path
) -> None:
    proxy = {"trusted_proxies": ["127.0.0.1/32"], "failed_auth_limit": 3}
    with gateway(opd_world, tmp_path, **proxy) as client:
        guesser = {"x-forwarded-for": "203.0.113.7"}
        wrong = {**guesser, "authorization": "Bearer nope"}
        statuses = [
            client.post("/graphql", json=QUERY, headers=wrong).status_code for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        # a right guess from the same address is refused too, until the window ends
        right = client.post("/graphql", json=QUERY, headers={**guesser, **bearer("sibansos")})
        assert right.status_code == 429
        assert "failed authentications" in right.json()["errors"][0]["message"]
        assert 1 <= int(right.headers["retry-after"]) <= 60
        # another address is not affected
        elsewhere = {"x-forwarded-for": "203.0.113.8", **bearer("sibansos")}
        assert client.post("/graphql", json=QUERY, headers=elsewhere).status_code == 200


def test_forwarded_addresses_are_believed_from_trusted_proxies_only(
    opd_world: OpdWorld, tmp_path: Path
) -> None:
    def anonymous(client: httpx.Client, forwarded: str) -> int:
        headers = {"x-forwarded-for": forwarded}
        return client.post("/graphql", json=QUERY, headers=headers).status_code

    with gateway(opd_world, tmp_path, anonymous_limit=1, trusted_proxies=["127.0.0.0/8"]) as client:
        # behind the proxy, each anonymous caller has its own bucket
        assert anonymous(client, "198.51.100.1") == 200
        assert anonymous(client, "198.51.100.2") == 200
        assert anonymous(client, "198.51.100.1") == 429
        # an address the client wrote left of the proxy's does not buy a fresh bucket
        assert anonymous(client, "192.0.2.99, 198.51.100.2") == 429
    with gateway(opd_world, tmp_path / "untrusted", anonymous_limit=1) as client:
        # no trusted proxy: the header is the caller's word and is ignored
        assert anonymous(client, "198.51.100.1") == 200
        assert anonymous(client, "198.51.100.2") == 429
