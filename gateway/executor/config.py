"""The ``[subgraphs]`` configuration section: how the gateway calls subgraphs (timeouts, pools,
circuit breaker, signing, mTLS). ``docs/configuration.md`` lists every key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from gateway.sections import Section


class BreakerSection(Section):
    enabled: bool = True
    #: consecutive failures that open a subgraph's circuit
    failure_threshold: int = Field(default=5, ge=1)
    #: seconds an open circuit fails fast before letting one trial request through
    reset_seconds: float = Field(default=10.0, gt=0)


class SigningSection(Section):
    """HMAC-SHA256 signatures on subgraph requests (see gateway/executor/signing.py)."""

    #: the shared key; None: requests are not signed
    key: SecretStr | None = None


class TlsSection(Section):
    """mTLS to subgraphs: the gateway's client certificate and the CA that signs subgraphs."""

    client_cert: Path | None = None
    client_key: Path | None = None
    ca_file: Path | None = None


class SubgraphsSection(Section):
    """How the gateway calls subgraphs (the ``[subgraphs]`` section)."""

    #: the HTTP client: "lean" (default: keep-alive HTTP/1.1 on asyncio, about a third of
    #: aiohttp's CPU per subgraph request; gateway/executor/lean_transport.py) or "aiohttp"
    transport: Literal["aiohttp", "lean"] = "lean"
    #: seconds a subgraph call may take (connect to last byte)
    timeout: float = Field(default=30.0, gt=0)
    #: per-subgraph timeouts overriding ``timeout``, by subgraph name
    timeouts: dict[str, float] = Field(default_factory=dict)
    #: open connections to all subgraphs together
    max_connections: int = Field(default=200, ge=1)
    #: open connections to one subgraph host (0: no per-host limit)
    max_connections_per_host: int = Field(default=0, ge=0)
    keepalive_seconds: float = Field(default=30.0, gt=0)
    #: bytes a subgraph's response body may have (checked while streaming; 0: no cap)
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    #: per-subgraph caps overriding ``max_response_bytes``, by subgraph name
    max_response_bytes_by_subgraph: dict[str, int] = Field(default_factory=dict)
    #: identical query calls in flight share one request
    deduplicate: bool = True
    #: client request headers copied to subgraph calls, e.g. ["x-jamajama-purpose"]
    propagate_headers: list[str] = Field(default_factory=list)
    circuit_breaker: BreakerSection = BreakerSection()
    signing: SigningSection = SigningSection()
    tls: TlsSection = TlsSection()
