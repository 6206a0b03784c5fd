"""Pengajuan akses and Audit pages against a real `jamajama gateway --dev-auth` process and the
OPD subgraphs: a request approved on the page by the right OPD admin is usable by the consumer's
token on its next request (the wrong admin is refused); the DPO page lists an access made moments
before, checks the log's integrity and exports the report."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.cli import mint_token
from gateway.config import dev_settings, load_settings
from gateway.portal.access_backend import AccessBackend, install, open_backend
from gateway.portal.app import create_app
from gateway.portal.config import PortalSettings
from tests.auth.harness import SUPERGRAPH, OpdWorld, opd_world  # noqa: F401  (a fixture)
from tests.browser.conftest import _listening
from tests.portal.conftest import SECRET, csrf_of, sign_in
from tests.servers import serve

pytestmark = pytest.mark.slow

#: sibansos verifying the welfare register: its purpose does not open health data (yet)
HEALTH = (
    '{ daftarPenduduk(wilayahKode: "18", first: 2) { nodes { nama kepesertaanJkn { segmen } } } }'
)
PURPOSE = "verifikasi_dtks"


@dataclass
class Stack:
    gateway: str
    portal: str
    backend: AccessBackend
    nik: str


def _gateway_process(opd: OpdWorld, state: Path) -> Iterator[str]:
    routes = [a for n, u in opd.urls.items() for a in ("--subgraph-url", f"{n}={u}")]
    log = state / "gateway.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gateway.cli", "gateway", "--supergraph", str(SUPERGRAPH),
                "--host", "127.0.0.1", "--port", "0", "--dev-auth", *routes,
            ],
            cwd=state,  # --dev-auth keeps its registry and audit log in ./var/dev
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield _listening(process, log)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def stack(
    opd_world: OpdWorld,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("portal-access")
    for gateway in _gateway_process(opd_world, state):
        settings = dev_settings(load_settings(None), state / "var" / "dev")
        backend = asyncio.run(open_backend(settings, production=False))
        app = create_app(PortalSettings(gateway_url=gateway, session_secret=SECRET, dev=True))
        install(app, backend)
        with serve(app) as portal:
            yield Stack(gateway, portal, backend, opd_world.niks(1)[0])


def ask(
    stack: Stack, query: str, variables: dict[str, Any] | None = None, purpose: str = PURPOSE
) -> dict[str, Any]:
    token = mint_token("sibansos")
    response = httpx.post(
        f"{stack.gateway}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}", "X-Jamajama-Purpose": purpose},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    return body


def refused(body: dict[str, Any]) -> set[str]:
    return {
        ".".join(str(p) for p in e.get("path", []) if not isinstance(p, int))
        for e in body.get("errors", [])
        if e.get("extensions", {}).get("code") == "UNAUTHORIZED_FIELD_OR_TYPE"
    }


def decide(client: httpx.Client, request_id: str, opd: str, action: str) -> httpx.Response:
    token = csrf_of(client.get("/akses").text)
    return client.post(
        f"/akses/{request_id}/putuskan",
        data={"csrf": token, "opd": opd, "aksi": action, "alasan": "uji portal"},
    )


def test_a_request_approved_by_the_right_opd_admin_is_usable_at_once(stack: Stack) -> None:
    jkn = "daftarPenduduk.nodes.kepesertaanJkn"
    assert jkn in refused(ask(stack, HEALTH))
    with httpx.Client(base_url=stack.portal, timeout=30) as owner:
        sign_in(owner, "pemilik-sibansos")
        page = owner.get("/akses")
        assert page.status_code == 200 and "Ajukan akses untuk sibansos" in page.text
        made = owner.post(
            "/akses/ajukan",
            data={
                "csrf": csrf_of(page.text),
                "scope": "kesehatan:read",
                "tujuan": PURPOSE,
                "catatan": "verifikasi kepesertaan JKN penerima bantuan",
            },
        )
        assert made.status_code == 200, made.text
        found = re.search(r"Pengajuan (AR-\w+) dikirim", made.text)
        assert found, made.text
        request_id = found.group(1)
    with httpx.Client(base_url=stack.portal, timeout=30) as wrong:
        sign_in(wrong, "admin-sosial")
        assert request_id not in wrong.get("/akses").text  # not its part: not listed
        assert decide(wrong, request_id, "kesehatan", "approve").status_code == 403
    assert jkn in refused(ask(stack, HEALTH))
    with httpx.Client(base_url=stack.portal, timeout=30) as admin:
        sign_in(admin, "admin-kesehatan")
        assert request_id in admin.get("/akses").text
        approved = decide(admin, request_id, "kesehatan", "approve")
        assert approved.status_code == 200 and "disetujui" in approved.text
        body = ask(stack, HEALTH)  # the consumer's very next request
        assert refused(body) == set(), body
        assert decide(admin, request_id, "kesehatan", "revoke").status_code == 200
    assert jkn in refused(ask(stack, HEALTH))


def test_the_dpo_page_lists_an_access_made_moments_before(stack: Stack) -> None:
    query = "query($nik: String!) { penduduk(nik: $nik) { nama } }"
    token = mint_token("sibansos")
    body = httpx.post(
        f"{stack.gateway}/graphql",
        json={"query": query, "variables": {"nik": stack.nik}},
        headers={"Authorization": f"Bearer {token}", "X-Jamajama-Purpose": "penyaluran_bansos"},
        timeout=30,
    ).json()
    assert body["data"]["penduduk"]["nama"], body
    with httpx.Client(base_url=stack.portal, timeout=30) as dpo:
        sign_in(dpo, "dpo")
        page = dpo.get("/audit")
        assert page.status_code == 200 and "Statistik per aplikasi" in page.text
        token = csrf_of(page.text)
        found = dpo.post("/audit/cari", data={"csrf": token, "jenis": "nik", "nomor": stack.nik})
        assert found.status_code == 200
        rows = re.findall(r"<tr>\s*<td>(.*?)</td><td>(.*?)</td>", found.text)
        assert any(app == "sibansos" for _, app in rows), found.text
        assert "penyaluran_bansos" in found.text
        bad = dpo.post("/audit/cari", data={"csrf": token, "jenis": "nik", "nomor": "123"})
        assert bad.status_code == 400 and "AUDIT_SEARCH_INVALID" in bad.text
        checked = dpo.post("/audit/verifikasi", data={"csrf": token})
        assert 'id="hasil-integritas">Utuh:' in checked.text
        for fmt, magic in (("csv", b"# Laporan akses data NIK"), ("pdf", b"%PDF-")):
            export = dpo.post(
                "/audit/ekspor",
                data={"csrf": token, "jenis": "nik", "nomor": stack.nik, "format": fmt},
            )
            assert export.status_code == 200 and export.content.startswith(magic)
            assert "attachment" in export.headers["content-disposition"]
        assert dpo.get("/audit/metrics").status_code == 404  # the gateway's /metrics has it
    with httpx.Client(base_url=stack.portal, timeout=30) as owner:
        sign_in(owner, "pemilik-sibansos")
        assert owner.get("/audit").status_code == 403  # the DPO's page only


def _key_ask(stack: Stack, key: str) -> httpx.Response:
    return httpx.post(
        f"{stack.gateway}/graphql",
        json={"query": HEALTH.replace("kepesertaanJkn { segmen }", "")},
        headers={"Authorization": f"Bearer {key}", "X-Jamajama-Purpose": PURPOSE},
        timeout=30,
    )


def _rotate(client: httpx.Client, application: str, hours: int) -> str:
    token = csrf_of(client.get("/kredensial").text)
    page = client.post(f"/kredensial/{application}/rotasi", data={"csrf": token, "tenggang": hours})
    assert page.status_code == 200, page.text
    found = re.search(r'id="kunci-baru" class="key" readonly value="(jjk_\w+_[\w-]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_the_operator_rotates_and_revokes_a_key_used_at_the_gateway(stack: Stack) -> None:
    with httpx.Client(base_url=stack.portal, timeout=30) as owner:
        sign_in(owner, "pemilik-sibansos")
        assert owner.get("/kredensial").status_code == 403
    with httpx.Client(base_url=stack.portal, timeout=30) as operator:
        sign_in(operator, "operator")
        first = _rotate(operator, "sibansos", 24)
        answer = _key_ask(stack, first)  # the key works at the consumer's next request
        assert answer.status_code == 200 and answer.json()["data"]["daftarPenduduk"]["nodes"]
        second = _rotate(operator, "sibansos", 24)
        page = operator.get("/kredensial").text
        assert first not in page and second not in page  # a key is shown once only
        first_id, second_id = first.split("_")[1], second.split("_")[1]
        assert re.search(rf'data-credential="{first_id}">.*?data-state="grace"', page, re.S)
        assert _key_ask(stack, first).status_code == 200  # within its grace period
        third = _rotate(operator, "sibansos", 0)  # no grace: both older keys end now
        for ended in (first, second):
            refused = _key_ask(stack, ended)
            assert refused.status_code == 401, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert _key_ask(stack, third).status_code == 200
        third_id = third.split("_")[1]
        token = csrf_of(operator.get("/kredensial").text)
        revoked = operator.post(
            f"/kredensial/kunci/{third_id}/cabut", data={"csrf": token, "alasan": "kunci bocor"}
        )
        assert revoked.status_code == 200 and f"Kunci {third_id} dicabut" in revoked.text
        assert _key_ask(stack, third).status_code == 401
        forged = operator.post(f"/kredensial/kunci/{third_id}/cabut", data={"alasan": "x"})
        assert forged.status_code == 403  # no CSRF token
    assert second_id != first_id
