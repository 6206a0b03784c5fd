"""``jamajama migrate``: bring the stores' schemas to this release's version, as one explicit step.

In a cluster (PostgreSQL) this runs once per upgrade, before the new replicas start (a Kubernetes
Job, a compose one-shot); replicas refuse an older schema. Embedded SQLite stores also migrate
when they open, so on one machine the command is optional. It reads the same configuration as
the servers (``--config`` and the ``JAMAJAMA_*`` environment variables).

Exit codes: 0 done (or, with ``--status``, every store current); 1 ``--status`` found a store
behind; 2 bad configuration, unreachable database or a failed migration (nothing changed).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError
from gateway.migrations import applications, audit, registry
from gateway.migrations.runner import (
    POSTGRES,
    SQLITE,
    Dialect,
    Plan,
    connect_postgres,
    current_version,
    migrate,
)

if TYPE_CHECKING:
    from gateway.config import Settings

STORES = ("audit", "applications", "registry")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", choices=STORES, help="migrate one store only (default: every configured one)"
    )
    parser.add_argument(
        "--config", type=Path, help="the servers' configuration file (TOML, docs/configuration.md)"
    )
    parser.add_argument(
        "--status", action="store_true", help="print each store's schema version; change nothing"
    )


@dataclass(frozen=True, slots=True)
class Target:
    """One store's database as the configuration names it."""

    plan: Plan
    sqlite_path: Path | None = None
    postgres_url: str | None = None
    search_path: str | None = None

    @property
    def dialect(self) -> Dialect:
        return SQLITE if self.sqlite_path is not None else POSTGRES

    def describe(self) -> str:
        if self.sqlite_path is not None:
            return f"SQLite {self.sqlite_path}"
        return f"PostgreSQL {_safe_url(self.postgres_url or '')}" + (
            f" schema {self.search_path}" if self.search_path else ""
        )

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.sqlite_path), isolation_level=None, timeout=30)
            with closing(conn):
                yield conn
        else:
            with closing(connect_postgres(self.postgres_url or "", self.search_path)) as conn:
                yield conn


def _safe_url(url: str) -> str:
    """Host, port and database of a PostgreSQL URL, never its password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # an unparsable URL: say nothing about it
        return "(unparsable URL)"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def targets(settings: Settings, only: str | None) -> list[Target]:
    """The stores the configuration describes (``only``: just that one)."""
    found: list[Target] = []
    if only in (None, "audit") and (settings.audit.enabled or only == "audit"):
        section = settings.audit
        plan = audit.plan(section.table)
        found.append(
            Target(plan, postgres_url=section.postgres_url)
            if section.backend == "postgres"
            else Target(plan, sqlite_path=section.sqlite_path)
        )
    if only in (None, "applications"):
        apps = settings.auth.applications
        plan = applications.plan(apps.table)
        found.append(
            Target(plan, postgres_url=apps.postgres_url)
            if apps.backend == "postgres"
            else Target(plan, sqlite_path=apps.sqlite_path)
        )
    if only in (None, "registry"):
        reg = settings.registry
        found.append(
            Target(registry.plan(), postgres_url=reg.database_url, search_path=reg.database_schema)
            if reg.database_url
            else Target(registry.plan(), sqlite_path=reg.database)
        )
    return found


def _check(targets_: list[Target]) -> None:
    from gateway.config import ConfigError

    for target in targets_:
        if target.sqlite_path is None and not target.postgres_url:
            setting = target.plan.setting.replace("migrate_at_start", "postgres_url")
            raise ConfigError(f"{setting} is required for backend postgres")


def _migrate_one(target: Target, explicit: bool) -> str:
    if target.sqlite_path is not None and not explicit and not target.sqlite_path.exists():
        return "not created yet (an embedded store migrates when it is first opened)"
    with target.connect() as conn:
        before = current_version(conn, target.dialect, target.plan.key)
        applied = migrate(conn, target.dialect, target.plan)
    if not applied:
        return f"at version {before}, nothing to do"
    steps = ", ".join(f"{m.version} ({m.name})" for m in applied)
    return f"version {before} -> {applied[-1].version}: applied {steps}"


def _status_one(target: Target) -> tuple[str, bool]:
    if target.sqlite_path is not None and not target.sqlite_path.exists():
        return "not created yet", True
    with target.connect() as conn:
        version = current_version(conn, target.dialect, target.plan.key)
    head = target.plan.head
    return f"version {version} of {head}" + (
        "" if version >= head else " (behind)"
    ), version >= head


def run(args: argparse.Namespace) -> int:
    from gateway.config import ConfigError, load_settings

    try:
        chosen = targets(load_settings(args.config), args.store)
        _check(chosen)
    except (ConfigError, GatewayError) as error:
        print(f"jamajama migrate: {error.message}", file=sys.stderr)
        return 2
    current = True
    for target in chosen:
        try:
            if args.status:
                line, ok = _status_one(target)
                current = current and ok
            else:
                line = _migrate_one(target, explicit=args.store is not None)
        except GatewayError as error:
            print(f"{target.plan.store}: {error.message}", file=sys.stderr)
            return 2
        except Exception as error:  # unreachable database, unreadable file
            print(f"{target.plan.store} ({target.describe()}): {error}", file=sys.stderr)
            return 2
        print(f"{target.plan.store} ({target.describe()}): {line}")
    return 0 if current else 1
