"""GraphiQL as the front door, in headless chromium: on `jamajama gateway --dev-auth` an application
preset answers the README's case query (the schema re-fetched with its headers, kept across a
reload), the plan opens full width, fields link to the catalogue; a subgraph serves the same page
offline; the catalogue marks identifiers. No request leaves the page's origin, nothing is a 404."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.browser.conftest import FrontDoor, readme_case_query, screenshot_dir
from tests.browser.test_graphiql import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    # In CI .ci/run installs chromium: a missing browser is a failure there, not a skip.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs /usr/bin/chromium"
    ),
]

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
LINT_ERROR = ".graphiql-query-editor .CodeMirror-lint-mark-error"


@dataclass
class Watched:
    """Every request a page made, the 4xx/5xx answers, console errors and page errors."""

    requested: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def outside(self, *origins: str) -> list[str]:
        return [u for u in self.requested if not u.startswith(origins)]


@contextmanager
def browser_page(watched: Watched) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.on("request", lambda request: watched.requested.append(request.url))
            page.on(
                "response",
                lambda r: watched.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.on(
                "console",
                lambda m: watched.problems.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda error: watched.problems.append(str(error)))
            yield page
        finally:
            browser.close()


def set_editor(page: Any, selector: str, text: str, index: int = 0) -> None:
    page.evaluate(
        "([selector, index, text]) => document.querySelectorAll(selector)[index]"
        ".CodeMirror.setValue(text)",
        [selector, index, text],
    )


def editor_text(page: Any, selector: str, index: int = 0) -> str:
    return str(
        page.evaluate(
            "([selector, index]) => document.querySelectorAll(selector)[index]"
            ".CodeMirror.getValue()",
            [selector, index],
        )
    )


def response_json(page: Any) -> dict[str, Any]:
    text = page.evaluate(
        "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
    )
    return json.loads(text)  # type: ignore[no-any-return]


def shoot(page: Any, name: str) -> None:
    directory = screenshot_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / name))


def test_the_front_door_answers_the_readme_case_with_a_preset(front_door: FrontDoor) -> None:
    gateway = front_door.gateway
    nik = front_door.world.niks(1)[0]
    query = readme_case_query()
    watched = Watched()
    with browser_page(watched) as page:
        page.goto(f"{gateway}/graphql", wait_until="networkidle")
        page.wait_for_selector(".graphiql-container", timeout=20_000)
        page.wait_for_selector(
            "[data-testid=preset-application] option[value=sibansos]",
            state="attached",
            timeout=10_000,
        )
        set_editor(page, QUERY_EDITOR, query)
        set_editor(page, ".graphiql-editor-tool .CodeMirror", json.dumps({"nik": nik}), 0)
        # Anonymous, the schema has no `penduduk`: the README's query is flagged...
        page.wait_for_selector(LINT_ERROR, timeout=10_000)

        page.select_option("[data-testid=preset-application]", "sibansos")
        page.wait_for_function(
            """() => document.querySelector('[data-testid=preset-purpose]')?.value
                === 'penyaluran_bansos'""",
            timeout=10_000,
        )
        headers = json.loads(editor_text(page, ".graphiql-editor-tool .CodeMirror", 1))
        assert headers["Authorization"].startswith("Bearer ey")
        assert headers["X-Jamajama-Purpose"] == "penyaluran_bansos"
        # ... and once the headers change, the schema is fetched again with them: no longer red.
        page.wait_for_selector(LINT_ERROR, state="detached", timeout=10_000)

        page.click(".graphiql-execute-button")
        page.wait_for_function(
            """() => document.querySelector('.graphiql-response')?.innerText.includes('noKk')""",
            timeout=20_000,
        )
        answer = response_json(page)
        assert "errors" not in answer, answer
        resident = answer["data"]["penduduk"]
        assert resident["nama"] and resident["keluarga"]["anggota"]
        assert nik in {m["nik"] for m in resident["keluarga"]["anggota"]}  # sibansos sees NIKs
        shoot(page, "graphiql-gateway.png")

        # The plan opens full width, its lines unclipped (scrollable, never wrapped or cut).
        page.click('button[aria-label="Show Query plan"]')
        page.click(".jj-plan-button")
        page.wait_for_function(
            """() => document.querySelector('[data-testid=query-plan]')
                ?.innerText.includes('Fetch(service: "kependudukan")')""",
            timeout=20_000,
        )
        box = page.locator(".jj-dialog").bounding_box()
        assert box is not None and box["width"] >= 0.9 * 1400
        assert (
            page.evaluate(
                "() => getComputedStyle(document.querySelector('[data-testid=query-plan]'))"
                ".whiteSpace"
            )
            == "pre"
        )
        shoot(page, "graphiql-plan.png")
        page.keyboard.press("Escape")

        # Each field in the docs links to its catalogue entry.
        page.click('button[aria-label="Show Documentation Explorer"]')
        page.click(".graphiql-doc-explorer-content a:has-text('Query')")
        page.click(".graphiql-doc-explorer-field-name:text-is('penduduk')")
        page.click(
            ".graphiql-doc-explorer-content a.graphiql-doc-explorer-type-name:text-is('Penduduk')"
        )
        page.click(".graphiql-doc-explorer-field-name:text-is('nama')")
        link = page.wait_for_selector("[data-testid=catalogue-link]", timeout=10_000)
        assert link.get_attribute("href") == f"{front_door.registry}/catalogue#Penduduk.nama"

        # The headers and the preset survive a reload (localStorage), and so does the schema.
        page.reload(wait_until="networkidle")
        page.wait_for_selector(".graphiql-container", timeout=20_000)
        page.wait_for_function(
            """() => document.querySelector('[data-testid=preset-application]')?.value
                === 'sibansos'""",
            timeout=10_000,
        )
        headers = json.loads(editor_text(page, ".graphiql-editor-tool .CodeMirror", 1))
        assert headers["X-Jamajama-Purpose"] == "penyaluran_bansos"
        assert headers["Authorization"].startswith("Bearer ey")
    assert watched.outside(gateway) == []
    assert watched.failed == []
    assert [p for p in watched.problems if "Content Security Policy" in p] == []


def test_a_subgraph_serves_the_same_graphiql_offline(front_door: FrontDoor) -> None:
    url = front_door.world.urls["kependudukan"]
    origin = url.removesuffix("/graphql")
    nik = front_door.world.niks(1)[0]
    watched = Watched()
    with browser_page(watched) as page:
        page.goto(url, wait_until="networkidle")
        page.wait_for_selector(".graphiql-container", timeout=20_000)
        assert page.locator("[data-testid=preset-application]").count() == 0
        # The README's case, the part this OPD answers alone.
        set_editor(
            page,
            QUERY_EDITOR,
            "query ($nik: String!) {\n  penduduk(nik: $nik) {\n    nama\n    keluarga {\n"
            "      noKk\n      anggota { nik nama }\n    }\n  }\n}\n",
        )
        page.click("button[data-name=variables], button:text-is('Variables')")
        set_editor(page, ".graphiql-editor-tool .CodeMirror", json.dumps({"nik": nik}), 0)
        page.wait_for_selector(LINT_ERROR, state="detached", timeout=10_000)
        page.click(".graphiql-execute-button")
        page.wait_for_function(
            """() => document.querySelector('.graphiql-response')?.innerText.includes('noKk')""",
            timeout=20_000,
        )
        answer = response_json(page)
        assert "errors" not in answer, answer
        assert nik in {m["nik"] for m in answer["data"]["penduduk"]["keluarga"]["anggota"]}
        shoot(page, "graphiql-subgraph.png")
    assert watched.outside(origin) == []
    assert any(u.endswith("/graphiql/graphiql.js") for u in watched.requested)
    assert watched.failed == []
    assert [p for p in watched.problems if "Content Security Policy" in p] == []


def test_the_catalogue_page_shows_identifiers_as_personal_data(front_door: FrontDoor) -> None:
    watched = Watched()
    with browser_page(watched) as page:
        page.goto(f"{front_door.registry}/catalogue#Penduduk.nik", wait_until="networkidle")
        row = page.inner_text("tr[id='Penduduk.nik']")
        assert "ya (nomor identitas)" in row
        assert "diterbitkan oleh opd:kependudukan pada" in page.inner_text("body")
        page.goto(f"{front_door.registry}/catalogue#kependudukan", wait_until="networkidle")
        shoot(page, "catalogue.png")
        icon = page.request.get(f"{front_door.registry}/favicon.ico")
        assert icon.status == 200
    assert watched.outside(front_door.registry) == []
    assert watched.failed == []
