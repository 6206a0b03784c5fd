"""Katalog from the registry's API: OPDs, personal fields with their guards and the purposes that
open them, owner contact and legal basis, version history with dates and the diff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from gateway.portal import fmt
from gateway.portal.app import create_app
from tests.portal.conftest import portal_for, sign_in
from tests.portal.world import PortalWorld
from tests.servers import serve


@pytest.fixture
def client(world: PortalWorld) -> Iterator[httpx.Client]:
    with (
        serve(create_app(portal_for(world.gateway, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as c,
    ):
        sign_in(c, "admin-kependudukan")
        yield c


def test_the_katalog_lists_every_opd_and_the_version_history(client: httpx.Client) -> None:
    page = client.get("/katalog")
    assert page.status_code == 200
    for name in ("Dinas Kependudukan dan Pencatatan Sipil", "Dinas Kesehatan", "Dinas Sosial"):
        assert name in page.text
    today = fmt.tanggal(datetime.now(UTC))
    assert f'<a href="/katalog/versi/5">5</a></td><td>{today}</td><td>sosial</td>' in page.text


def test_an_opd_page_shows_personal_fields_guards_purposes_contact_and_legal_basis(
    client: httpx.Client,
) -> None:
    page = client.get("/katalog/kependudukan").text
    assert "disdukcapil@lampungprov.go.id" in page and "UU 24/2013" in page
    row = page.split('<tr id="Penduduk.alamat">', 1)[1].split("</tr>", 1)[0]
    assert '<strong class="pd">Ya</strong>' in row
    assert "kependudukan:read" in row and "data_pribadi" in row
    assert "Penyaluran bantuan sosial" in row and "UU 13/2011" in row
    aggregate = page.split('<tr id="Wilayah.jumlahPenduduk">', 1)[1].split("</tr>", 1)[0]
    assert "Tidak" in aggregate and "Penyaluran" not in aggregate
    assert '<a href="/katalog/versi/2">Versi 2</a>' in page


def test_a_version_shows_the_schema_diff_from_the_one_before(client: httpx.Client) -> None:
    page = client.get("/katalog/versi/2").text
    assert "Perbedaan dengan versi 1" in page and "ditambah" in page and "Penduduk" in page
    assert "Versi pertama" in client.get("/katalog/versi/1").text
    assert client.get("/katalog/versi/99").status_code == 404
    assert client.get("/katalog/tidak-ada").status_code == 404
