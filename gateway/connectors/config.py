"""The ``[connectors]`` configuration section: per source, the base URL of this environment,
the ``$config`` values (API keys) — never written in an SDL — and the client headers it may
receive. ``Settings.connectors``; ``docs/connectors.md`` shows the shape.

```toml
[connectors]
timeout = 10
max_concurrency = 8
[connectors.sources."bapenda.samsat"]
base_url = "https://samsat.lampungprov.go.id/api/v1"
timeout = 5
config_files = { apiKey = "/run/secrets/bapenda-api-key" }   # a secret file per value
config_env = { apiKey = "BAPENDA_API_KEY" }                   # or an environment variable
config = { apiKey = "…" }                                     # or the value itself
propagate_headers = ["x-kode-loket"]   # client headers its `from:` mappings may copy
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator

from gateway.sections import ConfigError, Section

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z][A-Za-z0-9_-]{0,63}$")


class ConnectorSourceSection(Section):
    """One source (``"<subgraph>.<source>"``) in this environment."""

    #: replaces the SDL's baseURL (scheme, host and path prefix); None: the SDL's
    base_url: str | None = None
    #: seconds a call to this source may take; None: the section's ``timeout``
    timeout: float | None = Field(default=None, gt=0)
    #: the source's ``$config``: every value is a secret (never logged, never in errors)
    config: dict[str, SecretStr] = Field(default_factory=dict)
    #: ``$config`` values read from secret files (win over ``config``)
    config_files: dict[str, Path] = Field(default_factory=dict)
    #: ``$config`` values read from environment variables, by variable name (win over both)
    config_env: dict[str, str] = Field(default_factory=dict)
    #: client request headers (lower case) this source's ``from:`` mappings and
    #: ``$request.headers`` see; none by default (the client's headers stay at the gateway)
    propagate_headers: list[str] = Field(default_factory=list)

    def values(self) -> dict[str, str]:
        """The ``$config`` of this source, secrets revealed (for the runtime only)."""
        out = {name: secret.get_secret_value() for name, secret in self.config.items()}
        for name, path in self.config_files.items():
            try:
                out[name] = path.read_text().strip()
            except OSError as error:
                raise ConfigError(
                    f"connectors: cannot read the $config.{name} file {path}: {error.strerror}"
                ) from error
        for name, variable in self.config_env.items():
            value = os.environ.get(variable)
            if value is None:
                raise ConfigError(f"connectors: $config.{name} needs the variable {variable}")
            out[name] = value
        return out

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/?{}]+", value):
            raise ValueError(f"base_url must be an http(s) URL, got {value!r}")
        return value


class ConnectorsSection(Section):
    """How the gateway calls the REST APIs behind connectors."""

    #: seconds one HTTP call may take
    timeout: float = Field(default=10.0, gt=0)
    #: concurrent calls of one unbatched connector for one operation
    max_concurrency: int = Field(default=8, ge=1)
    #: largest response body of a REST API (64 MiB); beyond, ``SUBGRAPH_RESPONSE_TOO_LARGE`` on
    #: that connector's fields and the connection is dropped (``0``: no cap)
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    sources: dict[str, ConnectorSourceSection] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _source_keys(cls, value: dict[str, ConnectorSourceSection]) -> Any:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(f"source keys are '<subgraph>.<source>', got {key!r}")
        return value

    def base_urls(self) -> dict[str, str]:
        return {k: s.base_url for k, s in self.sources.items() if s.base_url is not None}

    def timeouts(self) -> dict[str, float]:
        return {k: s.timeout for k, s in self.sources.items() if s.timeout is not None}

    def source_config(self) -> dict[str, dict[str, str]]:
        """Every source's ``$config`` with the secrets revealed (for the runtime only); raises
        ``ConfigError`` when a secret file or variable is missing."""
        return {k: s.values() for k, s in self.sources.items()}

    def headers(self) -> dict[str, frozenset[str]]:
        """Per source, the client headers it may receive (lower case)."""
        return {
            k: frozenset(h.lower() for h in s.propagate_headers) for k, s in self.sources.items()
        }

    def all_headers(self) -> list[str]:
        """Every client header some source may receive (the HTTP layer captures them)."""
        return sorted({h for names in self.headers().values() for h in names})
