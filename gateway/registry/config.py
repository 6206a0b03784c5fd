"""The ``[registry]`` section (the schema registry service) and ``[registry_poll]`` (a gateway
that follows the registry). ``docs/configuration.md`` lists every key.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from gateway.config import Section


class RegistrySection(Section):
    """Where the registry listens, where it keeps versions, who may publish what."""

    host: str = "127.0.0.1"
    port: int = Field(default=4100, ge=0, le=65535)
    #: embedded store (SQLite file); ignored when ``database_url`` is set
    database: Path = Path("var/registry.sqlite3")
    #: ``postgresql://...`` to keep versions and usage in PostgreSQL (clusters)
    database_url: str | None = None
    #: PostgreSQL schema holding the registry's tables (created if missing)
    database_schema: str = "jamajama_registry"
    #: PostgreSQL: apply schema migrations at start (default: refuse an older schema and name
    #: ``jamajama migrate``; SQLite always migrates at start)
    migrate_at_start: bool = False
    #: one token per OPD team: subgraph name -> token; a token publishes only its own subgraph
    tokens: dict[str, SecretStr] = Field(default_factory=dict)
    #: may roll back and publish any subgraph
    admin_token: SecretStr | None = None
    #: a breaking change is refused when an operation used the field within this many days
    usage_window_days: float = Field(default=30.0, ge=0)
    #: @policy names that mark personal data in the catalogue
    personal_data_policies: list[str] = Field(default_factory=lambda: ["data_pribadi"])


class RegistryPollSection(Section):
    """A gateway that takes its supergraph from the registry and hot-reloads new versions."""

    #: the registry's base URL (e.g. ``http://127.0.0.1:4100``); unset: no polling
    url: str | None = None
    interval_seconds: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=5.0, gt=0)
    #: the last good supergraph is kept here, so a gateway starts even if the registry is down
    cache_path: Path | None = Path("var/supergraph.cache.graphql")
    #: the registry's admin token: when set, the gateway reports which fields operations use
    #: (``POST /api/usage``) so that the registry refuses breaking changes to used fields
    usage_token: SecretStr | None = None
    usage_interval_seconds: float = Field(default=10.0, gt=0)
