"""Proofs that the replicas behave as one system, on the real processes (tests/cluster/harness.py).

One cluster per module (three gateways, a registry, five subgraphs; this machine's PostgreSQL and
Redis). The tests run in file order: the destructive ones (a replica SIGKILLed, a subgraph killed)
come last, and each asserts only on what it changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.cluster.conftest import logs
from tests.cluster.harness import (
    ADMIN_TOKEN,
    AGGREGATE,
    POSTGRES_ADMIN_URL,
    SIBANSOS_SCOPES,
    Answer,
    Cluster,
    load,
    personal_request,
    token,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(300)]


def _urls(cluster: Cluster, replicas: list[int] | None = None) -> list[str]:
    chosen = range(len(cluster.replicas)) if replicas is None else replicas
    return [cluster.replicas[i].url for i in chosen]


def _answered_personal(answers: list[Answer]) -> list[Answer]:
    return [a for a in answers if _has_personal(a)]


def _has_personal(answer: Answer) -> bool:
    return answer.status == 200 and bool(answer.data and answer.data.get("penduduk"))


def _personal_load(cluster: Cluster, count: int, replicas: list[int] | None = None) -> list[Answer]:
    niks = cluster.niks(10)
    requests = (personal_request(nik) for nik in itertools.cycle(niks))
    return asyncio.run(load(_urls(cluster, replicas), requests, count=count, concurrency=9))


def _assert_chain_clean(cluster: Cluster) -> list[int]:
    code, report = cluster.audit_verify()
    assert code == 0 and report["problems"] == [], report
    seqs = [r["seq"] for r in cluster.audit_records()]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap (and seq is the primary key: no fork)
    return seqs


def test_every_replica_writes_one_audit_chain(cluster: Cluster) -> None:
    answers = _personal_load(cluster, 150)
    answered = _answered_personal(answers)
    assert len(answered) == 150, (answers[:3], logs(cluster))
    assert {a.replica for a in answered} == {0, 1, 2}
    seqs = _assert_chain_clean(cluster)
    records = cluster.audit_records()
    assert len(seqs) >= 150
    recorded = {r.get("request_id") for r in records}
    assert not [a.request_id for a in answered if a.request_id not in recorded]
    # one chain: each record's prev_hash is the hash of the one before, whoever wrote it
    _, report = cluster.audit_verify()
    assert report["records"] == len(records) and report["checkpoints"] >= 1


def test_backup_restore_drill_keeps_the_chain_verifiable(cluster: Cluster, tmp_path: Path) -> None:
    """docs/deployment.md's drill: pg_dump the database, restore elsewhere, verify there."""
    dump = tmp_path / "audit.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", cluster.database_url],
        check=True,
        capture_output=True,
        timeout=60,
    )
    restored = f"{cluster.database}_restore"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:
        url = cluster.database_url.replace(cluster.database, restored)
        restore = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={url}", str(dump)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert restore.returncode == 0, restore.stderr
        original = cluster.audit_verify()
        code, report = cluster.audit_verify({"JAMAJAMA_AUDIT__POSTGRES_URL": url})
        assert code == 0 and report["problems"] == [], report
        assert report["records"] == original[1]["records"]  # nothing lost in the copy
        assert report["head"] and report["records"] > 0
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


def test_a_client_spread_over_replicas_hits_one_rate_limit(cluster: Cluster) -> None:
    headers = {"authorization": f"Bearer {token('limited', SIBANSOS_SCOPES)}"}
    requests = itertools.repeat(({"query": AGGREGATE}, headers))
    count = cluster.limited_app_limit * 2
    answers = asyncio.run(load(_urls(cluster), requests, count=count, concurrency=1))
    statuses = [a.status for a in answers]
    assert statuses.count(200) == cluster.limited_app_limit, statuses
    assert statuses.count(429) == count - cluster.limited_app_limit, statuses
    for replica in range(len(cluster.replicas)):  # every replica counted the others' requests
        assert {a.status for a in answers if a.replica == replica} == {200, 429}


def test_a_persisted_query_registered_on_one_replica_is_served_by_another(
    cluster: Cluster,
) -> None:
    headers = {"authorization": f"Bearer {token('sibansos', SIBANSOS_SCOPES)}"}
    query = "{ provinsi { nama kode } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    first, second, third = _urls(cluster)
    with httpx.Client(timeout=10) as http:
        unknown = http.post(f"{second}/graphql", json={"extensions": apq}, headers=headers)
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = http.post(
            f"{first}/graphql", json={"query": query, "extensions": apq}, headers=headers
        )
        assert registered.json()["data"]["provinsi"]["nama"]
        for url in (second, third):
            served = http.post(f"{url}/graphql", json={"extensions": apq}, headers=headers)
            assert served.json().get("data") == registered.json()["data"], served.text


def _query_fields(url: str) -> set[str]:
    headers = {"authorization": f"Bearer {token('sibansos', SIBANSOS_SCOPES)}"}
    body = {"query": "{ __schema { queryType { fields { name } } } }"}
    answer = httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=5).json()
    return {f["name"] for f in answer["data"]["__schema"]["queryType"]["fields"]}


