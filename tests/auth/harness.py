"""End-to-end harness: the five OPD subgraphs on real servers behind a secured gateway.

Fixtures (imported by the conftests of tests/auth and tests/audit):
- ``opd_urls``: the subgraphs, generated once per session and served by uvicorn on loopback ports;
- ``opd_supergraph``: schema/supergraph.graphql loaded with authorization enforced;
- ``secured``: a factory ``await secured(**auth_overrides)`` for a gateway whose subgraph calls
  are recorded (``gateway.transport.bodies``) with access control and an SQLite audit log;
- ``principal``: ``await principal("sibansos", purpose="penyaluran_bansos")`` from a demo token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gateway.assembly import subgraph_client
from gateway.audit.log import AuditLog
from gateway.audit.store import SqliteAuditStore
from gateway.auth.access import AccessControl
from gateway.auth.applications import SqliteApplicationRegistry, seed_registry
from gateway.auth.cli import mint_token
from gateway.auth.config import AuthSection, IdentifiersSection, JwtSection
from gateway.auth.demo import (
    DEMO_APPLICATIONS,
    DEMO_PURPOSES,
    DEV_AUDIENCE,
    DEV_IDENTIFIER_KEY,
    DEV_ISSUER,
    DEV_SECRET,
)
from gateway.auth.identity import Authenticator
from gateway.auth.principal import Principal
from gateway.engine import Gateway, GraphQLRequest
from gateway.executor.aiohttp_transport import AiohttpTransport
from gateway.executor.config import SubgraphsSection
from gateway.supergraph import Supergraph, load_supergraph
from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.app import build_app
from subgraphs.kit.generator import DEFAULT_SEED, ensure_world
from subgraphs.kit.store import Store
from tests.servers import ServerThread
from tests.subgraphs.conftest import TEST_SCALE

ROOT = Path(__file__).resolve().parents[2]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
SUBJECT_KEY = b"test-subject-key-0123456789abcdef"
SIGNING_KEY = b"test-signing-key-0123456789abcdef"


def dev_section(**overrides: Any) -> AuthSection:
    jwt = JwtSection(secret=DEV_SECRET, issuer=DEV_ISSUER, audience=DEV_AUDIENCE)  # type: ignore[arg-type]
    overrides.setdefault("identifiers", IdentifiersSection(key=DEV_IDENTIFIER_KEY))  # type: ignore[arg-type]
    return AuthSection(jwt=jwt, **overrides)


@dataclass
class OpdWorld:
    urls: dict[str, str]
    directory: Path

    def niks(self, limit: int = 10_000) -> list[str]:
        conn = sqlite3.connect(self.directory / "kependudukan.sqlite3")
        try:
            return [r[0] for r in conn.execute("SELECT nik FROM penduduk LIMIT ?", (limit,))]
        finally:
            conn.close()


@pytest.fixture(scope="session")
def opd_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpdWorld]:
    directory = ensure_world(DEFAULT_SEED, TEST_SCALE, tmp_path_factory.mktemp("opd")).directory
    servers = []
    urls = {}
    for name in SUBGRAPHS:
        store = Store(directory / f"{name}.sqlite3")
        server = ServerThread(build_app(load_subgraph(name), store), lifespan="off").start()
        servers.append((server, store))
        urls[name] = f"{server.url}/graphql"
    yield OpdWorld(urls, directory)
    for server, store in servers:
        server.stop()
        store.close()


@pytest.fixture(scope="session")
def opd_supergraph() -> Supergraph:
    return load_supergraph(SUPERGRAPH.read_text(), authorization_enforced=True)


@dataclass
class RecordingTransport:
    """The production HTTP client (built by the gateway's own factory, ``[subgraphs]``
    defaults), remembering every request body sent to a subgraph."""

    inner: AiohttpTransport = field(default_factory=lambda: subgraph_client(SubgraphsSection()))
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def fetch(self, subgraph: str, url: str, body: dict[str, Any]) -> Any:
        self.bodies.append((subgraph, body))
        return await self.inner.fetch(subgraph, url, body)

    def text(self) -> str:
        return "\n".join(f"{s}: {b.get('query')}" for s, b in self.bodies)


@dataclass
class Secured:
    gateway: Gateway
    transport: RecordingTransport
    access: AccessControl
    audit: AuditLog

    async def run(
        self,
        query: str,
        principal: Principal | None = None,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        result = await self.gateway.process(
            GraphQLRequest(query, variables, operation_name, principal=principal, request_id="test")
        )
        await self.access.drain()
        return result.response


SecuredFactory = Callable[..., Awaitable[Secured]]


@pytest.fixture
async def secured(
    opd_world: OpdWorld, opd_supergraph: Supergraph, tmp_path: Path
) -> AsyncIterator[SecuredFactory]:
    made: list[Secured] = []

    async def make(audit_store: Any = None, **overrides: Any) -> Secured:
        store = audit_store or SqliteAuditStore(tmp_path / f"audit-{len(made)}.sqlite3")
        audit = AuditLog(store, SUBJECT_KEY, SIGNING_KEY)
        access = AccessControl(opd_supergraph, dev_section(**overrides), audit)
        transport = RecordingTransport()
        gateway = Gateway(
            opd_supergraph, transport=transport, subgraph_urls=opd_world.urls, access=access
        )
        made.append(Secured(gateway, transport, access, audit))
        return made[-1]

    yield make
    for item in made:
        await item.gateway.aclose()
        await item.transport.inner.aclose()
        await item.audit.aclose()


PrincipalFactory = Callable[..., Awaitable[Principal]]


@pytest.fixture
async def principal() -> AsyncIterator[PrincipalFactory]:
    registry = SqliteApplicationRegistry(":memory:")
    await seed_registry(registry, DEMO_APPLICATIONS, DEMO_PURPOSES)
    authenticator = Authenticator(dev_section(), registry)

    async def make(
        application: str | None, purpose: str | None = None, scopes: list[str] | None = None
    ) -> Principal:
        header = f"Bearer {mint_token(application, scopes=scopes)}" if application else None
        return await authenticator.authenticate(header, purpose)

    yield make
    await registry.aclose()
