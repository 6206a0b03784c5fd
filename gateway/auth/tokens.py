"""Bearer-token verification with pyjwt: HS256 (shared secret) or RS/ES/PS keys from a JWKS URL.

Expiry, not-before, issuer and audience are checked. Every failure is an ``AuthenticationError``
whose message says what is wrong with the token (expired, wrong audience, unknown key...) without
echoing the token. JWKS keys are fetched with httpx's async client (the event loop never blocks),
cached, and refetched when a token names an unknown ``kid`` (at most once per
``jwks_min_refresh_seconds``, so a flood of forged kids cannot hammer the provider).
"""

from __future__ import annotations

import asyncio
import logging
import time
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
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key for ``kid`` (or the only key when the token names none)."""
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at > self._cache_seconds:
            await self._refresh(force=True)
        found = self._find(kid)
        if found is None and kid is not None:
            await self._refresh(force=False)
            found = self._find(kid)
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

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = self._clock()
            if self._fetched_at is not None:
                age = now - self._fetched_at
                if (force and age <= self._cache_seconds) or (
                    not force and age < self._min_refresh
                ):
                    return  # another request just refreshed, or too soon after the last fetch
            try:
                document = await self._fetch()
            except (httpx.HTTPError, ValueError) as error:
                logger.warning("cannot fetch JWKS from %s: %s", self.url, error)
                if not self._keys:
                    raise AuthenticationError(
                        "the identity provider's signing keys cannot be fetched; try again later",
                        code="AUTHENTICATION_UNAVAILABLE",
                    ) from error
                return  # keep serving the keys we have
            self._keys = _parse_jwks(document)
            self._fetched_at = now
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


class TokenVerifier:
    """Verifies a compact JWT and returns its claims, or raises ``AuthenticationError``."""

    def __init__(self, section: JwtSection, jwks: JwksCache | None = None) -> None:
        self._section = section
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
