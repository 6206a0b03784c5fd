"""PostgreSQL and Redis unavailable under the replicas, through a proxy the test cuts.

The gateways reach both servers only through tests/cluster/proxy.py; cutting it resets every
connection and refuses new ones (the shared servers themselves are never touched). Each proof
checks the documented behaviour during the outage and recovery *without restart* after it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.cluster.harness import AGGREGATE, SIBANSOS_SCOPES, Cluster, personal_request, token
from tests.cluster.proxy import Proxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Proxy, Proxy]]:
    postgres, redis = Proxy(5432), Proxy(6379)
    running = Cluster(
        tmp_path_factory.mktemp("outages"),
        gateways=2,
        postgres_port=postgres.port,
        redis_port=redis.port,
        limited_app_limit=5,
    )
    try:
        running.start()
        yield running, postgres, redis
    finally:
        running.close()
        postgres.close()
        redis.close()


def _personal(url: str, nik: str) -> dict[str, object]:
    body, headers = personal_request(nik)
    answer: dict[str, object] = httpx.post(
        f"{url}/graphql", json=body, headers=headers, timeout=15
    ).json()
    return answer


def _codes(answer: dict[str, object]) -> set[str]:
    errors = answer.get("errors") or []
    assert isinstance(errors, list)
    return {e.get("extensions", {}).get("code") for e in errors}


def _until(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.5)
    return False


def _aggregate(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": AGGREGATE}, headers=headers, timeout=15)


def test_postgres_down_withholds_personal_data_with_a_code_and_recovers(
    proxied: tuple[Cluster, Proxy, Proxy],
) -> None:
    cluster, postgres, _ = proxied
    nik = cluster.niks(1)[0]
    urls = [r.url for r in cluster.replicas]
    assert all((_personal(url, nik).get("data") or {}).get("penduduk") for url in urls)
    postgres.cut()
    try:
        for url in urls:
            started = time.monotonic()
            answer = _personal(url, nik)
            assert time.monotonic() - started < 10, "a personal request hung on the dead store"
            data = answer.get("data")
            assert not (isinstance(data, dict) and data.get("penduduk")), answer
            # the application registry shares the database: it answers first (nobody is guessed)
            assert _codes(answer) & {"AUDIT_UNAVAILABLE", "APPLICATION_REGISTRY_UNAVAILABLE"}, (
                answer
            )
            anonymous = _aggregate(url, {})
            assert anonymous.json()["data"]["provinsi"]["nama"], anonymous.text
    finally:
        postgres.restore()
    for url in urls:  # no restart: the next requests find the store again
        recovered = _until(
            lambda url=url: bool((_personal(url, nik).get("data") or {}).get("penduduk")), 20
        )
        assert recovered, (_personal(url, nik), cluster.replicas[0].tail(20))
    code, report = cluster.audit_verify()
    assert code == 0 and report["problems"] == [], report


def test_postgres_down_still_serves_aggregates_to_authenticated_applications(
    proxied: tuple[Cluster, Proxy, Proxy],
) -> None:
    cluster, postgres, _ = proxied
    headers = {"authorization": f"Bearer {token('sibansos', SIBANSOS_SCOPES)}"}
    url = cluster.replicas[0].url
    assert _aggregate(url, headers).status_code == 200
    postgres.cut()
    try:
        answer = _aggregate(url, headers)
        # known from its last read, without purposes: never personal data during the outage
        personal = _personal(url, cluster.niks(1)[0])
    finally:
        postgres.restore()
    assert answer.status_code == 200 and answer.json()["data"]["provinsi"]["nama"], answer.text
    data = personal.get("data")
    assert not (isinstance(data, dict) and data.get("penduduk")), personal


def test_the_first_request_after_postgres_returns_is_served(
    proxied: tuple[Cluster, Proxy, Proxy],
) -> None:
    cluster, postgres, _ = proxied
    headers = {"authorization": f"Bearer {token('sibansos', SIBANSOS_SCOPES)}"}
    urls = [r.url for r in cluster.replicas]
    for url in urls:  # every replica holds a working connection
        _until(lambda url=url: _aggregate(url, headers).status_code == 200, 10)
    postgres.cut()
    time.sleep(1.0)
    postgres.restore()
    statuses = [_aggregate(url, headers).status_code for url in urls]
    assert statuses == [200] * len(urls), statuses


def test_redis_down_rate_limits_fail_open_with_a_log_line_and_recover(
    proxied: tuple[Cluster, Proxy, Proxy],
) -> None:
    cluster, _, redis = proxied
    urls = [r.url for r in cluster.replicas]
    headers = {"authorization": f"Bearer {token('limited', SIBANSOS_SCOPES)}"}

    bodies: list[str] = []

    def status(url: str) -> int:
        response = _aggregate(url, headers)
        if response.status_code != 200:
            bodies.append(response.text)
        return response.status_code

    for url in urls:  # connections the PostgreSQL tests cut are replaced first (see above)
        _until(lambda url=url: _aggregate(url, {}).status_code == 200 and status(url) == 200, 10)
    bodies.clear()
    redis.cut()
    try:
        during = [status(urls[n % 2]) for n in range(cluster.limited_app_limit * 2)]
        assert during == [200] * len(during), (during, bodies)  # fail open: admitted
    finally:
        redis.restore()
    logs = "\n".join(r.log.read_text(errors="replace") for r in cluster.replicas).lower()
    assert "redis" in logs and "warning" in logs
    # recovery without restart: the shared limit counts again
    assert _until(
        lambda: 429 in [status(urls[n % 2]) for n in range(cluster.limited_app_limit + 1)], 20
    )
