"""GraphiQL's application presets: development tokens on loopback with dev auth, closed otherwise;
the page's configuration; the gateway's favicon."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.auth.applications import create_registry
from gateway.auth.config import ApplicationsSection, AuthSection, JwtSection
from gateway.auth.demo import DEMO_APPLICATIONS, DEV_AUDIENCE, DEV_ISSUER, DEV_SECRET
from gateway.auth.guard import HttpGuard
from gateway.engine import Gateway
from gateway.http import dev_tokens, graphiql
from gateway.http.app import create_app
from tests.http.servers import SUPERGRAPH_PATH

LOCAL = ("127.0.0.1", 50000)
HTML = {"accept": "text/html"}
DEV_JWT = JwtSection(secret=SecretStr(DEV_SECRET), issuer=DEV_ISSUER, audience=DEV_AUDIENCE)
PRODUCTION_JWT = JwtSection(
    secret=SecretStr("a-production-secret-of-at-least-32-bytes!!"), issuer="idp", audience="x"
)

pytestmark = pytest.mark.anyio


def _app(tmp_path: Path, jwt: JwtSection, registry_url: str | None = None) -> tuple[Any, HttpGuard]:
    """A gateway app whose guard verifies tokens with ``jwt``, the demo applications registered."""
    applications = ApplicationsSection(
        sqlite_path=tmp_path / "applications.sqlite3", seed=list(DEMO_APPLICATIONS)
    )
    section = AuthSection(jwt=jwt, applications=applications)
    guard = HttpGuard(section, create_registry(applications))
    gateway = Gateway.from_supergraph_sdl(SUPERGRAPH_PATH.read_text())
    return create_app(gateway, guard, catalogue_url=graphiql.catalogue_of(registry_url)), guard


@pytest.fixture
def dev(tmp_path: Path) -> tuple[Any, HttpGuard]:
    return _app(tmp_path, DEV_JWT, "http://127.0.0.1:4100/")


@asynccontextmanager
async def _client(
    app: Any, client: tuple[str, int] = LOCAL, host: str = "127.0.0.1:4000"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling ``app`` from ``client`` with ``Host: host``, the app's lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as http:
            yield http


def _config(page: str) -> dict[str, Any]:
    start = page.index('data-config="') + len('data-config="')
    return json.loads(html.unescape(page[start : page.index('"', start)]))  # type: ignore[no-any-return]


async def test_a_dev_gateway_mints_a_token_for_a_registered_application(
    dev: tuple[Any, HttpGuard],
) -> None:
    app, guard = dev
    async with _client(app) as client:
        listed = await client.get("/graphiql/dev/applications")
        assert listed.status_code == 200
        apps = {a["id"]: a for a in listed.json()["applications"]}
        assert apps["sibansos"]["purposes"] == ["penyaluran_bansos", "verifikasi_dtks"]
        assert apps["dasbor-gubernur"]["purposes"] == []
        minted = await client.post("/graphiql/dev/token", json={"application": "sibansos"})
        assert minted.status_code == 200
        body = minted.json()
        assert body["purposes"] == ["penyaluran_bansos", "verifikasi_dtks"]
        assert body["expires_in"] == 3600
        # the token is one the gateway accepts, for the application and one of its purposes
        principal = await guard.authenticator.authenticate(
            f"Bearer {body['token']}", "penyaluran_bansos"
        )
        assert principal.authenticated and principal.application == "sibansos"
        assert principal.purpose == "penyaluran_bansos"
        assert principal.scopes == {
            "kependudukan:read",
            "kependudukan:nik",
            "sosial:read",
            "kesehatan:read",
            "pendidikan:read",
        }
        page = (await client.get("/graphql", headers=HTML)).text
    assert _config(page) == {
        "mode": "gateway",
        "catalogue_url": "http://127.0.0.1:4100/catalogue",
        "dev_tokens": True,
    }


@pytest.mark.parametrize(
    ("client_address", "host"),
    [
        (("10.1.2.3", 50000), "127.0.0.1:4000"),  # another machine
        (LOCAL, "gateway.evil.example:4000"),  # a DNS-rebinding page on this machine
        (("192.168.1.10", 50000), "192.168.1.10:4000"),  # the LAN address of this machine
    ],
)
async def test_dev_tokens_are_refused_off_loopback(
    dev: tuple[Any, HttpGuard], client_address: tuple[str, int], host: str
) -> None:
    app, _ = dev
    async with _client(app, client_address, host) as client:
        for response in (
            await client.get("/graphiql/dev/applications"),
            await client.post("/graphiql/dev/token", json={"application": "sibansos"}),
        ):
            assert response.status_code == 403
            assert response.json()["errors"][0]["extensions"]["code"] == "DEV_TOKENS_LOOPBACK_ONLY"
            assert "token" not in response.json()


async def test_dev_tokens_refuse_other_sites_and_bad_input(dev: tuple[Any, HttpGuard]) -> None:
    app, _ = dev
    async with _client(app) as client:
        other_site = await client.post(
            "/graphiql/dev/token",
            json={"application": "sibansos"},
            headers={"origin": "http://evil.example"},
        )
        assert other_site.status_code == 403
        assert other_site.json()["errors"][0]["extensions"]["code"] == "DEV_TOKENS_CROSS_ORIGIN"
        same_site = await client.post(
            "/graphiql/dev/token",
            json={"application": "sibansos"},
            headers={"origin": "http://127.0.0.1:4000"},
        )
        assert same_site.status_code == 200
        form = await client.post(
            "/graphiql/dev/token",
            content=b'{"application": "sibansos"}',
            headers={"content-type": "text/plain"},
        )
        assert form.status_code == 415
        unknown = await client.post("/graphiql/dev/token", json={"application": "nobody"})
        assert unknown.status_code == 404
        assert unknown.json()["errors"][0]["extensions"]["code"] == "UNKNOWN_APPLICATION"
        for bad in (b"[]", b"not json", b'{"application": 3}'):
            response = await client.post(
                "/graphiql/dev/token", content=bad, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400
            assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_gateway_without_dev_auth_has_no_token_routes(tmp_path: Path) -> None:
    app, guard = _app(tmp_path, PRODUCTION_JWT)
    assert not dev_tokens.enabled(guard) and dev_tokens.routes(guard) == []
    assert not dev_tokens.enabled(None)
    async with _client(app) as client:
        listed = await client.get("/graphiql/dev/applications")
        minted = await client.post("/graphiql/dev/token", json={"application": "sibansos"})
        assert listed.status_code == 404 and minted.status_code == 404
        page = (await client.get("/graphql", headers=HTML)).text
    assert _config(page) == {"mode": "gateway", "catalogue_url": None, "dev_tokens": False}


async def test_the_gateway_serves_a_favicon(dev: tuple[Any, HttpGuard]) -> None:
    app, _ = dev
    async with _client(app) as client:
        response = await client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
