"""The ``[auth]`` configuration section: tokens, claims, consumer applications, policies, masking.

Closed by default: authorization is enforced, an operation's unauthorized parts are removed,
unregistered applications are anonymous, unknown policies deny. ``docs/configuration.md`` lists
every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from gateway.sections import Section


class JwtSection(Section):
    """How bearer tokens are verified (pyjwt)."""

    #: accepted algorithms; HS* use ``secret``, RS*/ES*/PS* use keys from ``jwks_url``
    algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    #: shared secret for HS256 (development); at least 32 bytes
    secret: SecretStr | None = None
    #: JWKS URL of the OIDC provider (production), e.g. Keycloak's
    #: ``.../protocol/openid-connect/certs``
    jwks_url: str | None = None
    #: how long fetched keys are reused before a refetch
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    #: an unknown ``kid`` refetches the key set at most this often (no fetch storms)
    jwks_min_refresh_seconds: float = Field(default=10.0, ge=0)
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)
    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: float = Field(default=30.0, ge=0)
    #: claims every token must carry
    required_claims: list[str] = Field(default_factory=lambda: ["exp"])
    #: a verified token's claims are reused this long (never past ``exp``; 0: verify every time).
    #: Only the signature check is cached: grants and revocation are read on every request.
    verified_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    #: verified tokens kept at most (least recently used dropped first)
    verified_cache_size: int = Field(default=10_000, ge=1)


class ClaimsSection(Section):
    """Which claims carry what: each entry is a list of dotted claim paths, first present wins."""

    application: list[str] = Field(default_factory=lambda: ["azp", "client_id"])
    opd: list[str] = Field(default_factory=lambda: ["opd"])
    user: list[str] = Field(default_factory=lambda: ["sub"])
    #: a space-separated string (OAuth ``scope``) or a list (``scp``)
    scopes: list[str] = Field(default_factory=lambda: ["scope", "scp"])
    roles: list[str] = Field(default_factory=lambda: ["roles", "realm_access.roles"])


class ApplicationSeed(Section):
    """A consumer application written to the registry at start (upserted)."""

    id: str
    name: str = ""
    opd: str = ""
    scopes: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    revoked: bool = False


class ApplicationsSection(Section):
    """The registry of consumer applications: which scopes and purposes each is approved for."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path = Path("var/applications.sqlite3")
    postgres_url: str | None = None
    table: str = Field(default="jamajama_applications", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    #: PostgreSQL: apply schema migrations at start (default: refuse an older schema and name
    #: ``jamajama migrate``; SQLite always migrates at start)
    migrate_at_start: bool = False
    seed: list[ApplicationSeed] = Field(default_factory=list)


class PolicySection(Section):
    """A ``@policy`` name's conditions; all listed conditions must hold (no code, no ``eval``)."""

    #: the caller must be authenticated (a registered application)
    authenticated: bool = True
    #: a purpose must be declared and be one the application is approved for
    purpose_approved: bool = False
    #: if set, the declared purpose must be one of these
    purposes: list[str] | None = None
    #: the application must be one of these (if set)
    applications: list[str] | None = None
    #: the caller's OPD must be one of these (if set)
    opds: list[str] | None = None
    #: every listed claim (dotted path) must equal one of the listed values (string compare)
    claims: dict[str, list[str]] = Field(default_factory=dict)
    #: the caller must hold at least one of these roles (if set)
    roles_any: list[str] | None = None
    #: the caller must hold every one of these scopes
    scopes_all: list[str] = Field(default_factory=list)


def _default_policies() -> dict[str, PolicySection]:
    return {"data_pribadi": PolicySection(purpose_approved=True)}


class MaskingSection(Section):
    """Values returned masked unless the caller holds a scope."""

    #: field coordinate -> scope that reveals the full value
    fields: dict[str, str] = Field(default_factory=lambda: {"Penduduk.nik": "kependudukan:nik"})
    keep_prefix: int = Field(default=4, ge=0)
    keep_suffix: int = Field(default=4, ge=0)
    mask_char: str = Field(default="x", min_length=1, max_length=1)


class AuthSection(Section):
    """Who may see what (see docs/security.md)."""

    #: enforce @authenticated/@requiresScopes/@policy (a supergraph linking them is refused if off)
    enabled: bool = True
    #: ``filter`` removes unauthorized parts (null + error); ``reject`` refuses the whole operation
    mode: Literal["filter", "reject"] = "filter"
    purpose_header: str = "X-Jamajama-Purpose"
    #: who may introspect: ``all`` (filtered per caller), ``authenticated``, ``none``
    introspection: Literal["all", "authenticated", "none"] = "all"
    #: policies whose fields are personal data (purpose required, audited, fail closed)
    personal_policies: list[str] = Field(default_factory=lambda: ["data_pribadi"])
    jwt: JwtSection = JwtSection()
    claims: ClaimsSection = ClaimsSection()
    applications: ApplicationsSection = ApplicationsSection()
    policies: dict[str, PolicySection] = Field(default_factory=_default_policies)
    masking: MaskingSection = MaskingSection()
