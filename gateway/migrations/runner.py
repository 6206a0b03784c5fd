"""Apply a store's pending migrations, or refuse a schema older than the code.

Why a small runner instead of alembic: the three stores use the raw drivers (``sqlite3``,
``psycopg``) and configurable table names (``audit.table``, ``auth.applications.table``), and each
has one or two raw-SQL steps; alembic would bring SQLAlchemy and a script directory per store to
run the same statements. The runner keeps what matters from such tools: a recorded version per
store, ordered steps, one transaction per run (SQLite and PostgreSQL both have transactional DDL),
and a lock so that concurrent starters apply each step once (SQLite ``BEGIN IMMEDIATE`` takes the
database's write lock; PostgreSQL a transaction-scoped advisory lock).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.errors import GatewayError

logger = logging.getLogger("jamajama.migrations")

#: one row per applied migration: (store key, version, name, when)
VERSION_TABLE = "jamajama_schema_versions"
_LOCK_ID = zlib.crc32(VERSION_TABLE.encode())


class MigrationError(GatewayError):
    """A migration could not be applied (the transaction was rolled back: nothing changed)."""

    code = "SCHEMA_MIGRATION_FAILED"


class SchemaOutdatedError(GatewayError):
    """The database's schema is older than this code; ``jamajama migrate`` brings it up."""

    code = "SCHEMA_OUTDATED"


@dataclass(frozen=True, slots=True)
class Dialect:
    """A backend's SQL differences the stores care about: its parameter style."""

    name: Literal["sqlite", "postgres"]

    def sql(self, text: str) -> str:
        """``text`` written with ``?`` placeholders, in this backend's parameter style."""
        return text if self.name == "sqlite" else _format_style(text)


