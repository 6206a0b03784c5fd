"""The base of configuration sections and the configuration error, with no imports of the
subsystems: a subsystem's section module imports these without importing the whole
configuration (which imports every section), so any module may be imported first."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gateway.errors import GatewayError


class ConfigError(GatewayError):
    """The configuration file or environment holds an unknown key or a bad value."""

    code = "INVALID_CONFIGURATION"


class Section(BaseModel):
    """Base of every configuration section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
