"""The portal's settings: where the gateway, its metrics and the registries are, the session
secret, the dashboard application's token and the OIDC issuer (production sign-in).

Read from ``JAMAJAMA_PORTAL_*`` environment variables (a secret never goes on a command line),
command-line options override the URLs. ``dev`` turns on the role picker and, when no dashboard
token is configured, mints a development token for the ``dasbor-gubernur`` application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

PREFIX = "JAMAJAMA_PORTAL_"
DEFAULT_GATEWAY = "http://127.0.0.1:4000"
DEFAULT_REGISTRY = "http://127.0.0.1:4100"


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """An OpenID Connect issuer the portal signs users in with (authorization code + PKCE)."""

    issuer: str
    client_id: str
    client_secret: str = ""
    #: this portal's callback URL as registered at the issuer
    redirect_uri: str = ""
    scope: str = "openid profile email"


@dataclass(frozen=True, slots=True)
class PortalSettings:
    gateway_url: str = DEFAULT_GATEWAY
    registry_url: str = DEFAULT_REGISTRY
    #: where the gateway's Prometheus metrics are (default: ``gateway_url`` + ``/metrics``)
    metrics_url: str = ""
    session_secret: str = ""
    #: the dashboard application's bearer token for the public GraphQL endpoint
    dashboard_token: str = ""
    #: the application registry (same store as ``jamajama token``/the gateway): a SQLite path or
    #: a PostgreSQL DSN
    applications_store: str = ""
    dev: bool = False
    oidc: OidcSettings | None = None
    #: the OPD profiles file (``gateway.portal.opds``); empty: the packaged one
    opds_file: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def metrics(self) -> str:
        return self.metrics_url or f"{self.gateway_url.rstrip('/')}/metrics"

    @property
    def graphql(self) -> str:
        return f"{self.gateway_url.rstrip('/')}/graphql"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> PortalSettings:
        source = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return source.get(PREFIX + name, default)

        oidc = None
        if get("OIDC_ISSUER"):
            oidc = OidcSettings(
                issuer=get("OIDC_ISSUER"),
                client_id=get("OIDC_CLIENT_ID"),
                client_secret=get("OIDC_CLIENT_SECRET"),
                redirect_uri=get("OIDC_REDIRECT_URI"),
            )
        values: dict[str, object] = {
            "gateway_url": get("GATEWAY_URL", DEFAULT_GATEWAY),
            "registry_url": get("REGISTRY_URL", DEFAULT_REGISTRY),
            "metrics_url": get("METRICS_URL"),
            "session_secret": get("SESSION_SECRET"),
            "dashboard_token": get("DASHBOARD_TOKEN"),
            "applications_store": get("APPLICATIONS_STORE"),
            "opds_file": get("OPDS_FILE"),
            "oidc": oidc,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
