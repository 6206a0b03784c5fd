"""Persisted operations: automatic persisted queries and trusted documents.

- Automatic persisted queries (APQ, Apollo's protocol): a client sends
  ``extensions.persistedQuery = {version: 1, sha256Hash}`` without the query; an unknown hash is
  answered ``PERSISTED_QUERY_NOT_FOUND`` and the client sends the query with the hash, which
  registers it. Any client may register any query: APQ saves bandwidth, it restricts nothing.
- Trusted documents: per consumer application, a manifest of the operations it may send (Apollo's
  ``apollo-persisted-query-manifest`` or a plain ``{id: document}`` object). A request names one
  by ``documentId`` (GraphQL over HTTP persisted documents) or by the APQ hash. In ``enforce`` mode
  an application may run nothing else: a freeform query is accepted only when its text is in the
  manifest (``QUERY_NOT_IN_SAFELIST`` otherwise), and APQ registration is refused.

APQ documents are in memory by default (bounded LRU); with ``backend = "redis"`` replicas share
them. Trusted documents are always served from this process's memory: every replica reads the
same manifests from its configuration at start, so they never depend on Redis — a Redis that
restarts empty, or is down when a gateway starts, cannot lock an application out.

When Redis is unavailable, APQ follows ``on_store_unavailable``: ``open`` (default) treats the
hash as unknown, so the client resends the query (APQ restricts nothing, only bandwidth is lost);
``closed`` answers 503 ``PERSISTED_QUERY_STORE_UNAVAILABLE``. Each failure is logged and counted
(``jamajama_shared_store_unavailable{store="apq"}``); recovery needs no restart.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from gateway.http.config import PersistedSection
from gateway.sections import ConfigError

logger = logging.getLogger("jamajama.persisted")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
STORE_UNAVAILABLE = "PERSISTED_QUERY_STORE_UNAVAILABLE"
#: callers without an application of their own (no or anonymous token)
ANONYMOUS = "anonymous"


class PersistedError(Exception):
    """A persisted-operation request that cannot be served; ``status`` for graphql-response+json."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def to_graphql_error(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code}}


class StoreUnavailableError(Exception):
    """The shared store (Redis) cannot be reached."""


class DocumentStore(Protocol):
    """Where APQ documents live."""

    async def get_apq(self, sha256: str) -> str | None: ...

    async def put_apq(self, sha256: str, query: str) -> None: ...

    async def aclose(self) -> None: ...


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class MemoryStore:
    """APQ documents in this process: a bounded LRU."""

    def __init__(self, max_entries: int = 10_000, max_chars: int = 32 * 1024 * 1024) -> None:
        self._apq: OrderedDict[str, str] = OrderedDict()
        self._max = max_entries
        self._max_chars = max_chars
        self._chars = 0

    async def get_apq(self, sha256: str) -> str | None:
        query = self._apq.get(sha256)
        if query is not None:
            self._apq.move_to_end(sha256)
        return query

    async def put_apq(self, sha256: str, query: str) -> None:
        previous = self._apq.pop(sha256, None)
        if previous is not None:
            self._chars -= len(previous)
        self._apq[sha256] = query
        self._chars += len(query)
        while len(self._apq) > self._max or self._chars > self._max_chars:
            _, dropped = self._apq.popitem(last=False)
            self._chars -= len(dropped)

    def __len__(self) -> int:
        return len(self._apq)

    async def aclose(self) -> None:
        return None


