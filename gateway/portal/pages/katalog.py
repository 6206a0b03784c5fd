"""Katalog: every OPD, its types and fields, which are personal data and which scopes, policies
and purposes guard them, the owner's contact and legal basis, and the version history with the
schema diff between versions.

Rendered from the registry's own API (``/api/catalogue``, ``/api/supergraph/versions``): the
catalogue is built by ``gateway.registry.catalogue`` and the diff by ``gateway.registry.diff``,
not again here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import GatewayError
from gateway.portal.app import Portal
from gateway.portal.layout import render
from gateway.portal.pages import Page
from gateway.portal.purposes import load_purposes, purposes_opening
from gateway.portal.registry import registry_client
from gateway.registry.client import RegistryClient
from gateway.registry.diff import SchemaChange, diff_schemas
from gateway.supergraph import load_supergraph


def _client(portal: Portal) -> RegistryClient:
    return registry_client(portal.settings)


def _fetch(portal: Portal) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with _client(portal) as client:
        return client.catalogue(), list(client.supergraph_versions().get("versions", []))


def changes_between(old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """What clients saw change from one supergraph to the next (the registry's diff)."""
    old = load_supergraph(old_sdl, authorization_enforced=True).api_schema
    new = load_supergraph(new_sdl, authorization_enforced=True).api_schema
    return diff_schemas(old, new)


async def katalog(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request)
    try:
        catalogue, versions = await asyncio.to_thread(_fetch, portal)
    except (httpx.HTTPError, ValueError):
        return render(request, "katalog.html", error=True, opds=[], versions=[])
    opds = [
        {**opd, "profile": portal.opds.profile(opd["name"])} for opd in catalogue.get("opds", [])
    ]
    return render(request, "katalog.html", error=False, opds=opds, versions=versions)


async def opd(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request)
    name = request.path_params["opd"]
    try:
        catalogue, versions = await asyncio.to_thread(_fetch, portal)
    except (httpx.HTTPError, ValueError):
        return render(request, "katalog.html", error=True, opds=[], versions=[])
    found = next((o for o in catalogue.get("opds", []) if o["name"] == name), None)
    if found is None:
        return render(request, "tidak-ditemukan.html", status_code=404, what=f"OPD {name}")
    purposes = await load_purposes(portal.settings)
    for type_ in found["types"]:
        for field in type_["fields"]:
            field["purposes"] = purposes_opening(field, purposes) if field["personal_data"] else []
    history = [v for v in versions if v.get("subgraph") == name]
    return render(
        request, "katalog-opd.html", opd=found, profile=portal.opds.profile(name), history=history
    )


async def versi(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request)
    number = int(request.path_params["versi"])

    def fetch() -> tuple[str, str | None]:
        with _client(portal) as client:
            new = client.supergraph(number)
            old = client.supergraph(number - 1) if number > 1 else None
            return new, old

    try:
        new_sdl, old_sdl = await asyncio.to_thread(fetch)
    except (httpx.HTTPError, ValueError):
        return render(request, "tidak-ditemukan.html", status_code=404, what=f"Versi {number}")
    try:
        changes = changes_between(old_sdl, new_sdl) if old_sdl else None
    except GatewayError:
        changes = None
    return render(request, "katalog-versi.html", number=number, changes=changes)


PAGE = Page(
    path="/katalog",
    routes=[
        Route("/katalog", katalog, methods=["GET"]),
        Route("/katalog/versi/{versi:int}", versi, methods=["GET"]),
        Route("/katalog/{opd:str}", opd, methods=["GET"]),
    ],
    nav="Katalog",
)
