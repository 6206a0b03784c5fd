"""Production sign-in: the OpenID Connect authorization-code flow with PKCE (S256).

``start`` builds the issuer's authorization URL and the values the session must keep (state,
nonce, code verifier); ``finish`` exchanges the code at the token endpoint and verifies the ID
token (signature from the issuer's JWKS, issuer, audience, expiry, nonce). Roles come from its
claims (``gateway.portal.roles.roles_from_claims``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from gateway.portal.config import OidcSettings


class OidcError(Exception):
    """The sign-in could not be completed (a clear message for the page)."""


def _discover(settings: OidcSettings) -> dict[str, Any]:
    url = f"{settings.issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=5.0)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OidcError(f"penyedia identitas tidak dapat dihubungi: {error}") from error
    if document.get("issuer") != settings.issuer:
        raise OidcError("dokumen discovery penyedia identitas menyebut issuer lain")
    return document


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start(settings: OidcSettings) -> tuple[str, dict[str, str]]:
    """The authorization URL to redirect to, and what the session keeps until the callback."""
    document = _discover(settings)
    pending = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": secrets.token_urlsafe(48),
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": settings.redirect_uri,
            "scope": settings.scope,
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": _challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
    )
    return f"{document['authorization_endpoint']}?{query}", pending


def finish(
    settings: OidcSettings, pending: dict[str, str], code: str, state: str
) -> dict[str, Any]:
    """The verified ID token's claims for the callback's ``code``/``state``."""
    if not pending.get("state") or not secrets.compare_digest(state, pending["state"]):
        raise OidcError("state tidak cocok: mulai masuk lagi")
    document = _discover(settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.redirect_uri,
        "client_id": settings.client_id,
        "code_verifier": pending["verifier"],
    }
    auth = (settings.client_id, settings.client_secret) if settings.client_secret else None
    try:
        response = httpx.post(document["token_endpoint"], data=form, auth=auth, timeout=5.0)
        response.raise_for_status()
        id_token = str(response.json()["id_token"])
    except (httpx.HTTPError, ValueError, KeyError) as error:
        raise OidcError(f"penukaran kode ditolak: {error}") from error
    try:
        key = jwt.PyJWKClient(document["jwks_uri"]).get_signing_key_from_jwt(id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=["RS256", "ES256", "PS256", "EdDSA"],
            audience=settings.client_id,
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "sub", "nonce"]},
        )
    except jwt.PyJWTError as error:
        raise OidcError(f"ID token tidak sah: {error}") from error
    if not secrets.compare_digest(str(claims.get("nonce", "")), pending.get("nonce", "")):
        raise OidcError("nonce tidak cocok: mulai masuk lagi")
    return claims
