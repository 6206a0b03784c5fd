"""A small client of the registry's HTTP API, used by the CLI and by gateways."""

from __future__ import annotations

from typing import Any

import httpx


class RegistryClient:
    """Calls the registry; ``token`` is the OPD team's (or the admin's) bearer token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            response.raise_for_status()
            raise
        if not isinstance(body, dict):
            raise ValueError("the registry answered something other than a JSON object")
        return body

    def publish(
        self,
        name: str,
        url: str,
        sdl: str,
        author: str | None = None,
        override_reason: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Publish; ``override_reason`` (admin token) stores a refused breaking change anyway."""
        body = {"url": url, "sdl": sdl, "author": author, "override_reason": override_reason}
        response = self._http.post(
            f"/api/subgraphs/{name}/publish", json={k: v for k, v in body.items() if v is not None}
        )
        return response.status_code, self._json(response)

    def check(self, name: str, url: str, sdl: str) -> tuple[int, dict[str, Any]]:
        response = self._http.post(f"/api/subgraphs/{name}/check", json={"url": url, "sdl": sdl})
        return response.status_code, self._json(response)

    def subgraphs(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/subgraphs"))

    def subgraph_versions(self, name: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/subgraphs/{name}/versions"))

    def supergraph_versions(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/supergraph/versions"))

    def supergraph(self, version: int | None = None) -> str:
        path = "/api/supergraph" if version is None else f"/api/supergraph/versions/{version}"
        response = self._http.get(path)
        response.raise_for_status()
        return response.text

    def current_supergraph(self) -> str | None:
        """The current supergraph SDL, or None before the first publish."""
        response = self._http.get("/api/supergraph")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.text

    def catalogue(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/catalogue"))

    def rollback(self, version: int, author: str | None = None) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"version": version}
        if author is not None:
            body["author"] = author
        response = self._http.post("/api/supergraph/rollback", json=body)
        return response.status_code, self._json(response)
