"""The ``[http]`` section: GraphQL over HTTP, batching, CSRF, CORS, GraphiQL, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from gateway.sections import Section


class CsrfSection(Section):
    """CSRF prevention as the major routers do it: a request a browser could send without a
    CORS preflight (a GET, or a POST whose content type is a "simple" one) must carry one of
    ``required_headers``, which no cross-site form or image can set."""

    enabled: bool = True
    required_headers: list[str] = Field(
        default_factory=lambda: ["x-apollo-operation-name", "apollo-require-preflight"]
    )


class CorsSection(Section):
    """Cross-origin access; closed (no CORS headers at all) unless origins are listed."""

    #: allowed origins (exact, e.g. ``https://portal.lampungprov.go.id``), or ``["*"]``
    allow_origins: list[str] = Field(default_factory=list)
    allow_credentials: bool = False
    allow_headers: list[str] = Field(
        default_factory=lambda: [
            "authorization",
            "content-type",
            "x-jamajama-purpose",
            "x-request-id",
            "apollo-require-preflight",
            "x-apollo-operation-name",
        ]
    )
    max_age: int = Field(default=600, ge=0)


class OverloadSection(Section):
    """The ``[http.overload]`` section (applied by gateway/http/overload.py)."""

    #: GraphQL requests served at once by this process; beyond, 503 at once (0: no limit)
    max_in_flight: int = Field(default=512, ge=0)
    #: seconds a GraphQL request may take before it is abandoned with 503 (0: no deadline)
    deadline_seconds: float = Field(default=60.0, ge=0)
    #: the ``Retry-After`` of a shed request (seconds)
    retry_after_seconds: int = Field(default=1, ge=0)
    #: paths guarded (the GraphQL endpoint and what executes plans)
    paths: list[str] = Field(default_factory=lambda: ["/graphql", "/graphql/plan"])


class HttpSection(Section):
    """How the gateway speaks HTTP."""

    #: largest request body accepted, in bytes (413 ``REQUEST_TOO_LARGE`` beyond)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    #: operations in one batched request (a JSON array); 0 refuses batches
    max_batch: int = Field(default=10, ge=0)
    #: serve GraphiQL to browsers at ``GET /graphql`` (and the query plan endpoint it uses)
    graphiql: bool = True
    #: ``redact``: subgraph error messages become "Subgraph errors redacted" (path and code kept);
    #: ``pass``: subgraph errors reach clients as the subgraph wrote them
    subgraph_errors: Literal["redact", "pass"] = "redact"
    #: header carrying the request id (taken from the client when well-formed, else generated)
    request_id_header: str = "x-request-id"
    #: ``/ready`` probes each subgraph at most this often (seconds)
    readiness_interval: float = Field(default=5.0, gt=0)
    #: ``/ready`` probe timeout per subgraph (seconds)
    readiness_timeout: float = Field(default=2.0, gt=0)
    csrf: CsrfSection = CsrfSection()
    cors: CorsSection = CorsSection()
    overload: OverloadSection = OverloadSection()


class TrustedApplication(Section):
    """The trusted documents of one consumer application."""

    manifest: Path
    #: ``enforce``: only the manifest's operations; ``allow``: the manifest plus anything else
    mode: Literal["enforce", "allow"] = "enforce"


class PersistedSection(Section):
    """The ``[persisted_queries]`` section."""

    #: accept automatic persisted queries
    apq: bool = True
    backend: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "jamajama:pq"
    #: APQ entries kept in memory (least recently used dropped first)
    memory_entries: int = Field(default=10_000, ge=1)
    #: characters of APQ documents kept in memory, all entries together
    memory_chars: int = Field(default=32 * 1024 * 1024, ge=1)
    #: an APQ document longer than this is not registered (characters)
    max_document_length: int = Field(default=50_000, ge=1)
    #: how long Redis keeps an APQ entry (seconds)
    redis_ttl_seconds: int = Field(default=86_400, ge=1)
    #: Redis unavailable: ``open`` treats an APQ hash as unknown (the client resends the query),
    #: ``closed`` answers 503 ``PERSISTED_QUERY_STORE_UNAVAILABLE``. Trusted documents never
    #: depend on Redis (served from this process's manifests)
    on_store_unavailable: Literal["open", "closed"] = "open"
    #: trusted documents by application id (``anonymous`` for callers without one)
    trusted: dict[str, TrustedApplication] = Field(default_factory=dict)