class _Background:
    """Personal-data load in a thread while the test changes something; bounded in time."""

    def __init__(self, cluster: Cluster, count: int, replicas: list[int] | None = None) -> None:
        self.answers: list[Answer] = []
        niks = cluster.niks(10)
        urls = _urls(cluster, replicas)

        def run() -> None:
            requests = (personal_request(nik) for nik in itertools.cycle(niks))
            self.answers = asyncio.run(
                load(urls, requests, count=count, concurrency=4, seconds=40, pause=0.02)
            )

        self.thread = threading.Thread(target=run, daemon=True)

    def __enter__(self) -> _Background:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


def test_a_published_subgraph_reaches_every_replica_without_a_failed_request(
    cluster: Cluster, tmp_path: object
) -> None:
    assert cluster.registry is not None
    sdl = httpx.post(
        f"{cluster.subgraphs['sosial'].url}/graphql",
        json={"query": "{ _service { sdl } }"},
        timeout=10,
    ).json()["data"]["_service"]["sdl"]
    probe = "clusterProbe"
    new_sdl = re.sub(
        r"type Query \{",
        f'type Query {{\n  "published by the cluster test"\n  {probe}: String',
        sdl,
    )
    assert probe in new_sdl
    path = cluster.workdir / "sosial-probe.graphql"
    path.write_text(new_sdl)
    assert all(probe not in _query_fields(url) for url in _urls(cluster))
    with _Background(cluster, count=400) as background:
        time.sleep(1.0)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "publish",
                "sosial",
                "--url",
                f"{cluster.subgraphs['sosial'].url}/graphql",
                "--sdl",
                str(path),
                "--registry",
                cluster.registry.url,
                "--token",
                ADMIN_TOKEN,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        published_at = time.monotonic()  # the registry has accepted the version
        reached: dict[str, float] = {}
        while len(reached) < len(cluster.replicas) and time.monotonic() - published_at < 15:
            for url in _urls(cluster):
                if url not in reached and probe in _query_fields(url):
                    reached[url] = time.monotonic() - published_at
            time.sleep(0.1)
    assert len(reached) == len(cluster.replicas), reached
    # within the poll interval, plus the time to fetch and build one generation
    assert max(reached.values()) <= cluster.poll_interval + 2.0, reached
    failed = [a for a in background.answers if not _has_personal(a)]
    assert background.answers and not failed, failed[:3]


def test_the_registry_restarted_mid_load_does_not_disturb_serving(cluster: Cluster) -> None:
    with _Background(cluster, count=300) as background:
        time.sleep(1.0)
        cluster.restart_registry()
    failed = [a for a in background.answers if not _has_personal(a)]
    assert len(background.answers) >= 100 and not failed, failed[:3]
    assert all(httpx.get(f"{url}/ready", timeout=5).status_code == 200 for url in _urls(cluster))


def test_a_replica_sigkilled_mid_load_loses_no_record(cluster: Cluster) -> None:
    before = len(cluster.audit_records())
    with _Background(cluster, count=400) as background:
        time.sleep(1.5)
        cluster.replicas[2].kill()
    survivors = [a for a in background.answers if a.replica in (0, 1)]
    assert survivors and all(_has_personal(a) for a in survivors), [
        a for a in survivors if not _has_personal(a)
    ][:3]
    killed = [a for a in background.answers if a.replica == 2]
    assert any(a.error for a in killed), "the kill landed after the load: nothing was proven"
    answered = _answered_personal(background.answers)
    recorded = {r.get("request_id") for r in cluster.audit_records()[before:]}
    assert not [a.request_id for a in answered if a.request_id not in recorded]
    _assert_chain_clean(cluster)  # the killed writer's unfinished append left nothing half-done


def test_a_dead_subgraph_degrades_only_its_fields_on_every_replica(cluster: Cluster) -> None:
    cluster.subgraphs["sosial"].kill()
    urls = _urls(cluster, [0, 1])  # replica 2 was killed above
    headers = {"authorization": f"Bearer {token('sibansos', SIBANSOS_SCOPES)}"}
    query = "{ provinsi { nama jumlahKeluargaPenerima } }"  # the count is sosial's
    with httpx.Client(timeout=10) as http:
        for url in urls:
            for _ in range(8):  # enough failures to open the circuit
                answer = http.post(f"{url}/graphql", json={"query": query}, headers=headers).json()
                assert answer["data"]["provinsi"]["nama"], answer
                assert answer["data"]["provinsi"]["jumlahKeluargaPenerima"] is None, answer
                assert answer["errors"], answer
            metrics = http.get(f"{url}/metrics").text
            assert re.search(r'jamajama_subgraph_circuit_open\{[^}]*"sosial"[^}]*\} 1', metrics), [
                line for line in metrics.splitlines() if "circuit" in line
            ]
            assert not re.search(
                r'jamajama_subgraph_circuit_open\{[^}]*"wilayah"[^}]*\} 1', metrics
            )
