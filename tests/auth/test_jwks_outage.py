"""An identity provider outage (gateway/auth/tokens.py): a real JWKS server on loopback that goes
away. Keys fetched before keep verifying tokens, a failed refresh backs off (the provider sees one
attempt per back-off period, never one per request), and the keys refresh when it comes back.
Verified tokens are cached for seconds; revocation still takes effect on the next request."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth.applications import Application, SqliteApplicationRegistry
from gateway.auth.config import AuthSection, JwtSection
from gateway.auth.errors import AuthenticationError
from gateway.auth.identity import Authenticator
from gateway.auth.tokens import JwksCache, TokenVerifier, VerifiedTokens
from tests.http.servers import serve

pytestmark = pytest.mark.anyio


class Provider:
    """The identity provider's JWKS endpoint: publishes public keys, counts requests."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.requests = 0

    def add(self, kid: str) -> Any:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        self.keys[kid] = {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}
        return private

    def app(self) -> Starlette:
        async def certs(request: Request) -> JSONResponse:
            self.requests += 1
            return JSONResponse({"keys": list(self.keys.values())})

        return Starlette(routes=[Route("/certs", certs)])


def token(private: Any, kid: str, subject: str = "u") -> str:
    now = int(time.time())
    claims = {"azp": "sibansos", "sub": subject, "exp": now + 600, "iat": now}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


def verifier(url: str, clock: list[float]) -> tuple[TokenVerifier, JwksCache]:
    cache = JwksCache(
        url, cache_seconds=300, min_refresh_seconds=10, timeout_seconds=2, clock=lambda: clock[0]
    )
    # verified_cache_seconds=0: every call below really verifies (and may need the keys)
    section = JwtSection(algorithms=["RS256"], jwks_url=url, verified_cache_seconds=0)
    return TokenVerifier(section, cache), cache


async def test_identity_provider_down_after_expiry() -> None:
    provider = Provider()
    first = provider.add("k1")
    clock = [0.0]
    with serve(provider.app()) as base:
        url = f"{base}/certs"
        check, cache = verifier(url, clock)
        assert (await check.verify(token(first, "k1")))["sub"] == "u"
        assert (cache.attempts, provider.requests) == (1, 1)
    # the provider is gone; the cached keys expire
    clock[0] = 301.0
    for n in range(30):
        assert (await check.verify(token(first, "k1", f"u{n}")))["sub"] == f"u{n}"
    assert cache.attempts == 2, "one failed refresh, then the stale keys, no fetch per request"
    clock[0] = 305.0  # within the back-off (10 s after the first failure)
    await check.verify(token(first, "k1"))
    assert cache.attempts == 2
    clock[0] = 312.0  # the back-off has passed: one more attempt, which fails; next back-off 20 s
    await check.verify(token(first, "k1"))
    assert cache.attempts == 3
    clock[0] = 330.0
    await check.verify(token(first, "k1"))
    assert cache.attempts == 3
    # the provider comes back (same address) with a rotated key
    second = provider.add("k2")
    with serve(provider.app(), port=urlsplit(url).port or 0):
        clock[0] = 333.0
        assert (await check.verify(token(second, "k2")))["sub"] == "u"
        assert (cache.attempts, cache.fetches, provider.requests) == (4, 2, 2)


async def test_no_keys_and_the_provider_down_is_a_clear_error_without_a_fetch_storm() -> None:
    provider = Provider()
    private = provider.add("k1")
    with serve(provider.app()) as base:
        url = f"{base}/certs"  # a port that was just closed: connection refused
    clock = [0.0]
    check, cache = verifier(url, clock)
    for _ in range(20):
        with pytest.raises(AuthenticationError) as caught:
            await check.verify(token(private, "k1"))
        assert caught.value.code == "AUTHENTICATION_UNAVAILABLE"
    assert cache.attempts == 1


def test_verified_tokens_expire_with_the_cache_and_never_outlive_the_token() -> None:
    now = [100.0]
    cache = VerifiedTokens(5.0, 2, clock=lambda: now[0], wall_clock=lambda: 1_000.0 + now[0])
    cache.put(b"a", {"exp": 2_000})
    cache.put(b"b", {"exp": 1_102})  # expires 2 s from now
    assert cache.get(b"a") is not None and cache.get(b"b") is not None
    now[0] = 103.0
    assert cache.get(b"a") is not None and cache.get(b"b") is None
    now[0] = 106.0
    assert cache.get(b"a") is None
    cache.put(b"c", {"exp": 0})  # already expired: never cached
    assert cache.get(b"c") is None
    for name in (b"x", b"y", b"z"):
        cache.put(name, {"exp": 2_000})
    assert cache.get(b"x") is None and cache.get(b"z") is not None  # bounded


async def test_a_burst_is_verified_once_and_revocation_applies_at_once(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = []
    real_decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        decoded.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr("gateway.auth.tokens.jwt.decode", counting_decode)
    secret = "s" * 32
    section = AuthSection(jwt=JwtSection(secret=secret, verified_cache_seconds=5))
    registry = SqliteApplicationRegistry(tmp_path / "apps.sqlite3")
    await registry.put(Application("sibansos", "S", "Dinsos", frozenset({"a"}), frozenset()))
    authenticator = Authenticator(section, registry)
    presented = "Bearer " + jwt.encode(
        {"azp": "sibansos", "sub": "u", "scope": "a", "exp": int(time.time()) + 600},
        secret,
        algorithm="HS256",
    )
    for _ in range(10):
        assert (await authenticator.authenticate(presented)).authenticated
    assert len(decoded) == 1
    assert await registry.revoke("sibansos")
    principal = await authenticator.authenticate(presented)
    assert not principal.authenticated and principal.downgraded is not None
    await registry.aclose()
