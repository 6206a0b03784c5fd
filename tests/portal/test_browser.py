"""Every portal page in headless Chromium (Debian's, driven by Playwright), as each role: no
request leaves the portal's origin, no script error, axe-core finds no WCAG 2.1 A/AA violation
(desktop and phone width), the chart draws, keyboard reaches the sign-in. With
``JAMAJAMA_SCREENSHOTS=docs/img`` it refreshes the docs' ``portal-*.png``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gateway.config import dev_settings, load_settings
from gateway.portal.access_backend import install, open_backend
from gateway.portal.app import create_app
from tests.browser.conftest import screenshot_dir
from tests.browser.test_graphiql import CHROMIUM, CHROMIUM_ARGS, pytestmark  # noqa: F401
from tests.portal.conftest import portal_for
from tests.portal.world import PortalWorld
from tests.servers import serve

AXE = Path(__file__).parent / "axe" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: (persona, path, screenshot name; None: shot with its content by test_access_browser.py)
PAGES: list[tuple[str | None, str, str | None]] = [
    (None, "/masuk", "masuk"),
    ("dpo", "/", "beranda"),
    ("dpo", "/dasbor", "dasbor"),
    ("dpo", "/dasbor/18.71", "dasbor-kecamatan"),
    ("admin-kependudukan", "/katalog", "katalog"),
    ("admin-kependudukan", "/katalog/kependudukan", "katalog-opd"),
    ("admin-kependudukan", "/katalog/versi/2", "katalog-versi"),
    ("operator", "/operator", "operator"),
    ("pemilik-sibansos", "/akses", None),
    ("admin-kesehatan", "/akses", None),
    ("dpo", "/audit", None),
    ("operator", "/kredensial", None),
]


@pytest.fixture(scope="module")
def portal(world: PortalWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal, with the access-request, audit and credential stores of a development gateway
    (its own, empty: these pages are driven with content by test_access_browser.py)."""
    app = create_app(portal_for(world.gateway, world.registry))
    state = tmp_path_factory.mktemp("portal-stores")
    settings = dev_settings(load_settings(None), state / "var" / "dev")
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API runs a loop in this thread
        backend = pool.submit(asyncio.run, open_backend(settings, production=False)).result()
    install(app, backend)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def portal_down(world: PortalWorld) -> Iterator[str]:
    with serve(create_app(portal_for(world.gateway_down, world.registry))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """A browser context signed in as one persona, recording requests and script errors."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int]) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda r: self.requested.append(r.url))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on(
            "console", lambda m: self.problems.append(m.text) if m.type == "error" else None
        )

    def sign_in(self, persona: str) -> None:
        self.page.goto(f"{self.base}/masuk")
        self.page.check(f"#persona-{persona}")
        with self.page.expect_navigation():
            self.page.click("form.picker button[type=submit]")

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}", wait_until="networkidle")

    def axe_violations(self) -> list[dict[str, Any]]:
        # evaluated through the DevTools protocol: the portal's CSP (no inline script) stays on
        self.page.evaluate(AXE.read_text() + "\n;undefined")
        result = self.page.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
        )
        return [
            {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"]
        ]

    def foreign(self) -> list[str]:
        return [u for u in self.requested if not u.startswith(self.base)]

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_offline_error_free_and_accessible(
    browser: Any, portal: str, viewport: dict[str, int]
) -> None:
    shots = screenshot_dir()
    for persona, path, name in PAGES:
        visit = Visit(browser, portal, viewport)
        try:
            if persona:
                visit.sign_in(persona)
            visit.open(path)
            assert visit.page.locator("h1").count() == 1, path
            if path == "/dasbor":
                status = "document.getElementById('grafik-status').textContent"
                visit.page.wait_for_function(f"() => {status}.startsWith('Grafik')")
            violations = visit.axe_violations()
            assert violations == [], f"{path}: {json.dumps(violations)}"
            assert visit.problems == [], f"{path}: {visit.problems}"
            assert visit.foreign() == [], f"{path}: {visit.foreign()}"
            if shots is not None and name is not None:
                suffix = "" if viewport is DESKTOP else "-ponsel"
                visit.page.screenshot(
                    path=str(shots / f"portal-{name}{suffix}.png"), full_page=True
                )
        finally:
            visit.close()


def test_the_dashboard_sorts_and_drills_down_by_keyboard(browser: Any, portal: str) -> None:
    visit = Visit(browser, portal, DESKTOP)
    try:
        visit.sign_in("dpo")
        visit.open("/dasbor")
        visit.page.focus("th[aria-sort] a >> text=Penduduk")
        with visit.page.expect_navigation():
            visit.page.keyboard.press("Enter")
        values = [
            int(t.replace(".", ""))
            for t in visit.page.locator('td[data-key="jumlahPenduduk"]').all_inner_texts()
        ]
        assert len(values) == 15 and values == sorted(values, reverse=True)
        with visit.page.expect_navigation():
            visit.page.click("#tabel-wilayah tbody tr:first-child th a")
        assert "kecamatan" in visit.page.inner_text("h1")
        assert visit.foreign() == []
    finally:
        visit.close()


def test_a_subgraph_down_in_the_browser(browser: Any, portal_down: str) -> None:
    shots = screenshot_dir()
    visit = Visit(browser, portal_down, DESKTOP)
    try:
        visit.sign_in("dpo")
        visit.open("/dasbor")
        cells = visit.page.locator('td[data-key="cakupanJkn"]').all_inner_texts()
        assert cells == ["tidak tersedia"] * 15
        assert visit.page.locator('td[data-key="jumlahPenduduk"]').first.inner_text() != (
            "tidak tersedia"
        )
        assert "Cakupan JKN (Dinas Kesehatan)" in visit.page.inner_text("main")
        assert visit.axe_violations() == []
        if shots is not None:
            visit.page.screenshot(path=str(shots / "portal-dasbor-gangguan.png"), full_page=True)
    finally:
        visit.close()


def test_no_page_shows_personal_data_to_the_dashboard(
    browser: Any, portal: str, world: PortalWorld
) -> None:
    """Every page the portal renders with the dashboard token, as every role: no NIK of any
    resident appears (the dashboard token is refused personal data at the gateway)."""
    niks = set(world.opd.niks(100_000))
    for persona in ("dpo", "operator", "admin-kependudukan", "pemilik-sibansos"):
        visit = Visit(browser, portal, DESKTOP)
        try:
            visit.sign_in(persona)
            for _, path, _ in PAGES[1:]:
                visit.open(path)
                html = visit.page.content()
                assert not [n for n in niks if n in html], (persona, path)
        finally:
            visit.close()
