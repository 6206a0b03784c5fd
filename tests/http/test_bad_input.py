"""The bad-input suite, over real HTTP against a `jamajama gateway` process: each bad request
gets its coded error, no work is done beyond the limits, the process stays healthy and its
memory bounded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.http.servers import FakeSubgraph, gateway_process, me_answer, rss_kib, serve

GRAPHQL_RESPONSE = "application/graphql-response+json"
CONFIG = """
[http]
max_body_bytes = 65536
max_batch = 3

[limits]
max_query_length = 20000
max_tokens = 2000
max_depth = 6
max_aliases = 5
max_root_fields = 4
max_directives = 5

[persisted_queries]
memory_chars = 2000000
"""


@pytest.fixture(scope="module")
def subgraph() -> Iterator[FakeSubgraph]:
    fake = FakeSubgraph(me_answer)
    with serve(fake.app()) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture(scope="module")
def gateway(
    subgraph: FakeSubgraph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    with gateway_process(CONFIG, tmp_path_factory.mktemp("bad"), subgraph.url) as running:  # type: ignore[attr-defined]
        yield running


@pytest.fixture
def client(gateway: tuple[str, int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway[0], timeout=30) as http:
        yield http


def _code(response: httpx.Response) -> str:
    body = response.json()
    errors = body["errors"] if isinstance(body, dict) else body[0]["errors"]
    return str(errors[0]["extensions"]["code"])


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _nested(depth: int) -> str:
    return "{ me " * depth + "{ id }" + " }" * depth


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "BAD_REQUEST"),
        (b'"just a string"', "application/json", 400, "BAD_REQUEST"),
        (b"[]", "application/json", 400, "BAD_REQUEST"),
        (b'{"query": 3}', "application/json", 400, "BAD_REQUEST"),
        (b'{"query": "{ me { id } }"}', "text/plain", 400, "CSRF_ERROR"),
        (b"query=%7B%20me%20%7D", "application/x-www-form-urlencoded", 400, "CSRF_ERROR"),
        (b"<query/>", "application/xml", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b"\xff\xfe\x00garbage", "application/json", 400, "BAD_REQUEST"),
    ],
)
def test_malformed_requests_get_coded_errors(
    client: httpx.Client, content: bytes, content_type: str, status: int, code: str
) -> None:
    response = client.post("/graphql", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert _code(response) == code


def test_oversized_body_is_413_declared_or_streamed(client: httpx.Client) -> None:
    big = b'{"query": "{ me { id } }", "variables": {"x": "' + b"a" * 70_000 + b'"}}'
    declared = client.post("/graphql", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert _code(declared) == "REQUEST_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no content-length: chunked transfer encoding
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { id } }" + " " * 20_001, "MAX_LENGTH_LIMIT"),
        ("{ me { " + "id " * 2500 + "} }", "MAX_TOKENS_LIMIT"),
        (_nested(7), "MAX_DEPTH_LIMIT"),
        (_nested(600), "MAX_DEPTH_LIMIT"),  # deeper than the parser can recurse
        ("{ me { " + " ".join(f"a{i}: id" for i in range(6)) + " } }", "MAX_ALIASES_LIMIT"),
        ("{ " + " ".join(f"m{i}: me {{ id }}" for i in range(6)) + " }", "MAX_ALIASES_LIMIT"),
        (
            "{ me { id } users { id } maybeUsers { id } media { id } search { __typename } }",
            "MAX_ROOT_FIELDS_LIMIT",
        ),
        (
            "{ me { " + " ".join("id @include(if: true)" for _ in range(6)) + " } }",
            "MAX_DIRECTIVES_LIMIT",
        ),
        (
            "query { me { ...A } } fragment A on User { ...B ...B } "
            "fragment B on User { a1: id a2: id a3: id }",
            "MAX_ALIASES_LIMIT",
        ),
        ("{ me { ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_operations_over_limits_are_refused_before_execution(
    client: httpx.Client, subgraph: FakeSubgraph, query: str, code: str
) -> None:
    before = len(subgraph.requests)
    response = client.post("/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert _code(response) == code
    assert len(subgraph.requests) == before  # no subgraph was called


def test_limit_errors_are_200_with_legacy_json(client: httpx.Client) -> None:
    response = client.post("/graphql", json={"query": _nested(7)})
    assert response.status_code == 200
    assert _code(response) == "MAX_DEPTH_LIMIT"


def test_unknown_persisted_hash_is_persisted_query_not_found(client: httpx.Client) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}
    response = client.post("/graphql", json={"extensions": extensions})
    assert response.status_code == 200
    assert _code(response) == "PERSISTED_QUERY_NOT_FOUND"
    get = client.get(
        "/graphql",
        params={"extensions": '{"persistedQuery": {"version": 1, "sha256Hash": "00"}}'},
        headers={"apollo-require-preflight": "1"},
    )
    assert _code(get) == "PERSISTED_QUERY_NOT_FOUND"


def test_batches_over_the_cap_are_refused(client: httpx.Client) -> None:
    batch = [{"query": "{ me { id } }"}] * 4
    response = client.post("/graphql", json=batch)
    assert response.status_code == 400
    assert _code(response) == "BATCH_LIMIT_EXCEEDED"


def test_get_without_preflight_header_is_csrf_error(client: httpx.Client) -> None:
    response = client.get("/graphql", params={"query": "{ me { id } }"})
    assert response.status_code == 400
    assert _code(response) == "CSRF_ERROR"


def test_process_stays_healthy_and_memory_bounded_under_a_flood(
    client: httpx.Client, gateway: tuple[str, int]
) -> None:
    """2,000 distinct bad documents (18,000 characters each, 36 MB) barely grow the process:
    failed long documents are not cached. Valid documents registered as APQ fill the caches up to
    their bounds (entries, ``memory_chars``); past that, more of them do not grow it."""
    _, pid = gateway
    pad = "x" * 18_000
    client.post("/graphql", json={"query": "{ nope } #" + pad})  # warm up
    before = rss_kib(pid)
    for i in range(2000):
        query = f"{{ nope{i} }} #{pad}" if i % 2 else f"{{ me {{ id }} }} {{ {i} #{pad}"
        response = client.post("/graphql", json={"query": query})
        assert response.status_code == 200
    grown = rss_kib(pid) - before
    assert grown < 25_000, f"RSS grew by {grown} KiB after bad documents"

    def register(start: int) -> None:  # valid documents registered as APQ
        for i in range(start, start + 1100):
            query = f"{{ me {{ id }} }} #{i}{pad}"
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": _sha256(query)}}
            response = client.post("/graphql", json={"query": query, "extensions": extensions})
            assert response.json() == {"data": {"me": {"id": "1"}}}

    register(0)  # fills the document and plan caches (1,024 entries) and the APQ store
    filled = rss_kib(pid)
    register(10_000)
    grown = rss_kib(pid) - filled
    assert grown < 12_000, f"RSS grew by {grown} KiB once the caches were full"
    assert client.get("/health").json() == {"status": "ok"}
    ok = client.post("/graphql", json={"query": "{ me { id name } }"})
    assert ok.json() == {"data": {"me": {"id": "1", "name": "Ada"}}}
