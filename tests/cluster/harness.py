"""The cluster on loopback: the real processes, this machine's PostgreSQL and Redis, a load client.

``Cluster`` starts what docker-compose.yml and deploy/k8s run, as separate processes: the five OPD
subgraphs, one ``jamajama registry serve`` on PostgreSQL, ``jamajama migrate`` first, and two or
three ``jamajama gateway`` replicas in the production profile (no ``--dev-auth``: JWT secret,
audit signing and subject keys, a checkpoint file every replica shares) following the registry.
Each run gets its own database (created, migrated, dropped with FORCE after) and its own Redis key
prefix (entries expire; the prefix is deleted after). Nothing here stops the shared servers.

``load`` is a small async client, bounded in requests and in time, that spreads requests over
the replicas and records each answer (replica, status, request id, whether data came back).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import redis

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SUBGRAPHS = ("wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial")
JWT_SECRET = "cluster-test-jwt-secret-0123456789abcdef"
ISSUER = "jamajama-cluster"
AUDIENCE = "jamajama"
SUBJECT_KEY = "cluster-test-subject-key-0123456789"
SIGNING_KEY = "cluster-test-signing-key-0123456789"
ADMIN_TOKEN = "cluster-test-admin-token-0123456789"
IDENTIFIER_KEY = "cluster-test-identifier-key-0123456789"
START_TIMEOUT_S = 90.0
#: a personal-data query (audited, purpose required) and an aggregate one
PERSONAL = "query($nik: String!) { penduduk(nik: $nik) { nik nama } }"
AGGREGATE = "{ provinsi { nama } }"
PURPOSE = "penyaluran_bansos"


def free_port() -> int:
    """A port free now, below the ephemeral range (so no outgoing connection takes it first)."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


