"""Operator (Diskominfo): per OPD subgraph — fetch rate, errors, latency and circuit state from
the gateway's ``/metrics`` — and the registry's current version of each subgraph."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.portal.app import Portal
from gateway.portal.layout import render
from gateway.portal.metrics import Scrapes
from gateway.portal.pages import Page
from gateway.portal.registry import registry_client
from gateway.portal.roles import OPERATOR


def _scrapes(portal: Portal) -> Scrapes:
    found = portal.state.get("scrapes")
    if not isinstance(found, Scrapes):
        found = portal.state["scrapes"] = Scrapes(portal.settings.metrics)
    return found


async def operator(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    portal.require(request, OPERATOR)

    def versions() -> list[dict[str, Any]]:
        with registry_client(portal.settings) as client:
            return list(client.subgraphs().get("subgraphs", []))

    figures = await _scrapes(portal).scrape()
    try:
        current = {v["name"]: v for v in await asyncio.to_thread(versions)}
        registry_down = False
    except (httpx.HTTPError, ValueError):
        current, registry_down = {}, True
    names = sorted(set(current) | set(figures or {}))
    rows = [
        {
            "name": n,
            "profile": portal.opds.profile(n),
            "figures": (figures or {}).get(n),
            "version": current.get(n),
        }
        for n in names
    ]
    return render(
        request,
        "operator.html",
        rows=rows,
        metrics_down=figures is None,
        registry_down=registry_down,
    )


PAGE = Page(
    path="/operator",
    routes=[Route("/operator", operator, methods=["GET"])],
    nav="Operator",
    roles=(OPERATOR,),
)
