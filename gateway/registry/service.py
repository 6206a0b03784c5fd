"""The schema registry: publish and check subgraphs, serve supergraph versions and the catalogue.

HTTP API (JSON unless noted; write calls need ``Authorization: Bearer <token>``)::

    GET  /healthz
    GET  /api/subgraphs                          current subgraphs (name, url, who, when)
    GET  /api/subgraphs/{name}/versions          every accepted version of one subgraph
    POST /api/subgraphs/{name}/check             {url, sdl} -> what a publish would do
    POST /api/subgraphs/{name}/publish           {url, sdl, author?, override_reason?}
                                                 -> accepted (200) or refused (409/422)
                                                 (a connector subgraph may omit url: it has no
                                                 endpoint, the supergraph says http://ignored)
    GET  /api/supergraph                         current supergraph SDL (text), ETag, 304
    GET  /api/supergraph/versions                the version log: when, who, what, why
    GET  /api/supergraph/versions/{n}            one past supergraph SDL (text)
    POST /api/supergraph/rollback                {version} -> a new version equal to it (admin)
    POST /api/usage                              {operations: [...]} field usage (admin token)
    GET  /api/catalogue                          the data catalogue (JSON)
    GET  /catalogue                              the data catalogue (HTML page)

A publish is accepted only if the whole supergraph still composes and no breaking change touches a
field some operation used within the usage window; breaking changes to unused fields are accepted
with a warning. Every breaking change and every new deprecation names the consumer
applications that used it in the window (the gateway reports usage per application), and the
version log keeps what the publish check found. The admin token may publish over refused
breaking changes (never over composition errors) by giving an ``override_reason``, which the
version log keeps. ``author`` names the person publishing; the log records it after the token's
identity (``opd:kesehatan/budi``), so the team part is always the authenticated one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.composition.compose import SubgraphSource, compose
from gateway.composition.connect import routing_url
from gateway.errors import GatewayError
from gateway.favicon import favicon_route
from gateway.registry.catalogue import build_catalogue, render_catalogue_html
from gateway.registry.checks import (
    ChangeVerdict,
    find_breaking_changes,
    find_new_deprecations,
    render_applications,
)
from gateway.registry.store import (
    UNKNOWN_APPLICATION,
    OperationUse,
    RegistryStore,
    RegistryStoreError,
    StaleBase,
    SubgraphVersion,
    SupergraphVersion,
    iso_date,
)
from gateway.supergraph import load_supergraph

if TYPE_CHECKING:  # imported lazily: gateway.config imports the registry's section
    from gateway.registry.config import RegistrySection

DAY = 86400.0


@dataclass(slots=True)
class CheckResult:
    """What a publish of one subgraph would do (or did)."""

    subgraph: str
    accepted: bool
    composition_errors: list[dict[str, Any]] = field(default_factory=list)
    changes: list[ChangeVerdict] = field(default_factory=list)
    supergraph_sdl: str | None = None
    unchanged: bool = False
    version: SupergraphVersion | None = None
    #: the supergraph version this check composed against (None: the first publish)
    based_on: int | None = None
    #: an admin published over refused breaking changes, for this reason
    override_reason: str | None = None
    #: new deprecations, with the operations and applications that used what they endanger
    deprecations: list[ChangeVerdict] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    @property
    def message(self) -> str:
        if self.composition_errors:
            lines = [f"{self.subgraph}: the supergraph would not compose:"]
            lines += [f"  - {e['message']} ({e['code']})" for e in self.composition_errors]
            return "\n".join(lines)
        refused = [v for v in self.changes if v.refused]
        if refused:
            lines = [f"{self.subgraph}: refused, breaking changes to fields in use:"]
            if self.overridden:
                number = f" as supergraph version {self.version.version}" if self.version else ""
                lines = [
                    f"{self.subgraph}: accepted{number} by an admin override "
                    f"({self.override_reason}) of breaking changes to fields in use:"
                ]
            for v in refused:
                ops = ", ".join(f"{name} ({count}x)" for name, count in v.operations)
                apps = render_applications(v.applications)
                lines.append(f"  - {v.change.message}; used by {ops}; applications: {apps}")
            return "\n".join(lines + self._deprecation_lines())
        if self.unchanged:
            return f"{self.subgraph}: unchanged, nothing to publish"
        warnings = [v.change.message for v in self.changes]
        head = f"{self.subgraph}: accepted" + (
            f" as supergraph version {self.version.version}" if self.version else ""
        )
        if warnings:
            head += "; breaking changes to fields no recent operation used: " + "; ".join(warnings)
        return "\n".join([head, *self._deprecation_lines()])

    def _deprecation_lines(self) -> list[str]:
        lines = []
        for v in self.deprecations:
            users = render_applications(v.applications) or "no application in the usage window"
            lines.append(f"  ~ {v.change.message}; used by applications: {users}")
        return lines

    def affected(self) -> list[dict[str, Any]]:
        """Each breaking change and new deprecation with the applications it affected."""
        return [v.affected() for v in [*self.changes, *self.deprecations]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subgraph": self.subgraph,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "message": self.message,
            "composition_errors": self.composition_errors,
            "changes": [v.to_dict() for v in self.changes],
            "warnings": [v.change.message for v in self.changes if not v.refused],
            "deprecations": [v.to_dict() for v in self.deprecations],
            "version": self.version.summary() if self.version else None,
            "overridden": self.overridden,
            "override_reason": self.override_reason,
        }


class Forbidden(GatewayError):
    """The token may not do this."""

    code = "FORBIDDEN"


class Registry:
    """Publish/check logic over a store (no HTTP)."""

    def __init__(
        self,
        store: RegistryStore,
        usage_window_days: float = 30.0,
        personal_data_policies: list[str] | None = None,
    ) -> None:
        self.store = store
        self._lock = threading.Lock()
        self.usage_window_days = usage_window_days
        self.personal_data_policies = personal_data_policies or ["data_pribadi"]

    def check(self, name: str, url: str, sdl: str, now: float | None = None) -> CheckResult:
        now = time.time() if now is None else now
        url = routing_url(url, sdl)
        current = self.store.current()
        result = self._check(name, url, sdl, now, current)
        result.based_on = current.version if current else None
        return result

    def _check(
        self, name: str, url: str, sdl: str, now: float, current: SupergraphVersion | None
    ) -> CheckResult:
        current_subgraphs = self.store.current_subgraphs(current)
        previous = current_subgraphs.get(name)
        if previous is not None and previous.sdl == sdl and previous.url == url:
            return CheckResult(name, accepted=True, unchanged=True)
        sources = [
            SubgraphSource(n, v.sdl, v.url) for n, v in current_subgraphs.items() if n != name
        ]
        sources.append(SubgraphSource(name, sdl, url))
        result = compose(sources)
        if result.supergraph_sdl is None:
            return CheckResult(
                name, accepted=False, composition_errors=[e.to_dict() for e in result.errors]
            )
        verdicts: list[ChangeVerdict] = []
        deprecations: list[ChangeVerdict] = []
        try:
            new = load_supergraph(result.supergraph_sdl, authorization_enforced=True).api_schema
        except GatewayError as exc:  # composes, but the gateway could not serve it
            return CheckResult(
                name,
                accepted=False,
                composition_errors=[
                    {
                        "code": exc.code,
                        "message": f"the supergraph composes but the gateway cannot serve it: "
                        f"{exc.message}",
                        "subgraph": name,
                        "type": None,
                        "field": None,
                    }
                ],
            )
        old = None
        if current is not None:
            try:
                old = load_supergraph(current.sdl, authorization_enforced=True).api_schema
            except GatewayError:  # an unservable current version: nothing to protect
                old = None
        if old is not None:
            since = now - self.usage_window_days * DAY
            verdicts = [
                ChangeVerdict(c, self._uses(c.endangered, since))
                for c in find_breaking_changes(old, new)
            ]
            deprecations = [
                ChangeVerdict(c, self._uses(c.endangered, since), breaking=False)
                for c in find_new_deprecations(old, new)
            ]
        accepted = not any(v.refused for v in verdicts)
        return CheckResult(
            name, accepted, [], verdicts, result.supergraph_sdl, deprecations=deprecations
        )

    def _uses(self, coordinates: tuple[str, ...], since: float) -> list[OperationUse]:
        """Each (application, operation) that used one of ``coordinates``, counted once."""
        uses: dict[tuple[str, str], OperationUse] = {}
        for coordinate in coordinates:
            for use in self.store.operations_using(coordinate, since):
                uses.setdefault((use.application, use.operation_hash), use)
        return sorted(uses.values(), key=lambda u: (-u.count, u.application, u.operation))

    def publish(
        self,
        name: str,
        url: str,
        sdl: str,
        by: str,
        author: str | None = None,
        override_reason: str | None = None,
    ) -> CheckResult:
        """Check and, if accepted, store; concurrent publishes never lose each other's change.

        With ``override_reason`` (the caller checked it is the admin) a publish refused only for
        breaking changes to used fields is stored anyway, and the reason with it.
        """
        url = routing_url(url, sdl)
        with self._lock:
            for _ in range(5):
                result = self.check(name, url, sdl)
                if override_reason and not result.accepted and not result.composition_errors:
                    result.accepted = True
                    result.override_reason = override_reason
                if not result.accepted or result.unchanged or result.supergraph_sdl is None:
                    return result
                try:
                    result.version = self.store.record_publish(
                        name,
                        url,
                        sdl,
                        by,
                        result.supergraph_sdl,
                        based_on=result.based_on,
                        author=author,
                        override_reason=result.override_reason,
                        affected=result.affected(),
                    )
                except StaleBase:
                    continue  # another registry replica published meanwhile: compose again
                return result
        raise RegistryStoreError("the registry is too busy: publish again")

    def rollback(self, version: int, by: str, author: str | None = None) -> SupergraphVersion:
        return self.store.record_rollback(version, by, author=author)

    def catalogue(self) -> dict[str, Any]:
        current = self.store.current()
        if current is None:
            return {"opds": []}
        return build_catalogue(
            current.sdl, self.store.current_subgraphs(), self.personal_data_policies
        )


# --- HTTP ----------------------------------------------------------------------------------------


class _Tokens:
    def __init__(self, tokens: dict[str, str], admin: str | None) -> None:
        self.tokens = tokens
        self.admin = admin

    def identity(self, request: Request) -> tuple[str, bool, set[str]] | None:
        """(who, is_admin, subgraphs they may publish) for the request's bearer token."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        token = header[7:].strip()
        if self.admin and _token_matches(token, self.admin):
            return ("admin", True, set(self.tokens))
        for name, expected in self.tokens.items():
            if _token_matches(token, expected):
                return (f"opd:{name}", False, {name})
        return None


