"""The page layout: Jinja2 templates (autoescaped) with the navigation, the session and the
Indonesian formatting filters, and the response every page returns.

Why Jinja2: pages are server-rendered HTML (works without JavaScript, keyboard and screen-reader
friendly by default, nothing to build); Jinja2 is the well-kept standard for it and escapes by
default. The only script is the bundled chart library, loaded by the pages that draw charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.portal import fmt
from gateway.portal.roles import LABELS

if TYPE_CHECKING:
    from gateway.portal.app import Portal

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        angka=fmt.angka,
        persen=fmt.persen,
        tanggal=fmt.tanggal,
        tanggal_epoch=fmt.tanggal_epoch,
        waktu=fmt.waktu,
    )
    env.globals.update(rasio_persen=fmt.rasio_persen, role_labels=LABELS)
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` with the layout's context: the session, the navigation this visitor may use."""
    portal: Portal = request.app.state.portal
    session = portal.session(request)
    nav = [page for page in portal.pages if page.nav and page.visible_to(session)]
    html = portal.templates.get_template(template).render(
        request=request, session=session, nav=nav, settings=portal.settings, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.scope.get("portal.session.new"):
        portal.codec.save(response, session)
    return response
