"""Pengajuan akses and Audit in headless Chromium, against a real gateway process: the owner
files a request, the right OPD admin approves it on the page and the consumer's token can use it
on its next request; the DPO finds an access made moments before. No request leaves the portal's
origin; axe-core finds no WCAG 2.1 A/AA violation. ``JAMAJAMA_SCREENSHOTS=docs/img`` refreshes
``docs/img/portal-akses*.png``, ``docs/img/portal-audit*.png`` and
``docs/img/portal-kredensial*.png`` (desktop and phone)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.auth.harness import opd_world  # noqa: F401  (a fixture)
from tests.browser.conftest import screenshot_dir
from tests.browser.test_graphiql import CHROMIUM, CHROMIUM_ARGS
from tests.portal.test_access import HEALTH, Stack, ask, refused, stack  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"), reason="needs /usr/bin/chromium"
    ),
]

AXE = Path(__file__).parent / "axe" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(chromium: Any, portal: str, persona: str, requested: list[str]) -> Any:
    # bypass_csp: only so that the test can inject axe-core; the portal's own pages need no inline
    # script
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{portal}/masuk")
    page.check(f"#persona-{persona}")
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_load_state()
    return page


def violations(page: Any) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', "
        "'wcag21aa']})).violations.map(v => v.id + ': ' + v.nodes.length)"
    )
    return list(found)


def shoot(page: Any, name: str) -> None:
    directory = screenshot_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(directory / f"{name}-ponsel.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_request_approval_and_dpo_search_in_the_browser(stack: Stack) -> None:  # noqa: F811
    requested: list[str] = []
    jkn = "daftarPenduduk.nodes.kepesertaanJkn"
    assert jkn in refused(ask(stack, HEALTH))
    with browser() as chromium:
        owner = signed_in(chromium, stack.portal, "pemilik-sibansos", requested)
        owner.goto(f"{stack.portal}/akses")
        owner.check("input[name=scope][value='kesehatan:read']")
        owner.check("input[name=tujuan][value='verifikasi_dtks']")
        owner.fill("#catatan", "verifikasi kepesertaan JKN penerima bantuan")
        owner.get_by_role("button", name="Kirim pengajuan").click()
        status = owner.get_by_role("status").first.inner_text()
        found = re.search(r"Pengajuan (AR-\w+) dikirim", status)
        assert found, status
        request_id = found.group(1)
        assert violations(owner) == []
        shoot(owner, "portal-akses")

        admin = signed_in(chromium, stack.portal, "admin-kesehatan", requested)
        admin.goto(f"{stack.portal}/akses")
        row = admin.locator(f"#{request_id} tbody tr").first
        row.get_by_label("Alasan").fill("sesuai Permensos 3/2021 dan UU 17/2023")
        row.get_by_role("button", name="Setujui").click()
        assert "disetujui" in admin.get_by_role("status").first.inner_text()
        assert admin.locator(f"#{request_id} td[data-status=approved]").count() == 1
        assert refused(ask(stack, HEALTH)) == set()  # the consumer's next request
        assert violations(admin) == []
        shoot(admin, "portal-akses-admin")

        resident = "query($nik: String!) { penduduk(nik: $nik) { nama } }"
        assert ask(stack, resident, {"nik": stack.nik}, "penyaluran_bansos")["data"]["penduduk"]
        dpo = signed_in(chromium, stack.portal, "dpo", requested)
        dpo.goto(f"{stack.portal}/audit")
        dpo.fill("#nomor", stack.nik)
        dpo.get_by_role("button", name="Cari").click()
        table = dpo.locator("#tabel-akses")
        assert "sibansos" in table.inner_text()
        shoot(dpo, "portal-audit")
        dpo.get_by_role("button", name="Periksa integritas log").click()
        assert dpo.locator("#hasil-integritas").inner_text().startswith("Utuh")
        assert violations(dpo) == []
    outside = [u for u in requested if not u.startswith(stack.portal)]
    assert outside == [], outside


def test_key_rotation_in_the_browser(stack: Stack) -> None:  # noqa: F811
    requested: list[str] = []
    with browser() as chromium:
        operator = signed_in(chromium, stack.portal, "operator", requested)
        operator.goto(f"{stack.portal}/operator")
        operator.get_by_role("link", name="Kredensial", exact=True).first.click()
        card = operator.locator("#kredensial-sehat-lampung")
        card.get_by_label("Masa tenggang kunci lama").select_option("24")
        card.get_by_role("button").last.click()  # Terbitkan / Rotasi kunci
        key = operator.locator("#kunci-baru").input_value()
        assert key.startswith("jjk_")
        card = operator.locator("#kredensial-sehat-lampung")
        card.get_by_role("button", name="Rotasi kunci").click()
        card = operator.locator("#kredensial-sehat-lampung")
        assert card.locator("td[data-state=grace]").count() == 1
        assert card.locator("td[data-state=active]").count() == 1
        assert key not in operator.content()  # the earlier key is never shown again
        assert violations(operator) == []
        shoot(operator, "portal-kredensial")
        operator.keyboard.press("Tab")  # keyboard: the first control is reachable
    outside = [u for u in requested if not u.startswith(stack.portal)]
    assert outside == [], outside