def _token_matches(presented: str, configured: str) -> bool:
    """Constant-time comparison; ``sha256:<hex>`` configures a token by its hash only."""
    if configured.startswith("sha256:"):
        digest = hashlib.sha256(presented.encode()).hexdigest()
        return hmac.compare_digest(digest, configured[7:].lower())
    return hmac.compare_digest(presented.encode(), configured.encode())


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


#: a person's name or e-mail as a publisher gives it: printable, no slash, at most 100 characters
_AUTHOR = re.compile(r"[^\x00-\x1f\x7f/]{1,100}")
_AUTHOR_RULE = "author must be 1-100 printable characters without '/'"


@dataclass(frozen=True, slots=True)
class _Submission:
    """A check or publish request's body."""

    url: str
    sdl: str
    author: str | None = None
    override_reason: str | None = None


def _submission(body: Any) -> _Submission | JSONResponse:
    """Validate ``{url, sdl, author?, override_reason?}``; a clear 400 otherwise."""
    if not isinstance(body, dict) or not isinstance(body.get("sdl"), str):
        return _error(400, "BAD_REQUEST", "the body must be JSON: {url, sdl}")
    author = body.get("author")
    if author is not None and not (isinstance(author, str) and _AUTHOR.fullmatch(author)):
        return _error(400, "BAD_REQUEST", _AUTHOR_RULE)
    reason = body.get("override_reason")
    if reason is not None and not (isinstance(reason, str) and 0 < len(reason.strip()) <= 500):
        return _error(400, "BAD_REQUEST", "override_reason must be 1-500 characters")
    return _Submission(
        str(body.get("url") or ""), body["sdl"], author, reason.strip() if reason else None
    )


