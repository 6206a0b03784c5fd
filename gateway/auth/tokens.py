"""Bearer-token verification with pyjwt: HS256 (shared secret) or RS/ES/PS keys from a JWKS URL.

Expiry, not-before, issuer and audience are checked. Every failure is an ``AuthenticationError``
whose message says what is wrong with the token (expired, wrong audience, unknown key...) without
echoing the token. JWKS keys are fetched with httpx's async client (the event loop never blocks),
cached, and refetched when a token names an unknown ``kid`` (at most once per
``jwks_min_refresh_seconds``, so a flood of forged kids cannot hammer the provider). A failed
fetch moves the next attempt back (doubling, up to ``jwks_cache_seconds``): during an identity
provider outage the keys already fetched keep verifying tokens and the provider sees one attempt
per back-off period, not one per request.

A verified token's claims are kept for ``verified_cache_seconds`` (never past its ``exp``), so a
client's burst is verified once. Only the signature check is cached: the application's grants and
revocation are read from the registry on every request (``identity.Authenticator``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from gateway.auth.config import JwtSection
from gateway.auth.errors import AuthenticationError

logger = logging.getLogger("jamajama.auth")

_SYMMETRIC = frozenset({"HS256", "HS384", "HS512"})


class JwksCache:
    """The signing keys of an OIDC provider, fetched from its JWKS URL and cached by ``kid``."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = 300.0,
        min_refresh_seconds: float = 10.0,
        timeout_seconds: float = 5.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._timeout = timeout_seconds
        self._client = client
        self._clock = clock
        self._keys: dict[str | None, jwt.PyJWK] = {}
        #: when the key set is next refreshed (expiry of the cache, or the end of a back-off)
        self._refresh_at = -float("inf")
        #: no fetch at all before this (an unknown kid waits for it too)
        self._retry_at = -float("inf")
        self._failures = 0
        self._lock = asyncio.Lock()
        #: successful fetches, and attempts (successful or not)
        self.fetches = 0
        self.attempts = 0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key for ``kid`` (or the only key when the token names none)."""
        if self._clock() >= self._refresh_at:
            await self._refresh(scheduled=True)
        found = self._find(kid)
        if found is None and kid is not None and self._clock() >= self._retry_at:
            await self._refresh(scheduled=False)
            found = self._find(kid)
        if found is None and not self._keys:
            raise AuthenticationError(
                "the identity provider's signing keys cannot be fetched; try again later",
                code="AUTHENTICATION_UNAVAILABLE",
            )
        if found is None:
            raise AuthenticationError(
                "the token is signed with a key the identity provider does not publish "
                f"(kid {kid!r})"
            )
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _refresh(self, *, scheduled: bool) -> None:
        async with self._lock:
            now = self._clock()
            if now < (self._refresh_at if scheduled else self._retry_at):
                return  # another request just refreshed (or failed to): nothing to do yet
            self.attempts += 1
            try:
                document = await self._fetch()
            except (httpx.HTTPError, ValueError) as error:
                self._failures += 1
                backoff = min(
                    self._cache_seconds, max(self._min_refresh, 1.0) * 2 ** (self._failures - 1)
                )
                self._refresh_at = self._retry_at = now + backoff
                logger.warning(
                    "cannot fetch JWKS from %s (%s); next attempt in %.0f s, %s",
                    self.url,
                    error,
                    backoff,
                    "keeping the keys fetched before" if self._keys else "no keys yet",
                )
                return
            self._keys = _parse_jwks(document)
            self._failures = 0
            self._refresh_at = now + self._cache_seconds
            self._retry_at = now + self._min_refresh
            self.fetches += 1

    async def _fetch(self) -> Mapping[str, Any]:
        if self._client is not None:
            response = await self._client.get(self.url, timeout=self._timeout)
        else:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self.url)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("the JWKS document is not a JSON object")
        return document


def _parse_jwks(document: Mapping[str, Any]) -> dict[str | None, jwt.PyJWK]:
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue  # a key type or algorithm this gateway does not use
        keys[entry.get("kid")] = key
    return keys


class VerifiedTokens:
    """Claims of tokens verified in the last ``seconds`` (bounded, least recently used dropped;
    an entry never outlives its token's ``exp``). Keyed by the token's SHA-256."""

    def __init__(
        self,
        seconds: float,
        size: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, digest: bytes) -> dict[str, Any] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry[1]

    def put(self, digest: bytes, claims: dict[str, Any]) -> None:
        if self.seconds <= 0:
            return
        lifetime = self.seconds
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            lifetime = min(lifetime, exp - self._wall_clock())
        if lifetime <= 0:
            return
        self._entries[digest] = (self._clock() + lifetime, claims)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class TokenVerifier:
    """Verifies a compact JWT and returns its claims, or raises ``AuthenticationError``. The
    claims returned are shared between requests presenting the same token: do not modify them."""

    def __init__(
        self,
        section: JwtSection,
        jwks: JwksCache | None = None,
        verified: VerifiedTokens | None = None,
    ) -> None:
        self._section = section
        self._verified = verified or VerifiedTokens(
            section.verified_cache_seconds, section.verified_cache_size
        )
        self._algorithms = frozenset(section.algorithms)
        self._secret = section.secret.get_secret_value().encode() if section.secret else None
        if jwks is None and section.jwks_url:
            jwks = JwksCache(
                section.jwks_url,
                cache_seconds=section.jwks_cache_seconds,
                min_refresh_seconds=section.jwks_min_refresh_seconds,
                timeout_seconds=section.jwks_timeout_seconds,
            )
        self._jwks = jwks
        self._options: Any = {
            "require": list(section.required_claims),
            "verify_aud": section.audience is not None,
            "verify_iss": section.issuer is not None,
        }

    async def verify(self, token: str) -> dict[str, Any]:
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._verified.get(digest)
        if claims is None:
            claims = await self._verify(token)
            self._verified.put(digest, claims)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise AuthenticationError("the bearer token is not a well-formed JWT") from error
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise AuthenticationError(
                f"tokens signed with {algorithm!r} are not accepted "
                f"(accepted: {', '.join(sorted(self._algorithms))})"
            )
        key: Any
        if algorithm in _SYMMETRIC:
            if self._secret is None:
                raise AuthenticationError(f"no shared secret is configured for {algorithm} tokens")
            key = self._secret
        else:
            if self._jwks is None:
                raise AuthenticationError(f"no JWKS URL is configured for {algorithm} tokens")
            kid = header.get("kid")
            key = (await self._jwks.key(kid if isinstance(kid, str) else None)).key
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._section.audience,
                issuer=self._section.issuer,
                leeway=self._section.leeway_seconds,
                options=self._options,
            )
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(_describe(error)) from error
        return claims


_REASONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (nbf or iat in the future)"),
    (jwt.InvalidIssuerError, "the token was issued by an issuer this gateway does not trust"),
    (jwt.InvalidAudienceError, "the token is not meant for this gateway (audience)"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
)


def _describe(error: jwt.InvalidTokenError) -> str:
    """What is wrong with a token, in words a client developer can act on."""
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token lacks the required claim {error.claim!r}"
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "the bearer token is invalid"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is no header."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    return token.strip()
