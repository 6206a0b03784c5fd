"""Gateway configuration: one TOML file, overridden by environment variables, validated at start.

Each package declares its section as a pydantic model in its own ``config.py`` (which imports
nothing of the gateway but ``gateway.sections``) and adds one field to ``Settings``. Environment
variables override the file: ``JAMAJAMA_SERVER__PORT=4100`` sets ``[server] port``. An unknown
key or a bad value stops the start with an error naming the key. ``docs/configuration.md`` lists
every key with its default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# Each package owns its section (``gateway/<package>/config.py``, built on gateway.sections and
# importing nothing else of the gateway); this module only composes them.
from gateway.audit.config import AuditSection
from gateway.auth.config import ApplicationsSection, AuthSection, JwtSection
from gateway.auth.demo import (
    DEMO_APPLICATIONS,
    DEMO_PURPOSES,
    DEV_AUDIENCE,
    DEV_IDENTIFIER_KEY,
    DEV_ISSUER,
    DEV_SECRET,
)
from gateway.connectors.config import ConnectorsSection
from gateway.executor.config import SubgraphsSection
from gateway.http.config import HttpSection, PersistedSection
from gateway.limits.config import LimitsSection
from gateway.observability.config import TelemetrySection
from gateway.planner.config import PlannerSection
from gateway.ratelimit.config import RateLimitSection
from gateway.registry.config import RegistryPollSection, RegistrySection
from gateway.sections import ConfigError as ConfigError
from gateway.sections import Section
from gateway.subscriptions.config import SubscriptionsSection


class ServerSection(Section):
    """Where the gateway listens and which supergraph it serves."""

    host: str = "127.0.0.1"
    port: int = Field(default=4000, ge=0, le=65535)
    supergraph: Path | None = None
    #: routing URL overrides by subgraph name (e.g. containers reach subgraphs by service name)
    subgraph_urls: dict[str, str] = Field(default_factory=dict)
    #: identical queries in flight share one execution (only without access control)
    deduplicate_requests: bool = False
    #: worker processes sharing the listening socket (metrics: set PROMETHEUS_MULTIPROC_DIR)
    workers: int = Field(default=1, ge=1, le=64)
    #: freeze start-up objects and raise the cyclic GC's thresholds (gateway/gc_tuning.py)
    tune_gc: bool = True


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="JAMAJAMA_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    server: ServerSection = ServerSection()
    auth: AuthSection = AuthSection()
    audit: AuditSection = AuditSection()
    rate_limit: RateLimitSection = RateLimitSection()
    registry: RegistrySection = RegistrySection()
    registry_poll: RegistryPollSection = RegistryPollSection()
    http: HttpSection = HttpSection()
    limits: LimitsSection = LimitsSection()
    planner: PlannerSection = PlannerSection()
    persisted_queries: PersistedSection = PersistedSection()
    subgraphs: SubgraphsSection = SubgraphsSection()
    connectors: ConnectorsSection = ConnectorsSection()
    telemetry: TelemetrySection = TelemetrySection()
    subscriptions: SubscriptionsSection = SubscriptionsSection()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: it overrides what the file (passed as init values) says.
        return env_settings, init_settings


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path`` (TOML) if given, apply environment overrides, validate everything."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except OSError as error:
            raise ConfigError(f"cannot read configuration file {path}: {error.strerror}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"configuration file {path} is not valid TOML: {error}") from error
    try:
        return Settings(**raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from error


def dev_settings(base: Settings, state_dir: Path) -> Settings:
    """``base`` with the development token secret and the demo applications (never production).

    A configured ``[audit]`` section is kept (the operator chose where records go); without one
    the audit log is a SQLite file in ``state_dir``."""
    auth: AuthSection = base.auth.model_copy(
        update={
            "jwt": JwtSection(
                secret=SecretStr(DEV_SECRET),
                issuer=DEV_ISSUER,
                audience=DEV_AUDIENCE,
            ),
            "applications": ApplicationsSection(
                sqlite_path=state_dir / "applications.sqlite3",
                seed=list(DEMO_APPLICATIONS),
                purposes=list(DEMO_PURPOSES),
            ),
            "identifiers": base.auth.identifiers.model_copy(
                update={"key": SecretStr(DEV_IDENTIFIER_KEY), "key_file": None}
            ),
        }
    )
    audit = base.audit
    if "audit" not in base.model_fields_set:
        audit = AuditSection(sqlite_path=state_dir / "audit.sqlite3")
    return base.model_copy(update={"auth": auth, "audit": audit})
