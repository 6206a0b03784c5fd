"""The data-owning OPDs as the portal presents them: display name, the owner's contact, the legal
basis of the data they hold, its steward and when the entry was last reviewed.

Governed data, not code: a TOML file (``[[opd]]`` entries) that each OPD's data steward changes
by review in the deployment's configuration — ``JAMAJAMA_PORTAL_OPDS_FILE``, else the packaged
``opds.toml``. It is validated when the portal starts (a bad file stops it with the reason) and
re-read when it changes; a bad edit while running keeps the last good profiles and is logged.
The schema registry's catalogue says what each subgraph serves; this says who answers for it.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger("jamajama.portal")

PACKAGED = Path(__file__).with_name("opds.toml")


class Opd(BaseModel):
    """One OPD's profile."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subgraph: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    contact: str = ""
    legal_basis: str = ""
    steward: str = ""
    reviewed: date | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opd: list[Opd] = Field(default_factory=list)


class OpdProfilesError(ValueError):
    """The OPD profiles file cannot be used (unreadable, not TOML, a wrong or duplicate entry)."""


def load(path: Path) -> dict[str, Opd]:
    """The profiles in ``path`` by subgraph name; ``OpdProfilesError`` saying what is wrong."""
    try:
        parsed = _File.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as error:
        raise OpdProfilesError(f"OPD profiles {path}: {error}") from error
    found: dict[str, Opd] = {}
    for opd in parsed.opd:
        if opd.subgraph in found:
            raise OpdProfilesError(f"OPD profiles {path}: {opd.subgraph!r} appears twice")
        found[opd.subgraph] = opd
    return found


class OpdProfiles:
    """The configured profiles, re-read when the file changes."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else PACKAGED
        self._stamp = self._mtime()
        self._profiles = load(self.path)

    def _mtime(self) -> int | None:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return None

    def all(self) -> dict[str, Opd]:
        stamp = self._mtime()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._profiles = load(self.path)
            except OpdProfilesError as error:
                logger.error("%s; keeping the profiles read before", error)
        return self._profiles

    def profile(self, subgraph: str) -> Opd:
        """The profile of ``subgraph``; one with its bare name when the file has none."""
        return self.all().get(subgraph) or Opd(subgraph=subgraph, name=subgraph)

    def names(self) -> dict[str, str]:
        return {key: opd.name for key, opd in self.all().items()}
