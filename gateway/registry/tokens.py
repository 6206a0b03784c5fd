"""Registry tokens: one per OPD team (it publishes only its own subgraph) and the admin's.

A production token is random and the registry is configured with its hash only (``sha256:<hex>``
in ``[registry] tokens``), so no configuration file holds a usable secret. Development tokens are
fixed, well-known strings that only a registry started with ``--dev`` accepts: they make the
README's commands reproducible and must never reach a real deployment.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

#: the admin token of a ``--dev`` registry (rollback, usage reports, publishing any subgraph)
DEV_ADMIN_TOKEN = "dev-registry-admin"


def dev_token(subgraph: str) -> str:
    """The token a ``--dev`` registry accepts from the team of ``subgraph``."""
    return f"dev-registry-{subgraph}"


def dev_tokens(subgraphs: Iterable[str]) -> dict[str, str]:
    return {name: dev_token(name) for name in subgraphs}


@dataclass(frozen=True, slots=True)
class MintedToken:
    """A new random token and what the registry's configuration holds for it."""

    token: str

    @property
    def configured(self) -> str:
        """The ``[registry] tokens`` value: the token's SHA-256, never the token itself."""
        return "sha256:" + hashlib.sha256(self.token.encode()).hexdigest()


def mint_token() -> MintedToken:
    """A fresh token (256 random bits, URL-safe)."""
    return MintedToken(secrets.token_urlsafe(32))
