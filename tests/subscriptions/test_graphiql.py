"""GraphiQL (the bundled page, headless chromium) runs a subscription over SSE and shows each
event as it arrives, the entity fields from other subgraphs included."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.subscriptions.conftest import WAIT_S, GatewayFactory, World, auth_headers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs /usr/bin/chromium"
    ),
]

QUERY = "subscription Layar { penyaluranBansos { id nominal wilayah { nama } } }"


def test_graphiql_streams_subscription_events(world: World, gateway: GatewayFactory) -> None:
    from playwright.sync_api import sync_playwright

    running = gateway()
    no_kk, _, _, village = world.family()
    headers = json.dumps(auth_headers("sibansos", "penyaluran_bansos"))
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.add_init_script(
                f"window.localStorage.setItem('jamajama:gateway:headers', {json.dumps(headers)})"
            )
            page.goto(f"{running.url}/graphql", wait_until="networkidle")
            page.wait_for_selector(".graphiql-container", timeout=20_000)
            page.evaluate(
                """(q) => document.querySelector('.graphiql-query-editor .CodeMirror')
                    .CodeMirror.setValue(q)""",
                QUERY,
            )
            page.click(".graphiql-execute-button")
            # publish from another thread once the gateway has subscribed upstream
            deadline = time.monotonic() + WAIT_S
            while world.subscribers() < 1:
                assert time.monotonic() < deadline, "GraphiQL never subscribed"
                time.sleep(0.05)
            publisher = threading.Thread(target=_publish, args=(world, no_kk))
            publisher.start()
            publisher.join()
            page.wait_for_function(
                "(v) => document.querySelector('.graphiql-response')?.innerText.includes(v)",
                arg=village,
                timeout=20_000,
            )
            shown = page.inner_text(".graphiql-response")
            assert '"nominal": 750000' in shown
        finally:
            browser.close()
    assert not problems, problems


def _publish(world: World, no_kk: str) -> None:
    import asyncio

    asyncio.run(world.publish(no_kk))
