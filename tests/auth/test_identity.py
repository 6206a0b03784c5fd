"""Tokens to principals (gateway/auth/tokens.py, identity.py): HS256, JWKS, claims, registry."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.auth.applications import Application, SqliteApplicationRegistry
from gateway.auth.cli import mint_token
from gateway.auth.config import ClaimsSection, JwtSection
from gateway.auth.demo import DEV_SECRET
from gateway.auth.errors import AuthenticationError
from gateway.auth.identity import Authenticator, claims_principal
from gateway.auth.tokens import JwksCache, TokenVerifier

pytestmark = pytest.mark.anyio


def bearer(token: str) -> str:
    return f"Bearer {token}"


async def test_no_header_is_anonymous(authenticator: Authenticator) -> None:
    principal = await authenticator.authenticate(None, "penyaluran_bansos")
    assert not principal.authenticated
    assert principal.scopes == frozenset()
    assert principal.purpose == "penyaluran_bansos"
    assert not principal.purpose_approved


async def test_demo_token_gives_registered_scopes_and_purposes(
    authenticator: Authenticator,
) -> None:
    principal = await authenticator.authenticate(
        bearer(mint_token("sibansos")), "penyaluran_bansos"
    )
    assert principal.authenticated
    assert principal.application == "sibansos"
    assert principal.opd == "Dinas Sosial"
    assert principal.user == "operator.dinsos@lampungprov.go.id"
    assert "kependudukan:nik" in principal.scopes
    assert principal.purpose_approved


async def test_token_scopes_are_narrowed_to_the_application_approval(
    authenticator: Authenticator,
) -> None:
    token = mint_token("sehat-lampung", scopes=["kesehatan:read", "kependudukan:nik", "root"])
    principal = await authenticator.authenticate(bearer(token))
    assert principal.scopes == frozenset({"kesehatan:read"})


async def test_unregistered_application_is_anonymous(authenticator: Authenticator) -> None:
    token = mint_token("aplikasi-liar", scopes=["kependudukan:read"])
    principal = await authenticator.authenticate(bearer(token))
    assert not principal.authenticated
    assert principal.scopes == frozenset()
    assert principal.downgraded == 'application "aplikasi-liar" is not registered'


async def test_revocation_takes_effect_at_once(
    authenticator: Authenticator, registry: SqliteApplicationRegistry
) -> None:
    token = bearer(mint_token("sibansos"))
    assert (await authenticator.authenticate(token)).authenticated
    assert await registry.revoke("sibansos")
    principal = await authenticator.authenticate(token)
    assert not principal.authenticated
    assert principal.scopes == frozenset()
    assert principal.downgraded == 'application "sibansos" has been revoked'


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"ttl_seconds": -120}, "the token has expired"),
        ({"now": time.time() + 3600}, "the token is not valid yet (nbf or iat in the future)"),
        ({"issuer": "someone-else"}, "the token was issued by an issuer"),
        ({"audience": "another-api"}, "the token is not meant for this gateway (audience)"),
        ({"secret": "x" * 40}, "the token's signature does not verify"),
    ],
)
async def test_bad_tokens_are_authentication_errors(
    authenticator: Authenticator, token_kwargs: dict[str, Any], message: str
) -> None:
    token = mint_token("sibansos", **token_kwargs)
    with pytest.raises(AuthenticationError) as caught:
        await authenticator.authenticate(bearer(token))
    assert caught.value.message.startswith(message)
    assert caught.value.code == "UNAUTHENTICATED"
    assert token not in caught.value.message


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer not-a-jwt", "the bearer token is not a well-formed JWT"),
        ("Bearer", "the Authorization header must be 'Bearer <token>'"),
    ],
)
async def test_malformed_headers(authenticator: Authenticator, header: str, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message.replace("(", r"\(")):
        await authenticator.authenticate(header)


async def test_missing_required_claim(authenticator: Authenticator) -> None:
    claims = {"azp": "sibansos", "iss": "jamajama-dev", "aud": "jamajama"}
    token = jwt.encode(claims, DEV_SECRET, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="the token lacks the required claim 'exp'"):
        await authenticator.authenticate(bearer(token))


async def test_algorithm_none_is_refused(authenticator: Authenticator) -> None:
    token = jwt.encode({"azp": "sibansos", "exp": time.time() + 60}, None, algorithm="none")
    with pytest.raises(AuthenticationError, match="tokens signed with 'none' are not accepted"):
        await authenticator.authenticate(bearer(token))


def test_claim_mapping_is_configurable() -> None:
    claims = {
        "sub": "u-1",
        "client": {"id": "sibansos"},
        "scp": ["a", "b"],
        "realm_access": {"roles": ["operator"]},
        "org": "Dinas Sosial",
    }
    mapping = ClaimsSection(application=["client.id"], opd=["org"])
    principal = claims_principal(claims, mapping)
    assert principal.application == "sibansos"
    assert principal.opd == "Dinas Sosial"
    assert principal.user == "u-1"
    assert principal.scopes == frozenset({"a", "b"})
    assert principal.roles == frozenset({"operator"})


# --- JWKS (RS256 / ES256) -------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint over an httpx mock transport; counts fetches, keys can rotate."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetches = 0

    def add(self, kid: str, private_key: Any, algorithm: str) -> None:
        jwk = jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(  # type: ignore[attr-defined]
            private_key.public_key(), as_dict=True
        )
        self.keys[kid] = {**jwk, "kid": kid, "use": "sig", "alg": algorithm}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": list(self.keys.values())})


def _signed(private_key: Any, kid: str, algorithm: str, **claims: Any) -> str:
    now = int(time.time())
    body = {"azp": "sibansos", "sub": "u", "exp": now + 60, "iat": now, **claims}
    return jwt.encode(body, private_key, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture
def jwks() -> JwksServer:
    return JwksServer()


def _verifier(server: JwksServer, clock: list[float] | None = None) -> TokenVerifier:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    ticks = clock if clock is not None else [0.0]
    cache = JwksCache(
        "https://sso.lampungprov.go.id/realms/splp/protocol/openid-connect/certs",
        cache_seconds=300,
        min_refresh_seconds=10,
        client=client,
        clock=lambda: ticks[0],
    )
    section = JwtSection(algorithms=["RS256", "ES256"], jwks_url=cache.url)
    return TokenVerifier(section, cache)


async def test_rs256_and_es256_from_jwks(jwks: JwksServer) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks.add("r1", rsa_key, "RS256")
    jwks.add("e1", ec_key, "ES256")
    verifier = _verifier(jwks)
    assert (await verifier.verify(_signed(rsa_key, "r1", "RS256")))["azp"] == "sibansos"
    assert (await verifier.verify(_signed(ec_key, "e1", "ES256")))["azp"] == "sibansos"
    assert jwks.fetches == 1  # cached


async def test_unknown_kid_refreshes_keys_once(jwks: JwksServer) -> None:
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.add("old", old, "RS256")
    clock = [0.0]
    verifier = _verifier(jwks, clock)
    await verifier.verify(_signed(old, "old", "RS256"))
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.add("new", new, "RS256")  # the provider rotated its keys
    clock[0] = 20.0
    assert (await verifier.verify(_signed(new, "new", "RS256")))["sub"] == "u"
    assert jwks.fetches == 2
    # a forged kid right after: no new fetch (min refresh interval), a clear 401
    with pytest.raises(AuthenticationError, match="does not publish"):
        await verifier.verify(_signed(new, "forged", "RS256"))
    assert jwks.fetches == 2


async def test_hs256_token_is_refused_when_only_jwks_is_configured(jwks: JwksServer) -> None:
    verifier = _verifier(jwks)
    with pytest.raises(AuthenticationError, match="'HS256' are not accepted"):
        await verifier.verify(mint_token("sibansos"))


async def test_unreachable_jwks_is_a_clear_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = httpx.AsyncClient(transport=httpx.MockTransport(down))
    cache = JwksCache("https://sso.test/certs", client=client)
    verifier = TokenVerifier(JwtSection(algorithms=["RS256"], jwks_url=cache.url), cache)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthenticationError) as caught:
        await verifier.verify(_signed(key, "k", "RS256"))
    assert caught.value.code == "AUTHENTICATION_UNAVAILABLE"


async def test_sqlite_registry_round_trip(tmp_path: Any) -> None:
    store = SqliteApplicationRegistry(tmp_path / "apps.sqlite3")
    app = Application("a", "A", "Dinas", frozenset({"s"}), frozenset({"p"}))
    await store.put(app)
    assert await store.get("a") == app
    assert await store.list() == [app]
    assert await store.revoke("a")
    assert (await store.get("a")).revoked  # type: ignore[union-attr]
    assert not await store.revoke("missing")
    await store.aclose()


async def test_seeding_again_does_not_undo_a_revocation(
    registry: SqliteApplicationRegistry,
) -> None:
    from gateway.auth.applications import seed_registry
    from gateway.auth.demo import DEMO_APPLICATIONS, DEMO_PURPOSES

    assert await registry.revoke("sibansos")
    await seed_registry(registry, DEMO_APPLICATIONS, DEMO_PURPOSES)  # e.g. a gateway restart
    assert (await registry.get("sibansos")).revoked  # type: ignore[union-attr]


def test_revoke_command(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from gateway.auth import cli

    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[auth.applications]\nsqlite_path = "{tmp_path / "apps.sqlite3"}"\n'
        '[[auth.applications.seed]]\nid = "sibansos"\nopd = "Dinas Sosial"\n'
        'scopes = ["sosial:read"]\n'
    )
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["revoke", "sibansos", "--config", str(config)])) == 0
    assert cli.run(parser.parse_args(["revoke", "nobody", "--config", str(config)])) == 1
    assert cli.run(parser.parse_args(["registered", "--config", str(config)])) == 0
    out = capsys.readouterr().out
    assert "revoked sibansos" in out and "sibansos         REVOKED  Dinas Sosial" in out