@functools.lru_cache(maxsize=512)
def _format_style(text: str) -> str:
    """``?`` -> ``%s`` outside quoted literals and identifiers; every ``%`` doubled (psycopg
    reads ``%`` as a placeholder everywhere, even inside literals)."""
    out: list[str] = []
    quote: str | None = None
    for char in text:
        if char == "%":
            out.append("%%")
        elif quote is not None:
            out.append(char)
            if char == quote:
                quote = None  # a doubled quote ('') closes and reopens: same result
        elif char in "'\"":
            quote = char
            out.append(char)
        else:
            out.append("%s" if char == "?" else char)
    return "".join(out)


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: statements per backend, with ``{name}`` fields filled from ``Plan.names``."""

    version: int
    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: Dialect, names: Mapping[str, str]) -> list[str]:
        chosen = self.sqlite if dialect.name == "sqlite" else self.postgres
        return [s.format(**names) for s in chosen]


#: runs inside the migration transaction after the steps (e.g. restore and check triggers)
Ensure = Callable[["Cursor", Dialect], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """A store's migrations, bound to its configured names."""

    store: Literal["audit", "applications", "registry"]
    #: the row key in the version table: two audit tables in one database migrate separately
    key: str
    migrations: tuple[Migration, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    ensure: Ensure | None = None
    #: the setting that migrates this store at start (named in the refusal message)
    setting: str = ""

    @property
    def head(self) -> int:
        return self.migrations[-1].version if self.migrations else 0


class Cursor:
    """A DB-API cursor that takes ``?`` placeholders on either backend."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self.raw = cursor
        self.dialect = dialect

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        if params is None:
            self.raw.execute(sql)
        else:
            self.raw.execute(self.dialect.sql(sql), params)

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self.execute(sql, params)
        return self.raw.fetchone()

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        self.execute(sql, params)
        return list(self.raw.fetchall())


def current_version(conn: Any, dialect: Dialect, key: str) -> int:
    """The store's recorded version (0: never migrated, including a database from before
    migrations existed)."""
    cur = Cursor(conn.cursor(), dialect)
    try:
        if not _has_version_table(cur):
            return 0
        row = cur.one(f"SELECT MAX(version) FROM {VERSION_TABLE} WHERE store = ?", (key,))
        return int(row[0]) if row and row[0] is not None else 0
    finally:
        cur.raw.close()


def _has_version_table(cur: Cursor) -> bool:
    if cur.dialect.name == "sqlite":
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return cur.one(query, (VERSION_TABLE,)) is not None
    return cur.one("SELECT to_regclass(?) IS NOT NULL", (VERSION_TABLE,))[0] is True


def migrate(conn: Any, dialect: Dialect, plan: Plan) -> list[Migration]:
    """Apply the pending migrations in one locked transaction; return what was applied.

    ``conn`` is in autocommit mode (``sqlite3`` with ``isolation_level=None``; psycopg with
    ``autocommit=True``): the transaction is opened and closed here.
    """
    cur = Cursor(conn.cursor(), dialect)
    try:
        _begin_locked(cur)
        try:
            applied = _apply(cur, plan)
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # a dead connection rolled back already
                cur.execute("ROLLBACK")
            raise
    except GatewayError:
        raise
    except Exception as error:  # driver errors: name the store, keep the cause
        raise MigrationError(f"migrating the {plan.store} store failed: {error}") from error
    finally:
        cur.raw.close()
    for migration in applied:
        logger.info("%s store: applied migration %d (%s)", plan.store, *_label(migration))
    return applied


def _label(migration: Migration) -> tuple[int, str]:
    return migration.version, migration.name


def _begin_locked(cur: Cursor) -> None:
    if cur.dialect.name == "sqlite":
        cur.execute("BEGIN IMMEDIATE")  # the database's write lock, held until COMMIT
        return
    cur.execute("BEGIN")
    cur.execute("SELECT pg_advisory_xact_lock(?)", (_LOCK_ID,))


def _apply(cur: Cursor, plan: Plan) -> list[Migration]:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (store TEXT NOT NULL, "
        "version INTEGER NOT NULL, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL, "
        "PRIMARY KEY (store, version))"
    )
    row = cur.one(f"SELECT MAX(version) FROM {VERSION_TABLE} WHERE store = ?", (plan.key,))
    current = int(row[0]) if row and row[0] is not None else 0
    pending = [m for m in plan.migrations if m.version > current]
    for migration in pending:
        for statement in migration.statements(cur.dialect, plan.names):
            cur.execute(statement)
        cur.execute(
            f"INSERT INTO {VERSION_TABLE} (store, version, name, applied_at) VALUES (?, ?, ?, ?)",
            (plan.key, migration.version, migration.name, time.time()),
        )
    if pending and plan.ensure is not None:
        plan.ensure(cur, cur.dialect)
    return pending


def require(conn: Any, dialect: Dialect, plan: Plan) -> int:
    """The recorded version; ``SchemaOutdatedError`` if it is older than the code's head.

    A newer schema is accepted (with a warning): migrations only add, so a replica of the
    previous release keeps serving during a rolling upgrade.
    """
    version = current_version(conn, dialect, plan.key)
    if version < plan.head:
        raise SchemaOutdatedError(outdated_message(plan, version))
    if version > plan.head:
        logger.warning(
            "%s store: schema version %d is newer than this release knows (%d)",
            plan.store,
            version,
            plan.head,
        )
    return version


def outdated_message(plan: Plan, version: int) -> str:
    return (
        f"the {plan.store} store's schema is at version {version}, this release needs "
        f"{plan.head}: run `jamajama migrate --store {plan.store}` with the same configuration "
        f"(--config), or set {plan.setting} = true to migrate at start"
    )


def prepare(conn: Any, dialect: Dialect, plan: Plan, migrate_at_start: bool) -> None:
    """What a store does when it opens: embedded SQLite migrates (under its lock); PostgreSQL
    migrates only when configured to, and otherwise refuses an older schema."""
    if dialect.name == "sqlite" or migrate_at_start:
        migrate(conn, dialect, plan)
    else:
        require(conn, dialect, plan)


def connect_postgres(url: str, search_path: str | None = None) -> Any:
    """A synchronous autocommit connection for migrating (the stores' async ones are not used)."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    if search_path is not None:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{search_path}"')
        conn.execute(f'SET search_path TO "{search_path}"')
    return conn
