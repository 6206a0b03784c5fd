"""Beranda: what the portal offers, and to whom."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.portal.layout import render
from gateway.portal.pages import Page


async def beranda(request: Request) -> Response:
    return render(request, "beranda.html")


PAGE = Page(path="/", routes=[Route("/", beranda, methods=["GET"])], nav="Beranda")