class RedisStore:
    """APQ entries in Redis (``{prefix}:apq:{sha256}``, with a TTL), shared by every replica."""

    def __init__(self, url: str, prefix: str, ttl_seconds: int) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._ttl = ttl_seconds

    async def _call(self, command: str, *args: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await self._redis.execute_command(command, *args)  # type: ignore[no-untyped-call]
        except (RedisError, OSError) as error:
            raise StoreUnavailableError(f"redis: {error}") from error

    async def get_apq(self, sha256: str) -> str | None:
        value = await self._call("GET", f"{self._prefix}:apq:{sha256}")
        return value.decode() if value is not None else None

    async def put_apq(self, sha256: str, query: str) -> None:
        await self._call("SET", f"{self._prefix}:apq:{sha256}", query, "EX", self._ttl)

    async def aclose(self) -> None:
        await self._redis.aclose()


class TrustedDocuments:
    """The trusted documents of each application, from the manifests, in this process."""

    def __init__(self, manifests: Mapping[str, Mapping[str, str]]) -> None:
        self._documents = {app: dict(documents) for app, documents in manifests.items()}
        self._texts = {
            app: frozenset(sha256_hex(text) for text in documents.values())
            for app, documents in manifests.items()
        }

    def get(self, application: str, document_id: str) -> str | None:
        return self._documents.get(application, {}).get(document_id)

    def has_text(self, application: str, sha256: str) -> bool:
        return sha256 in self._texts.get(application, ())


def read_manifest(path: Path) -> dict[str, str]:
    """``{id: document}`` from an Apollo persisted query manifest or a plain id -> text object."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as error:
        raise ConfigError(f"cannot read trusted documents manifest {path}: {error}") from error
    except orjson.JSONDecodeError as error:
        raise ConfigError(f"trusted documents manifest {path} is not JSON: {error}") from error
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        documents = {}
        for operation in data["operations"]:
            if not (
                isinstance(operation, dict)
                and isinstance(operation.get("id"), str)
                and isinstance(operation.get("body"), str)
            ):
                raise ConfigError(f"manifest {path}: each operation needs a string id and body")
            documents[operation["id"]] = operation["body"]
        return documents
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    raise ConfigError(
        f"manifest {path}: expected an apollo-persisted-query-manifest "
        "or an {{id: document}} object"
    )


@dataclass(slots=True)
class PersistedOperations:
    """Resolves the document of a request that names a persisted operation."""

    section: PersistedSection
    store: DocumentStore
    manifests: dict[str, dict[str, str]] = field(default_factory=dict)
    enforced: frozenset[str] = frozenset()
    trusted: TrustedDocuments = field(default_factory=lambda: TrustedDocuments({}))
    #: called with ``"apq"`` each time the shared store fails (a metric)
    on_unavailable: Callable[[str], None] | None = None

    @classmethod
    def from_section(cls, section: PersistedSection) -> PersistedOperations:
        store: DocumentStore
        if section.backend == "redis":
            store = RedisStore(section.redis_url, section.key_prefix, section.redis_ttl_seconds)
        else:
            store = MemoryStore(section.memory_entries, section.memory_chars)
        manifests = {app: read_manifest(entry.manifest) for app, entry in section.trusted.items()}
        enforced = frozenset(a for a, entry in section.trusted.items() if entry.mode == "enforce")
        return cls(section, store, manifests, enforced, TrustedDocuments(manifests))

    async def start(self) -> None:
        """Nothing to load: trusted documents are read at construction, APQ fills on demand (a
        gateway starts whether or not Redis is up)."""

    async def aclose(self) -> None:
        await self.store.aclose()

    def involved(
        self, extensions: Mapping[str, Any] | None, document_id: Any, application: str | None
    ) -> bool:
        """Whether this request needs ``resolve`` (cheap: the common request does not)."""
        return bool(
            document_id is not None
            or (extensions is not None and "persistedQuery" in extensions)
            or (application or ANONYMOUS) in self.enforced
        )

    async def resolve(
        self,
        query: str | None,
        extensions: Mapping[str, Any] | None,
        document_id: Any,
        application: str | None,
    ) -> str:
        """The document to execute; raises ``PersistedError`` with the protocol's code."""
        app = application or ANONYMOUS
        enforced = app in self.enforced
        try:
            if document_id is not None:
                return await self._by_document_id(document_id, app)
            persisted = extensions.get("persistedQuery") if extensions else None
            if persisted is not None:
                return await self._by_apq(query, persisted, app, enforced)
            assert query is not None
            if enforced and not self.trusted.has_text(app, sha256_hex(query)):
                raise PersistedError(
                    NOT_IN_SAFELIST,
                    "This application may only run its trusted documents; the query is not one "
                    "of them.",
                    403,
                )
            return query
        except StoreUnavailableError as error:  # the APQ store, with on_store_unavailable closed
            raise PersistedError(
                STORE_UNAVAILABLE, "The persisted operation store is unavailable.", 503
            ) from error

    async def _by_document_id(self, document_id: Any, app: str) -> str:
        if not isinstance(document_id, str) or not document_id:
            raise PersistedError("BAD_REQUEST", "documentId must be a non-empty string")
        text = self.trusted.get(app, document_id)
        if text is None and document_id.startswith("sha256:"):
            text = self.trusted.get(app, document_id.removeprefix("sha256:"))
        if text is None:
            raise PersistedError(
                NOT_IN_LIST, f'Persisted document "{document_id}" is not in the trusted list.'
            )
        return text

    async def _by_apq(self, query: str | None, persisted: Any, app: str, enforced: bool) -> str:
        if not isinstance(persisted, dict):
            raise PersistedError("BAD_REQUEST", "extensions.persistedQuery must be an object")
        version, sha256 = persisted.get("version"), persisted.get("sha256Hash")
        if version != 1 or not isinstance(sha256, str) or not sha256:
            raise PersistedError(
                "BAD_REQUEST", "extensions.persistedQuery needs version 1 and a sha256Hash string"
            )
        trusted = self.trusted.get(app, sha256)
        if trusted is not None:
            return trusted
        if enforced:
            raise PersistedError(
                NOT_IN_LIST, f'Persisted query "{sha256}" is not in the trusted list.'
            )
        if not self.section.apq:
            raise PersistedError(NOT_SUPPORTED, "PersistedQueryNotSupported")
        if query is None:
            stored = await self._apq_get(sha256)
            if stored is None:
                raise PersistedError(NOT_FOUND, "PersistedQueryNotFound")
            return stored
        if sha256_hex(query) != sha256.lower():
            raise PersistedError(HASH_MISMATCH, "provided sha does not match query")
        if len(query) <= self.section.max_document_length:
            await self._apq_put(sha256.lower(), query)
        return query

    async def _apq_get(self, sha256: str) -> str | None:
        try:
            return await self.store.get_apq(sha256.lower())
        except StoreUnavailableError as error:
            self._unavailable(error)
            return None  # open: the client resends the query

    async def _apq_put(self, sha256: str, query: str) -> None:
        try:
            await self.store.put_apq(sha256, query)
        except StoreUnavailableError as error:
            self._unavailable(error)

    def _unavailable(self, error: StoreUnavailableError) -> None:
        """Log and count a failure of the shared store; re-raise it when configured closed."""
        if self.on_unavailable is not None:
            self.on_unavailable("apq")
        logger.warning("APQ store unavailable (%s): %s", self.section.on_store_unavailable, error)
        if self.section.on_store_unavailable == "closed":
            raise error
