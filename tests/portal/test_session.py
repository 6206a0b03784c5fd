"""Sign-in, sessions and CSRF: signed HttpOnly cookies, forms refused without the token."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from gateway.portal.app import create_app
from gateway.portal.config import PortalSettings
from gateway.portal.session import COOKIE, Session, SessionCodec
from tests.portal.conftest import SECRET, csrf_of
from tests.servers import serve


def test_the_dev_picker_signs_in_with_a_signed_httponly_samesite_cookie(
    client: httpx.Client,
) -> None:
    page = client.get("/masuk")
    assert "Admin Dinas Kesehatan" in page.text and "Operator Diskominfo" in page.text
    response = client.post(
        "/masuk/dev",
        data={"csrf": csrf_of(page.text), "persona": "dpo", "lanjut": "/katalog"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/katalog"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Pejabat Pelindungan Data" in client.get("/").text


def test_a_form_without_the_session_csrf_token_is_refused(client: httpx.Client) -> None:
    response = client.post("/masuk/dev", data={"csrf": "forged", "persona": "dpo"})
    assert response.status_code == 403 and "CSRF" in response.text
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_sign_in_only_follows_local_paths(client: httpx.Client) -> None:
    token = csrf_of(client.get("/masuk").text)
    response = client.post(
        "/masuk/dev",
        data={"csrf": token, "persona": "dpo", "lanjut": "//evil.example/"},
    )
    assert response.headers["location"] == "/"


def test_a_tampered_or_expired_cookie_is_a_signed_out_visitor() -> None:
    codec = SessionCodec(SECRET, secure=True)
    cookie = codec.dumps(Session(subject="dpo@x", roles=("dpo",)))
    assert codec.loads(cookie) is not None
    payload, signature = cookie.rsplit(".", 1)
    assert codec.loads(payload[:-2] + "AA." + signature) is None
    assert SessionCodec(SECRET + "other", secure=True).loads(cookie) is None
    assert codec.loads(codec.dumps(Session(subject="x", expires=1.0))) is None


def test_sign_out_clears_the_session(signed_in: Callable[[str], httpx.Client]) -> None:
    client = signed_in("operator")
    token = csrf_of(client.get("/").text)
    client.post("/keluar", data={"csrf": token})
    assert "Keluar" not in client.get("/").text


def test_production_refuses_the_dev_picker_and_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        create_app(PortalSettings(dev=False))
    with serve(create_app(PortalSettings(session_secret=SECRET))) as url:
        page = httpx.get(f"{url}/masuk")
        assert "Pilih peran" not in page.text
        assert "Secure" in page.headers["set-cookie"]  # production cookies need HTTPS


def test_pages_carry_a_strict_content_security_policy(client: httpx.Client) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
