"""GraphiQL in a real headless browser (Debian's chromium driven by Playwright): the page loads
with no request leaving the gateway's origin, runs a query, shows the result and the plan."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.assembly import assemble
from gateway.config import Settings
from tests.http.servers import SUPERGRAPH_PATH, FakeSubgraph, me_answer, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    # In CI .ci/run installs chromium: a missing browser is a failure there, not a skip.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs /usr/bin/chromium"
    ),
]


@pytest.fixture
def gateway_url() -> Iterator[str]:
    subgraph = FakeSubgraph(me_answer)
    with serve(subgraph.app()) as subgraph_url:
        urls = {name: f"{subgraph_url}/graphql" for name in ("accounts", "products", "reviews")}
        assembly = assemble(
            Settings(), supergraph_sdl=SUPERGRAPH_PATH.read_text(), subgraph_urls=urls
        )
        with serve(assembly.app) as url:
            yield url


def test_graphiql_runs_a_query_offline_and_shows_the_plan(gateway_url: str) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{gateway_url}/graphql", wait_until="networkidle")
            page.wait_for_selector(".graphiql-container", timeout=20_000)

            page.evaluate(
                """() => document.querySelector('.graphiql-query-editor .CodeMirror')
                    .CodeMirror.setValue('query Me { me { id name } }')"""
            )
            page.click(".graphiql-execute-button")
            page.wait_for_function(
                """() => document.querySelector('.graphiql-response')?.innerText.includes('Ada')""",
                timeout=20_000,
            )
            assert '"name": "Ada"' in page.inner_text(".graphiql-response")

            page.click('button[aria-label="Show Query plan"]')
            page.click(".jj-plan-button")
            page.wait_for_function(
                """() => document.querySelector('[data-testid=query-plan]')
                    ?.innerText.includes('Fetch(service: "accounts")')""",
                timeout=20_000,
            )
            assert "QueryPlan" in page.inner_text("[data-testid=query-plan]")
            page.keyboard.press("Escape")  # the plan covers the page until closed
            page.wait_for_selector("[data-testid=query-plan]", state="detached", timeout=5_000)

            page.click('button[aria-label="Show Documentation Explorer"]')
            page.wait_for_selector(".graphiql-doc-explorer-title", timeout=10_000)
        finally:
            browser.close()
    outside = [url for url in requested if not url.startswith(gateway_url)]
    assert outside == []
    assert any(url.endswith("/graphiql/graphiql.js") for url in requested)
    assert [p for p in problems if "Content Security Policy" in p] == []
