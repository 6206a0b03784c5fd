"""The HTTP edge: 401 for bad tokens, the purpose header, 429 with Retry-After, the secured app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.assembly import assemble, links_authorization
from gateway.auth.cli import mint_token
from gateway.auth.demo import DEMO_APPLICATIONS, DEMO_PURPOSES, DEV_IDENTIFIER_KEY
from gateway.config import Settings, dev_settings
from tests.auth.harness import SUPERGRAPH, OpdWorld

pytestmark = pytest.mark.anyio

QUERY = "query($nik: String!) { penduduk(nik: $nik) { nik nama } }"


@pytest.fixture
async def client(opd_world: OpdWorld, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = dev_settings(Settings(), tmp_path)
    limits = settings.rate_limit.model_copy(update={"default_limit": 4, "anonymous_limit": 2})
    settings = settings.model_copy(update={"rate_limit": limits})
    assembly = assemble(
        settings, supergraph_sdl=SUPERGRAPH.read_text(), subgraph_urls=opd_world.urls
    )
    assert assembly.guard is not None and assembly.gateway.access is not None
    app = assembly.app
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


def headers(application: str | None = None, purpose: str | None = None) -> dict[str, str]:
    result = {"content-type": "application/json"}
    if application:
        result["authorization"] = f"Bearer {mint_token(application)}"
    if purpose:
        result["x-jamajama-purpose"] = purpose
    return result


def test_the_committed_supergraph_links_authorization() -> None:
    assert links_authorization(SUPERGRAPH.read_text())


async def test_token_and_purpose_over_http(client: httpx.AsyncClient, opd_world: OpdWorld) -> None:
    nik = opd_world.niks(1)[0]
    body = {"query": QUERY, "variables": {"nik": nik}}
    response = await client.post(
        "/graphql", json=body, headers=headers("sibansos", "penyaluran_bansos")
    )
    assert response.status_code == 200
    assert response.json()["data"]["penduduk"]["nik"] == nik
    without_purpose = await client.post("/graphql", json=body, headers=headers("sibansos"))
    assert without_purpose.json()["data"] == {"penduduk": None}
    assert "X-Jamajama-Purpose" in without_purpose.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Bearer nope", "the bearer token is not a well-formed JWT"),
        (f"Bearer {mint_token('sibansos', ttl_seconds=-300)}", "the token has expired"),
        ("Basic Zm9vOmJhcg==", "the Authorization header must be 'Bearer <token>'"),
    ],
)
async def test_bad_token_is_401_with_the_reason(
    client: httpx.AsyncClient, authorization: str, message: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ provinsi { nama } }"},
        headers={"authorization": authorization},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_rate_limit_is_429_with_retry_after(client: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(5):
        response = await client.post(
            "/graphql", json={"query": "{ provinsi { nama } }"}, headers=headers("developer")
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # another application has its own budget
    other = await client.post(
        "/graphql", json={"query": "{ provinsi { nama } }"}, headers=headers("sibansos")
    )
    assert other.status_code == 200


def test_dev_settings_register_the_demo_applications(tmp_path: Path) -> None:
    settings = dev_settings(Settings(), tmp_path)
    assert [a.id for a in settings.auth.applications.seed] == [a.id for a in DEMO_APPLICATIONS]
    assert settings.auth.applications.purposes == list(DEMO_PURPOSES)
    key = settings.auth.identifiers.key
    assert key is not None and key.get_secret_value() == DEV_IDENTIFIER_KEY
    assert settings.audit.sqlite_path == tmp_path / "audit.sqlite3"


async def test_validation_hints_come_from_the_callers_schema(client: httpx.AsyncClient) -> None:
    body = {"query": '{ daftarPendudu(wilayahKode: "18") { totalCount } }'}
    full = await client.post(
        "/graphql", json=body, headers=headers("sibansos", "penyaluran_bansos")
    )
    assert 'Did you mean "daftarPenduduk"' in full.json()["errors"][0]["message"]
    dashboard = await client.post("/graphql", json=body, headers=headers("dasbor-gubernur"))
    [error] = dashboard.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "daftarPenduduk" not in error["message"]  # its schema has no such field


async def test_the_plan_is_the_callers_plan(client: httpx.AsyncClient) -> None:
    query = (
        '{ kabupatenKota { kode jumlahPenduduk } daftarPenduduk(wilayahKode: "18") '
        "{ nodes { nama tanggalLahir } } }"
    )
    full = await client.post(
        "/graphql/plan", json={"query": query}, headers=headers("sibansos", "penyaluran_bansos")
    )
    assert "tanggalLahir" in full.json()["plan"]
    dashboard = await client.post(
        "/graphql/plan", json={"query": query}, headers=headers("dasbor-gubernur")
    )
    plan = dashboard.json()["plan"]
    assert "jumlahPenduduk" in plan
    assert "daftarPenduduk" not in plan and "tanggalLahir" not in plan
    hint = await client.post(
        "/graphql/plan",
        json={"query": '{ daftarPendudu(wilayahKode: "18") { totalCount } }'},
        headers=headers("dasbor-gubernur"),
    )
    assert hint.status_code == 400 and "daftarPenduduk" not in hint.text
