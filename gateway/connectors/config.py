"""The ``[connectors]`` configuration section: per source, the base URL of this environment and
the ``$config`` values (API keys) — never written in an SDL. Not yet registered in ``Settings``
(the planner integration does that); ``docs/connectors.md`` shows the shape.

```toml
[connectors]
timeout = 10
max_concurrency = 8
[connectors.sources."bapenda.samsat"]
base_url = "https://samsat.lampungprov.go.id/api/v1"
timeout = 5
config = { apiKey = "…" }   # or JAMAJAMA_CONNECTORS__SOURCES__… in the environment
```
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, SecretStr, field_validator

from gateway.sections import Section

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z][A-Za-z0-9_-]{0,63}$")


class ConnectorSourceSection(Section):
    """One source (``"<subgraph>.<source>"``) in this environment."""

    #: replaces the SDL's baseURL (scheme, host and path prefix); None: the SDL's
    base_url: str | None = None
    #: seconds a call to this source may take; None: the section's ``timeout``
    timeout: float | None = Field(default=None, gt=0)
    #: the source's ``$config``: every value is a secret (never logged, never in errors)
    config: dict[str, SecretStr] = Field(default_factory=dict)

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
        """Every source's ``$config`` with the secrets revealed (for the runtime only)."""
        return {
            k: {name: secret.get_secret_value() for name, secret in s.config.items()}
            for k, s in self.sources.items()
        }
