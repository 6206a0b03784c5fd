"""Production sign-in against a small stub identity provider: authorization code with PKCE (S256),
the ID token verified from the issuer's JWKS, roles from its claims; a forged state is refused."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.portal.app import create_app
from gateway.portal.config import OidcSettings, PortalSettings
from tests.portal.conftest import SECRET, csrf_of
from tests.servers import ServerThread

CLIENT_ID = "portal"


@dataclass
class StubIdp:
    """Signs in whoever it is told to (``claims``); checks the client's PKCE verifier."""

    claims: dict[str, Any]
    url: str = ""
    key: Any = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                }
            )

        async def authorize(request: Request) -> Response:
            q = request.query_params
            assert q["code_challenge_method"] == "S256" and q["response_type"] == "code"
            code = secrets.token_urlsafe(8)
            self.codes[code] = dict(q)
            query = urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

        async def token(request: Request) -> Response:
            form = dict(await _form(request))
            asked = self.codes.pop(form["code"], None)
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if asked is None or challenge != asked["code_challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.url, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                "nonce": asked["nonce"], **self.claims,
            }  # fmt: skip
            id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
            return JSONResponse({"id_token": id_token, "token_type": "Bearer"})

        async def jwks(request: Request) -> Response:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return JSONResponse({"keys": [{**public, "kid": "k1", "use": "sig"}]})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/jwks", jwks),
            ]
        )


async def _form(request: Request) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl((await request.body()).decode())


class Late:
    """An ASGI app set once its server's URL is known."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture
def idp_and_portal() -> Iterator[tuple[StubIdp, str]]:
    idp = StubIdp({"sub": "u-17", "name": "Siti DPO", "roles": ["dpo", "unknown"]})
    idp_server = ServerThread(idp.app())
    idp.url = idp_server.url
    late = Late()
    portal_server = ServerThread(late, lifespan="off")
    settings = PortalSettings(
        session_secret=SECRET,
        oidc=OidcSettings(
            issuer=idp.url,
            client_id=CLIENT_ID,
            redirect_uri=f"{portal_server.url}/masuk/callback",
        ),
        dev=True,  # plain-HTTP cookies for the test server
    )
    late.app = create_app(settings)
    with idp_server, portal_server:
        yield idp, portal_server.url


def test_oidc_code_flow_with_pkce_signs_in_with_roles_from_claims(
    idp_and_portal: tuple[StubIdp, str],
) -> None:
    _, portal = idp_and_portal
    with httpx.Client(base_url=portal, timeout=10) as client:
        token = csrf_of(client.get("/masuk").text)
        home = client.post("/masuk/oidc", data={"csrf": token}, follow_redirects=True)
        assert home.status_code == 200 and str(home.url) == f"{portal}/"
        assert "Siti DPO · Pejabat Pelindungan Data (DPO)" in home.text


def test_a_callback_with_a_forged_state_is_refused(idp_and_portal: tuple[StubIdp, str]) -> None:
    idp, portal = idp_and_portal
    with httpx.Client(base_url=portal, timeout=10) as client:
        token = csrf_of(client.get("/masuk").text)
        to_idp = client.post("/masuk/oidc", data={"csrf": token})
        assert to_idp.headers["location"].startswith(f"{idp.url}/authorize?")
        back = httpx.get(to_idp.headers["location"])  # the IdP's redirect, state replaced
        code = back.headers["location"].split("code=")[1].split("&")[0]
        refused = client.get(f"/masuk/callback?code={code}&state=forged")
        assert refused.headers["location"] == "/masuk?galat=masuk-gagal"
        assert "Keluar" not in client.get("/").text
