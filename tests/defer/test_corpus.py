"""Deferred operations against corpus subgraphs: our multipart bytes equal Hive Gateway 2.15.1's
(JavaScript planner), recorded by ``python -m tests.defer.record`` into ``cases/`` (README.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.http.app import create_app
from tests.defer.multipart import parts_of
from tests.defer.record import CASES, case_of
from tests.federation.corpus import corpus_gateway, discover_cases, serve_case
from tests.federation.subgraph_server import SubgraphHost

pytestmark = pytest.mark.anyio
OPERATIONS = sorted(CASES.glob("*.graphql"))
#: cases whose deferred parts race (sibling fragments): compared part by part, in any order
RACING = frozenset({"siblings"})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def host() -> Iterator[SubgraphHost]:
    with SubgraphHost() as subgraph_host:
        yield subgraph_host


def _recorded(operation: Path) -> tuple[str, bytes]:
    """Hive's answer, or the corrected one where Hive is wrong (cases/README.md)."""
    corrected = operation.with_suffix(".corrected.txt")
    source = corrected if corrected.exists() else operation.with_suffix(".hive.txt")
    head, _, body = source.read_bytes().partition(b"\n\n")
    return head.decode().removeprefix("content-type: "), body


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda p: p.stem)
async def test_multipart_bytes_equal_hive(host: SubgraphHost, operation: Path) -> None:
    (case,) = discover_cases([case_of(operation)])
    content_type, expected = _recorded(operation)
    with serve_case(host, case) as running:
        gateway = corpus_gateway(case, running.urls)
        app = create_app(gateway)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
            response = await client.post(
                "/graphql",
                json={"query": operation.read_text()},
                headers={"accept": "multipart/mixed"},
            )
        await gateway.aclose()
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    if operation.stem in RACING:
        _assert_same_parts_in_any_order(response, expected)
    else:
        assert response.content == expected


def _assert_same_parts_in_any_order(response: httpx.Response, expected: bytes) -> None:
    """Sibling fragments' parts go out in the order their fetches finish, in Hive as in ours:
    the same primary part, the same deferred parts (one per fragment), ``hasNext`` false last."""
    ours = parts_of(response)
    hive = parts_of(httpx.Response(200, headers=response.headers, content=expected))
    assert ours[0] == hive[0]
    assert [p["hasNext"] for p in ours] == [p["hasNext"] for p in hive]
    assert sorted(orjson.dumps(p["incremental"]) for p in ours[1:]) == sorted(
        orjson.dumps(p["incremental"]) for p in hive[1:]
    )