def token(application: str, scopes: tuple[str, ...] = ()) -> str:
    now = int(time.time())
    claims = {
        "sub": f"user-{application}",
        "azp": application,
        "scope": " ".join(scopes),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


SIBANSOS_SCOPES = ("kependudukan:read", "kependudukan:nik", "sosial:read")


@dataclass
class Process:
    """One started process, its log file, and how to know it answers."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    health: str = "/health"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
            )

    def wait_ready(self, path: str | None = None, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.url}{path or self.health}"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready at {url} within {timeout} s: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no drain, no shutdown checkpoint (a crash)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _jamajama(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli", *args]


@dataclass
class Cluster:
    """Subgraphs, a registry and N gateways on loopback, against a fresh database and prefix."""

    workdir: Path
    gateways: int = 2
    poll_interval: float = 1.0
    rate_limit: int = 100_000
    limited_app_limit: int = 20
    gateway_env: dict[str, str] = field(default_factory=dict)
    #: where the gateways reach PostgreSQL and Redis (a tests/cluster/proxy.py port to cut them)
    postgres_port: int = 5432
    redis_port: int = 6379
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    subgraphs: dict[str, Process] = field(default_factory=dict)
    registry: Process | None = None
    replicas: list[Process] = field(default_factory=list)

    @property
    def database(self) -> str:
        return f"jj_cluster_{self.run_id}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.database}"

    @property
    def gateway_database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{self.database}"

    @property
    def gateway_redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def redis_prefix(self) -> str:
        return f"jj-cluster-{self.run_id}"

    @property
    def checkpoint_file(self) -> Path:
        return self.workdir / "audit-checkpoints.jsonl"

    @property
    def config(self) -> Path:
        return self.workdir / "gateway.toml"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self._write_config()
        for name in SUBGRAPHS:
            proc = Process(
                name,
                [],
                {"JAMAJAMA_DATA_DIR": str(Path("var/data").resolve())},
                self.workdir / f"{name}.log",
                port=free_port(),
            )
            proc.argv = _jamajama(
                "subgraph", "serve", name, "--host", "127.0.0.1", "--port", str(proc.port)
            )
            self.subgraphs[name] = proc
            proc.start()
        self.migrate()
        self.registry = Process(
            "registry",
            _jamajama("registry", "serve", "--config", str(self.workdir / "registry.toml")),
            self._registry_env(),
            self.workdir / "registry.log",
            port=self.registry_port,
            health="/healthz",
        )
        self.registry.start()
        for proc in self.subgraphs.values():
            proc.wait_ready()
        self.registry.wait_ready()
        self.bootstrap()
        for index in range(self.gateways):
            self.replicas.append(self.start_gateway(index))
        for replica in self.replicas:
            replica.wait_ready("/ready")

    def migrate(self) -> None:
        subprocess.run(
            _jamajama("migrate", "--config", str(self.config)),
            env={**os.environ, **self._gateway_env(), **self._registry_env()},
            check=True,
            capture_output=True,
            timeout=60,
        )

    def bootstrap(self) -> None:
        assert self.registry is not None
        pairs = [f"{name}={proc.url}/graphql" for name, proc in self.subgraphs.items()]
        subprocess.run(
            _jamajama("registry", "bootstrap", "--registry", self.registry.url, *pairs),
            env={**os.environ, "JAMAJAMA_REGISTRY_TOKEN": ADMIN_TOKEN},
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start_gateway(self, index: int) -> Process:
        proc = Process(
            f"gateway-{index}",
            [],
            {**self._gateway_env(), **self.gateway_env},
            self.workdir / f"gateway-{index}.log",
            port=free_port(),
        )
        proc.argv = _jamajama(
            "gateway", "--config", str(self.config), "--host", "127.0.0.1", "--port", str(proc.port)
        )
        proc.env["JAMAJAMA_REGISTRY_POLL__CACHE_PATH"] = str(
            self.workdir / f"supergraph-{index}.graphql"
        )
        proc.start()
        return proc

    def restart_registry(self) -> None:
        assert self.registry is not None
        self.registry.stop()
        self.registry.start()
        self.registry.wait_ready()

    def close(self) -> None:
        for proc in [*self.replicas, *([self.registry] if self.registry else [])]:
            proc.stop()
        for proc in self.subgraphs.values():
            proc.stop()
        try:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            try:
                keys = list(client.scan_iter(f"{self.redis_prefix}*", count=1000))
                if keys:
                    client.delete(*keys)
            finally:
                client.close()

    # -- configuration -----------------------------------------------------------------------

    registry_port: int = field(default_factory=free_port)

    def _registry_env(self) -> dict[str, str]:
        return {
            "JAMAJAMA_REGISTRY__DATABASE_URL": self.database_url,
            "JAMAJAMA_REGISTRY__ADMIN_TOKEN": ADMIN_TOKEN,
        }

    def _gateway_env(self) -> dict[str, str]:
        return {
            "JAMAJAMA_AUTH__JWT__SECRET": JWT_SECRET,
            "JAMAJAMA_AUDIT__SUBJECT_KEY": SUBJECT_KEY,
            "JAMAJAMA_AUDIT__SIGNING_KEY": SIGNING_KEY,
            "JAMAJAMA_AUTH__IDENTIFIERS__KEY": IDENTIFIER_KEY,
            "JAMAJAMA_REGISTRY_POLL__USAGE_TOKEN": ADMIN_TOKEN,
        }

    def _write_config(self) -> None:
        seeds = [
            ("sibansos", SIBANSOS_SCOPES, (PURPOSE,)),
            ("limited", SIBANSOS_SCOPES, (PURPOSE,)),
        ]
        apps = "\n".join(
            f'[[auth.applications.seed]]\nid = "{app}"\nname = "{app}"\nopd = "Dinas Sosial"\n'
            f"scopes = {json.dumps(list(scopes))}\npurposes = {json.dumps(list(purposes))}\n"
            for app, scopes, purposes in seeds
        )
        scopes = json.dumps(list(SIBANSOS_SCOPES))
        self.config.write_text(
            f"""
[server]
host = "127.0.0.1"

[registry_poll]
url = "http://127.0.0.1:{self.registry_port}"
interval_seconds = {self.poll_interval}

[http]
subgraph_errors = "pass"

[auth.jwt]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"

[auth.applications]
backend = "postgres"
postgres_url = "{self.gateway_database_url}"

{apps}
[[auth.applications.purposes]]
id = "{PURPOSE}"
name = "Penyaluran bantuan sosial"
legal_basis = "UU 13/2011"
valid_from = 2025-01-01
valid_until = 2099-12-31
approvals = {{ "Dinas Sosial" = {{ scopes = {scopes}, policies = ["data_pribadi"] }} }}

[audit]
backend = "postgres"
postgres_url = "{self.gateway_database_url}"
checkpoint_file = "{self.checkpoint_file}"
checkpoint_every_records = 25
checkpoint_every_seconds = 2

[rate_limit]
backend = "redis"
redis_url = "{self.gateway_redis_url}"
key_prefix = "{self.redis_prefix}:rl"
window_seconds = 3600  # a fixed window the test never straddles
default_limit = {self.rate_limit}
applications = {{ limited = {self.limited_app_limit} }}

[persisted_queries]
backend = "redis"
redis_url = "{self.gateway_redis_url}"
key_prefix = "{self.redis_prefix}:pq"
redis_ttl_seconds = 600
"""
        )
        (self.workdir / "registry.toml").write_text(
            f"""
[registry]
host = "127.0.0.1"
port = {self.registry_port}
migrate_at_start = false
"""
        )

    # -- inspection --------------------------------------------------------------------------

    def niks(self, count: int) -> list[str]:
        """Residents' NIKs, asked of the kependudukan subgraph directly."""
        query = f'{{ daftarPenduduk(wilayahKode: "18", first: {count}) {{ nodes {{ nik }} }} }}'
        body = httpx.post(
            f"{self.subgraphs['kependudukan'].url}/graphql", json={"query": query}, timeout=10
        ).json()
        return [node["nik"] for node in body["data"]["daftarPenduduk"]["nodes"]]

    def audit_records(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT seq, body FROM jamajama_audit ORDER BY seq").fetchall()
        return [{"seq": seq, **json.loads(body)} for seq, body in rows]

    def audit_verify(self, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """``jamajama audit verify --json`` with the gateways' configuration (and ``env``)."""
        done = subprocess.run(
            _jamajama("audit", "verify", "--config", str(self.config), "--json"),
            env={**os.environ, **self._gateway_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, json.loads(done.stdout or "{}")


@dataclass(frozen=True)
class Answer:
    replica: int
    status: int
    request_id: str
    data: Any
    errors: list[dict[str, Any]]
    error: str | None = None  # a transport failure (connection refused/reset, timeout)


def personal_request(
    nik: str, application: str = "sibansos"
) -> tuple[dict[str, Any], dict[str, str]]:
    return (
        {"query": PERSONAL, "variables": {"nik": nik}},
        {
            "authorization": f"Bearer {token(application, SIBANSOS_SCOPES)}",
            "x-jamajama-purpose": PURPOSE,
        },
    )


async def load(
    urls: list[str],
    requests: Iterator[tuple[dict[str, Any], dict[str, str]]],
    *,
    count: int,
    concurrency: int = 8,
    seconds: float = 30.0,
    pause: float = 0.0,
) -> list[Answer]:
    """Send at most ``count`` requests round-robin over ``urls`` for at most ``seconds``."""
    answers: list[Answer] = []
    deadline = time.monotonic() + seconds
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    items = list(zip(range(count), requests, strict=False))

    async def worker(client: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            try:
                n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body, headers = items[n][1]
            replica = n % len(urls)
            request_id = f"cl-{uuid.uuid4().hex[:16]}"
            try:
                response = await client.post(
                    f"{urls[replica]}/graphql",
                    json=body,
                    headers={**headers, "x-request-id": request_id},
                )
                payload = response.json() if response.content else {}
                answers.append(
                    Answer(
                        replica,
                        response.status_code,
                        request_id,
                        payload.get("data"),
                        payload.get("errors") or [],
                    )
                )
            except (httpx.HTTPError, ValueError) as error:
                answers.append(Answer(replica, 0, request_id, None, [], repr(error)))
            if pause:
                await asyncio.sleep(pause)

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return answers
