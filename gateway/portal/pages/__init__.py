"""The portal's pages, one module each. To add a page: write ``gateway/portal/pages/NAME.py``
exposing ``PAGE = Page(...)`` (its routes, its navigation label, the roles that may open it) and
add the module's name to ``MODULES`` below, in navigation order."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute

from gateway.portal.session import Session

#: page modules, in navigation order
MODULES: tuple[str, ...] = (
    "beranda",
    "masuk",
    "dasbor",
    "katalog",
    "akses",
    "audit",
    "operator",
    "kredensial",
)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the portal."""

    path: str
    routes: Sequence[BaseRoute]
    #: the navigation label; empty: not in the navigation
    nav: str = ""
    #: roles that may open it; empty: anyone (signed in or not)
    roles: tuple[str, ...] = ()

    def visible_to(self, session: Session) -> bool:
        return not self.roles or session.has(*self.roles)


def load(modules: Sequence[str] = MODULES) -> list[Page]:
    return [importlib.import_module(f"{__name__}.{name}").PAGE for name in modules]
