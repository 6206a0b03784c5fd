"""The schema registry: publish and check subgraphs, serve supergraph versions and the catalogue.

HTTP API (JSON unless noted; write calls need ``Authorization: Bearer <token>``)::

    GET  /healthz
    GET  /api/subgraphs                          current subgraphs (name, url, who, when)
    GET  /api/subgraphs/{name}/versions          every accepted version of one subgraph
    POST /api/subgraphs/{name}/check             {url, sdl} -> what a publish would do
    POST /api/subgraphs/{name}/publish           {url, sdl} -> accepted (200) or refused (409/422)
    GET  /api/supergraph                         current supergraph SDL (text), ETag, 304
    GET  /api/supergraph/versions                every version (who, when, what)
    GET  /api/supergraph/versions/{n}            one past supergraph SDL (text)
    POST /api/supergraph/rollback                {version} -> a new version equal to it (admin)
    POST /api/usage                              {operations: [...]} field usage (admin token)
    GET  /api/catalogue                          the data catalogue (JSON)
    GET  /catalogue                              the data catalogue (HTML page)

A publish is accepted only if the whole supergraph still composes and no breaking change touches a
field some operation used within the usage window; breaking changes to unused fields are accepted
with a warning.
"""

from __future__ import annotations

import hashlib
import hmac
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
from gateway.errors import GatewayError
from gateway.favicon import favicon_route
from gateway.registry.catalogue import build_catalogue, render_catalogue_html
from gateway.registry.checks import ChangeVerdict, find_breaking_changes
from gateway.registry.store import (
    OperationUse,
    RegistryStore,
    RegistryStoreError,
    StaleBase,
    SupergraphVersion,
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

    @property
    def message(self) -> str:
        if self.composition_errors:
            lines = [f"{self.subgraph}: the supergraph would not compose:"]
            lines += [f"  - {e['message']} ({e['code']})" for e in self.composition_errors]
            return "\n".join(lines)
        refused = [v for v in self.changes if v.refused]
        if refused:
            lines = [f"{self.subgraph}: refused, breaking changes to fields in use:"]
            for v in refused:
                ops = ", ".join(f"{u.operation} ({u.count}x)" for u in v.used_by)
                lines.append(f"  - {v.change.message}; used by {ops}")
            return "\n".join(lines)
        if self.unchanged:
            return f"{self.subgraph}: unchanged, nothing to publish"
        warnings = [v.change.message for v in self.changes]
        head = f"{self.subgraph}: accepted" + (
            f" as supergraph version {self.version.version}" if self.version else ""
        )
        if warnings:
            head += "; breaking changes to fields no recent operation used: " + "; ".join(warnings)
        return head

    def to_dict(self) -> dict[str, Any]:
        return {
            "subgraph": self.subgraph,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "message": self.message,
            "composition_errors": self.composition_errors,
            "changes": [v.to_dict() for v in self.changes],
            "warnings": [v.change.message for v in self.changes if not v.refused],
            "version": self.version.summary() if self.version else None,
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
            for change in find_breaking_changes(old, new):
                uses: dict[str, OperationUse] = {}
                for coordinate in change.endangered:
                    for use in self.store.operations_using(coordinate, since):
                        uses.setdefault(use.operation_hash, use)
                verdicts.append(
                    ChangeVerdict(change, sorted(uses.values(), key=lambda u: -u.count))
                )
        accepted = not any(v.refused for v in verdicts)
        return CheckResult(name, accepted, [], verdicts, result.supergraph_sdl)

    def publish(self, name: str, url: str, sdl: str, by: str) -> CheckResult:
        """Check and, if accepted, store; concurrent publishes never lose each other's change."""
        with self._lock:
            for _ in range(5):
                result = self.check(name, url, sdl)
                if not result.accepted or result.unchanged or result.supergraph_sdl is None:
                    return result
                try:
                    result.version = self.store.record_publish(
                        name, url, sdl, by, result.supergraph_sdl, based_on=result.based_on
                    )
                except StaleBase:
                    continue  # another registry replica published meanwhile: compose again
                return result
        raise RegistryStoreError("the registry is too busy: publish again")

    def rollback(self, version: int, by: str) -> SupergraphVersion:
        return self.store.record_rollback(version, by)

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


def create_app(registry: Registry, tokens: dict[str, str], admin_token: str | None) -> Starlette:
    """The registry's Starlette application."""
    auth = _Tokens(tokens, admin_token)

    def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def subgraphs(request: Request) -> Response:
        current = registry.store.current_subgraphs()
        return JSONResponse(
            {
                "subgraphs": [
                    {
                        "name": v.name,
                        "url": v.url,
                        "version_id": v.id,
                        "published_by": v.published_by,
                        "published_at": v.published_at,
                    }
                    for v in current.values()
                ]
            }
        )

    def subgraph_versions(request: Request) -> Response:
        name = request.path_params["name"]
        history = registry.store.subgraph_history(name)
        if not history:
            return _error(404, "NOT_FOUND", f"no subgraph {name!r} was ever published")
        return JSONResponse(
            {
                "subgraph": name,
                "versions": [
                    {
                        "version_id": v.id,
                        "url": v.url,
                        "published_by": v.published_by,
                        "published_at": v.published_at,
                        "sdl": v.sdl,
                    }
                    for v in history
                ],
            }
        )

    async def _body(request: Request) -> tuple[str, str] | JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "BAD_REQUEST", "the body must be JSON: {url, sdl}")
        if not isinstance(body, dict) or not isinstance(body.get("sdl"), str):
            return _error(400, "BAD_REQUEST", "the body must be JSON: {url, sdl}")
        return str(body.get("url") or ""), body["sdl"]

    def _may_publish(request: Request, name: str) -> tuple[str, bool] | JSONResponse:
        who = auth.identity(request)
        if who is None:
            return _error(401, "UNAUTHENTICATED", "a valid bearer token is required")
        identity, is_admin, allowed = who
        if not is_admin and name not in allowed:
            return _error(
                403,
                "FORBIDDEN",
                f"the token of {identity} may publish only its own subgraph, not {name!r}",
            )
        return identity, is_admin

    async def check(request: Request) -> Response:
        name = request.path_params["name"]
        allowed = _may_publish(request, name)
        if isinstance(allowed, JSONResponse):
            return allowed
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        result = await run_in_threadpool(registry.check, name, body[0], body[1])
        return JSONResponse(result.to_dict())

    async def publish(request: Request) -> Response:
        name = request.path_params["name"]
        allowed = _may_publish(request, name)
        if isinstance(allowed, JSONResponse):
            return allowed
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        if not body[0]:
            return _error(400, "BAD_REQUEST", "a routing URL is required to publish")
        result = await run_in_threadpool(registry.publish, name, body[0], body[1], allowed[0])
        status = 200 if result.accepted else (422 if result.composition_errors else 409)
        return JSONResponse(result.to_dict(), status_code=status)

    def supergraph(request: Request) -> Response:
        current = registry.store.current()
        if current is None:
            return _error(404, "NOT_FOUND", "nothing has been published yet")
        headers = {"ETag": current.etag, "X-Supergraph-Version": str(current.version)}
        if request.headers.get("if-none-match") == current.etag:
            return Response(status_code=304, headers=headers)
        return PlainTextResponse(current.sdl, headers=headers)

    def supergraph_versions(request: Request) -> Response:
        return JSONResponse(
            {"versions": [v.summary() for v in registry.store.supergraph_versions()]}
        )

    def supergraph_version(request: Request) -> Response:
        try:
            number = int(request.path_params["version"])
        except ValueError:
            return _error(400, "BAD_REQUEST", "a version is a number")
        found = registry.store.supergraph(number)
        if found is None:
            return _error(404, "NOT_FOUND", f"there is no supergraph version {number}")
        return PlainTextResponse(
            found.sdl, headers={"ETag": found.etag, "X-Supergraph-Version": str(found.version)}
        )

    async def rollback(request: Request) -> Response:
        who = auth.identity(request)
        if who is None or not who[1]:
            return _error(403, "FORBIDDEN", "rollback needs the registry's admin token")
        try:
            body = await request.json()
            number = int(body["version"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BAD_REQUEST", "the body must be JSON: {version}")
        if registry.store.supergraph(number) is None:
            return _error(404, "NOT_FOUND", f"there is no supergraph version {number}")
        created = registry.rollback(number, who[0])
        return JSONResponse({"rolled_back_to": number, "version": created.summary()})

    async def usage(request: Request) -> Response:
        who = auth.identity(request)
        if who is None or not who[1]:
            return _error(403, "FORBIDDEN", "usage reports need the registry's admin token")
        try:
            body = await request.json()
            operations = list(body["operations"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "BAD_REQUEST", "the body must be JSON: {operations: [...]}")
        for op in operations:
            registry.store.record_usage(
                str(op.get("operation") or "(anonymous)"),
                str(op["hash"]),
                [str(c) for c in op.get("coordinates", [])],
                int(op.get("count", 1)),
            )
        return JSONResponse({"recorded": len(operations)})

    def catalogue_json(request: Request) -> Response:
        return JSONResponse(registry.catalogue())

    def catalogue_html(request: Request) -> Response:
        return HTMLResponse(render_catalogue_html(registry.catalogue()))

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/api/subgraphs", subgraphs),
            Route("/api/subgraphs/{name}/versions", subgraph_versions),
            Route("/api/subgraphs/{name}/check", check, methods=["POST"]),
            Route("/api/subgraphs/{name}/publish", publish, methods=["POST"]),
            Route("/api/supergraph", supergraph),
            Route("/api/supergraph/versions", supergraph_versions),
            Route("/api/supergraph/versions/{version}", supergraph_version),
            Route("/api/supergraph/rollback", rollback, methods=["POST"]),
            Route("/api/usage", usage, methods=["POST"]),
            Route("/api/catalogue", catalogue_json),
            Route("/catalogue", catalogue_html),
            favicon_route(),
        ]
    )


def app_from_settings(section: RegistrySection) -> Starlette:
    store = RegistryStore.from_settings(
        section.database, section.database_url, section.database_schema
    )
    registry = Registry(store, section.usage_window_days, list(section.personal_data_policies))
    return create_app(
        registry,
        {name: token.get_secret_value() for name, token in section.tokens.items()},
        section.admin_token.get_secret_value() if section.admin_token else None,
    )
