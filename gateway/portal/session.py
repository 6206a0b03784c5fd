"""Portal sessions: a signed cookie (HMAC-SHA256 over the JSON payload, with an expiry).

The cookie holds who signed in (subject, name, roles) and the session's CSRF token, nothing else;
it is HttpOnly, SameSite=Lax, Secure unless the portal runs in development over plain HTTP. A
cookie whose signature does not match, or that expired, is ignored (the visitor is signed out).
Stdlib only: the payload is small and the scheme is ten lines, a dependency would not do better.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

COOKIE = "jamajama_portal"
#: a session lasts a working day
MAX_AGE_S = 8 * 3600


@dataclass
class Session:
    """What the portal remembers about a visitor between requests."""

    subject: str = ""
    name: str = ""
    roles: tuple[str, ...] = ()
    #: the OPD an OPD admin administers (``opd_admin`` role), or the application an owner owns
    opd: str = ""
    application: str = ""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    #: values of a sign-in in progress (OIDC ``state``, PKCE verifier, nonce)
    pending: dict[str, str] = field(default_factory=dict)
    expires: float = field(default_factory=lambda: time.time() + MAX_AGE_S)

    @property
    def signed_in(self) -> bool:
        return bool(self.subject)

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "name": self.name,
            "roles": list(self.roles),
            "opd": self.opd,
            "app": self.application,
            "csrf": self.csrf,
            "pending": self.pending,
            "exp": self.expires,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(
            subject=str(data.get("sub", "")),
            name=str(data.get("name", "")),
            roles=tuple(str(r) for r in data.get("roles", [])),
            opd=str(data.get("opd", "")),
            application=str(data.get("app", "")),
            csrf=str(data["csrf"]),
            pending={str(k): str(v) for k, v in dict(data.get("pending", {})).items()},
            expires=float(data["exp"]),
        )


class SessionCodec:
    """Signs and verifies session cookies with the portal's secret key."""

    def __init__(self, secret: str, secure: bool) -> None:
        if len(secret) < 32:
            raise ValueError("the portal's session secret must be at least 32 characters")
        self._key = hashlib.sha256(b"jamajama-portal-session\0" + secret.encode()).digest()
        self.secure = secure

    def _sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(
            hmac.new(self._key, payload, hashlib.sha256).digest()
        ).decode()

    def dumps(self, session: Session) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(session.to_dict()).encode()).decode()
        return f"{payload}.{self._sign(payload.encode())}"

    def loads(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload.encode())):
            return None
        try:
            session = Session.from_dict(json.loads(base64.urlsafe_b64decode(payload)))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def save(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.dumps(session),
            max_age=MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)