def _subgraph_entry(version: SubgraphVersion) -> dict[str, Any]:
    return {
        "version_id": version.id,
        "url": version.url,
        "published_by": version.published_by,
        "published_at": version.published_at,
        "date": iso_date(version.published_at),
        "author": version.author,
    }


@dataclass(frozen=True, slots=True)
class _UsageRow:
    operation: str
    operation_hash: str
    coordinates: list[str]
    count: int
    application: str


def _usage_rows(body: Any) -> list[_UsageRow]:
    """``{operations: [{operation, hash, coordinates, count, application}]}``; a report without
    ``application`` (a gateway from before applications were reported) counts as ``(unknown)``.
    ``KeyError``/``TypeError``/``ValueError``/``AttributeError`` on a malformed report."""
    rows = []
    for op in list(body["operations"]):
        application = str(op.get("application") or UNKNOWN_APPLICATION)
        if len(application) > 200:
            raise ValueError("an application id is at most 200 characters")
        rows.append(
            _UsageRow(
                str(op.get("operation") or "(anonymous)"),
                str(op["hash"]),
                [str(c) for c in op.get("coordinates", [])],
                int(op.get("count", 1)),
                application,
            )
        )
    return rows


class _Api:
    """The HTTP handlers over one registry. The store is synchronous: plain ``def`` handlers run
    in Starlette's thread pool, and the ``async`` ones call it through ``run_in_threadpool``."""

    def __init__(self, registry: Registry, auth: _Tokens) -> None:
        self.registry = registry
        self.store = registry.store
        self.auth = auth

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz),
            Route("/api/subgraphs", self.subgraphs),
            Route("/api/subgraphs/{name}/versions", self.subgraph_versions),
            Route("/api/subgraphs/{name}/check", self.check, methods=["POST"]),
            Route("/api/subgraphs/{name}/publish", self.publish, methods=["POST"]),
            Route("/api/supergraph", self.supergraph),
            Route("/api/supergraph/versions", self.supergraph_versions),
            Route("/api/supergraph/versions/{version}", self.supergraph_version),
            Route("/api/supergraph/rollback", self.rollback, methods=["POST"]),
            Route("/api/usage", self.usage, methods=["POST"]),
            Route("/api/catalogue", self.catalogue_json),
            Route("/catalogue", self.catalogue_html),
            favicon_route(),
        ]

    def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def subgraphs(self, request: Request) -> Response:
        current = self.store.current_subgraphs().values()
        return JSONResponse(
            {"subgraphs": [{"name": v.name, **_subgraph_entry(v)} for v in current]}
        )

    def subgraph_versions(self, request: Request) -> Response:
        name = request.path_params["name"]
        history = self.store.subgraph_history(name)
        if not history:
            return _error(404, "NOT_FOUND", f"no subgraph {name!r} was ever published")
        versions = [{**_subgraph_entry(v), "sdl": v.sdl} for v in history]
        return JSONResponse({"subgraph": name, "versions": versions})

    async def _submission(self, request: Request) -> _Submission | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "BAD_REQUEST", "the body must be JSON: {url, sdl}")
        return _submission(body)

    def _may_publish(self, request: Request, name: str) -> tuple[str, bool] | JSONResponse:
        """(identity, is_admin) of a token that may publish ``name``; 401/403 otherwise."""
        who = self.auth.identity(request)
        if who is None:
            return _error(401, "UNAUTHENTICATED", "a valid bearer token is required")
        identity, is_admin, allowed = who
        if not is_admin and name not in allowed:
            message = f"the token of {identity} may publish only its own subgraph, not {name!r}"
            return _error(403, "FORBIDDEN", message)
        return identity, is_admin

    def _admin(self, request: Request, refusal: str) -> str | JSONResponse:
        """The admin's identity, or 403 with ``refusal``."""
        who = self.auth.identity(request)
        if who is None or not who[1]:
            return _error(403, "FORBIDDEN", refusal)
        return who[0]

    async def check(self, request: Request) -> Response:
        name = request.path_params["name"]
        allowed = self._may_publish(request, name)
        if isinstance(allowed, JSONResponse):
            return allowed
        body = await self._submission(request)
        if isinstance(body, JSONResponse):
            return body
        result = await run_in_threadpool(self.registry.check, name, body.url, body.sdl)
        return JSONResponse(result.to_dict())

    async def publish(self, request: Request) -> Response:
        name = request.path_params["name"]
        allowed = self._may_publish(request, name)
        if isinstance(allowed, JSONResponse):
            return allowed
        body = await self._submission(request)
        if isinstance(body, JSONResponse):
            return body
        if not routing_url(body.url, body.sdl):
            message = (
                "a routing URL is required to publish (only a connector subgraph, which has no "
                "GraphQL endpoint of its own, may omit it)"
            )
            return _error(400, "BAD_REQUEST", message)
        identity, is_admin = allowed
        if body.override_reason and not is_admin:
            message = "only the registry's admin token may override a refusal"
            return _error(403, "FORBIDDEN", message)
        author = f"{identity}/{body.author}" if body.author else identity
        result = await run_in_threadpool(
            self.registry.publish, name, body.url, body.sdl, identity, author, body.override_reason
        )
        status = 200 if result.accepted else (422 if result.composition_errors else 409)
        return JSONResponse(result.to_dict(), status_code=status)

    def supergraph(self, request: Request) -> Response:
        current = self.store.current()
        if current is None:
            return _error(404, "NOT_FOUND", "nothing has been published yet")
        headers = {"ETag": current.etag, "X-Supergraph-Version": str(current.version)}
        if request.headers.get("if-none-match") == current.etag:
            return Response(status_code=304, headers=headers)
        return PlainTextResponse(current.sdl, headers=headers)

    def supergraph_versions(self, request: Request) -> Response:
        return JSONResponse({"versions": [v.summary() for v in self.store.supergraph_versions()]})

    def supergraph_version(self, request: Request) -> Response:
        try:
            number = int(request.path_params["version"])
        except ValueError:
            return _error(400, "BAD_REQUEST", "a version is a number")
        found = self.store.supergraph(number)
        if found is None:
            return _error(404, "NOT_FOUND", f"there is no supergraph version {number}")
        headers = {"ETag": found.etag, "X-Supergraph-Version": str(found.version)}
        return PlainTextResponse(found.sdl, headers=headers)

    async def rollback(self, request: Request) -> Response:
        admin = self._admin(request, "rollback needs the registry's admin token")
        if isinstance(admin, JSONResponse):
            return admin
        try:
            body = await request.json()
            number = int(body["version"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BAD_REQUEST", "the body must be JSON: {version}")
        author = body.get("author")
        if author is not None and not (isinstance(author, str) and _AUTHOR.fullmatch(author)):
            return _error(400, "BAD_REQUEST", _AUTHOR_RULE)
        if await run_in_threadpool(self.store.supergraph, number) is None:
            return _error(404, "NOT_FOUND", f"there is no supergraph version {number}")
        created = await run_in_threadpool(
            self.registry.rollback, number, admin, f"{admin}/{author}" if author else None
        )
        return JSONResponse({"rolled_back_to": number, "version": created.summary()})

    async def usage(self, request: Request) -> Response:
        admin = self._admin(request, "usage reports need the registry's admin token")
        if isinstance(admin, JSONResponse):
            return admin
        try:
            rows = _usage_rows(await request.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, "BAD_REQUEST", "the body must be JSON: {operations: [...]}")

        def record() -> None:
            for row in rows:
                self.store.record_usage(
                    row.operation,
                    row.operation_hash,
                    row.coordinates,
                    row.count,
                    application=row.application,
                )

        await run_in_threadpool(record)
        return JSONResponse({"recorded": len(rows)})

    def catalogue_json(self, request: Request) -> Response:
        return JSONResponse(self.registry.catalogue())

    def catalogue_html(self, request: Request) -> Response:
        return HTMLResponse(render_catalogue_html(self.registry.catalogue()))


def create_app(registry: Registry, tokens: dict[str, str], admin_token: str | None) -> Starlette:
    """The registry's Starlette application."""
    return Starlette(routes=_Api(registry, _Tokens(tokens, admin_token)).routes())


def app_from_settings(section: RegistrySection) -> Starlette:
    store = RegistryStore.from_settings(
        section.database,
        section.database_url,
        section.database_schema,
        section.migrate_at_start,
    )
    registry = Registry(store, section.usage_window_days, list(section.personal_data_policies))
    return create_app(
        registry,
        {name: token.get_secret_value() for name, token in section.tokens.items()},
        section.admin_token.get_secret_value() if section.admin_token else None,
    )
