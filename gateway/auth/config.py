"""The ``[auth]`` configuration section: tokens, claims, applications, policies, identifiers.

Closed by default: authorization is enforced, an operation's unauthorized parts are removed,
unregistered applications are anonymous, unknown policies deny. ``docs/configuration.md`` lists
every key.
"""

from __future__ import annotations

from datetime import date
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


class PurposeApproval(Section):
    """What a purpose opens for the applications of one OPD."""

    scopes: list[str] = Field(default_factory=list)
    policies: list[str] = Field(default_factory=list)


class PurposeSeed(Section):
    """A purpose of processing (UU 27/2022), written to the registry at start (upserted)."""

    id: str
    name: str = ""
    description: str = ""
    #: dasar hukum: the regulation that allows the processing
    legal_basis: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    #: OPD -> the scopes and policies this purpose approves for that OPD's applications
    approvals: dict[str, PurposeApproval] = Field(default_factory=dict)


class ApplicationsSection(Section):
    """The registry of consumer applications: which scopes and purposes each is approved for."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: Path = Path("var/applications.sqlite3")
    postgres_url: str | None = None
    table: str = Field(default="jamajama_applications", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    #: PostgreSQL: apply schema migrations at start (default: refuse an older schema and name
    #: ``jamajama migrate``; SQLite always migrates at start)
    migrate_at_start: bool = False
    #: PostgreSQL unreachable: an application read within this many seconds stays known without
    #: its purposes, so it is still served aggregates (never personal data); 0: refuse (503)
    outage_grace_seconds: float = Field(default=300.0, ge=0)
    seed: list[ApplicationSeed] = Field(default_factory=list)
    #: purposes written to the registry at start (an application's purposes name these)
    purposes: list[PurposeSeed] = Field(default_factory=list)


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


class IdentifierKind(Section):
    """One kind of identifier (NIK, No. KK, NISN, JKN card number) and the scope that reveals it."""

    #: field coordinates that carry it in a response (``Penduduk.nik``), entity keys included
    fields: list[str] = Field(default_factory=list)
    #: arguments that look a record up by it (``Query.penduduk.nik``): they need the reveal rights
    arguments: list[str] = Field(default_factory=list)
    #: the scope that shows the real value (with every ``reveal_policies`` granted)
    reveal_scope: str
    #: what it looks like in free text (error messages and extensions are scrubbed of it)
    pattern: str = Field(default=r"\d{16}", min_length=1)


def _default_identifiers() -> dict[str, IdentifierKind]:
    return {
        "nik": IdentifierKind(
            fields=["Penduduk.nik"],
            arguments=["Query.penduduk.nik"],
            reveal_scope="kependudukan:nik",
        ),
        "no_kk": IdentifierKind(
            fields=["Keluarga.noKk"],
            arguments=["Query.keluarga.noKk"],
            reveal_scope="kependudukan:nik",
        ),
        "nisn": IdentifierKind(
            fields=["PesertaDidik.nisn"], reveal_scope="pendidikan:nisn", pattern=r"\d{10}"
        ),
        "nomor_kartu_jkn": IdentifierKind(
            fields=["KepesertaanJkn.nomorKartu"], reveal_scope="kesehatan:jkn", pattern=r"\d{13}"
        ),
    }


class IdentifiersSection(Section):
    """The one declaration of identifiers: where they travel, and who sees them (security.md)."""

    kinds: dict[str, IdentifierKind] = Field(default_factory=_default_identifiers)
    #: policies that must be granted besides the reveal scope (personal data: approved purpose)
    reveal_policies: list[str] = Field(default_factory=lambda: ["data_pribadi"])
    #: key of pseudonyms and sealed cursors (at least 32 bytes); or ``key_file`` (a secret file).
    #: Neither: a random key per process (pseudonyms and cursors change at restart; warned)
    key: SecretStr | None = None
    key_file: Path | None = None
    #: response fields holding a subgraph cursor (sealed on the way out)
    cursor_fields: list[str] = Field(default_factory=lambda: ["PageInfo.endCursor"])
    #: the argument that brings a cursor back (unsealed on the way in)
    cursor_argument: str = "after"


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
    identifiers: IdentifiersSection = IdentifiersSection()
