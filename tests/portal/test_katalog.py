"""Katalog from the registry's API: OPDs, personal fields with their guards and the purposes that
open them, owner contact and legal basis (from the governed OPD profiles file), version history
with dates and the diff."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gateway.portal import fmt
from gateway.portal.app import create_app
from gateway.portal.config import PortalSettings
from gateway.portal.opds import PACKAGED, OpdProfiles, OpdProfilesError, load
from tests.portal.conftest import portal_for, sign_in
from tests.portal.world import ROOT, PortalWorld
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


def test_the_opd_profiles_come_from_the_governed_file_and_follow_its_edits(
    world: PortalWorld, tmp_path: Path
) -> None:
    profiles = tmp_path / "opds.toml"
    profiles.write_text(PACKAGED.read_text(encoding="utf-8"), encoding="utf-8")
    settings = dataclasses.replace(
        portal_for(world.gateway, world.registry), opds_file=str(profiles)
    )
    with (
        serve(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, "admin-kesehatan")
        page = client.get("/katalog").text
        assert "dinkes@lampungprov.go.id" in page and "UU 17/2023 (Kesehatan)" in page
        edited = profiles.read_text(encoding="utf-8").replace(
            'contact = "dinkes@lampungprov.go.id"', 'contact = "data.dinkes@lampungprov.go.id"'
        )
        profiles.write_text(edited, encoding="utf-8")
        os.utime(profiles, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
        page = client.get("/katalog/kesehatan").text
        assert "data.dinkes@lampungprov.go.id" in page
        assert "Kepala Seksi Data dan Informasi Kesehatan" in page  # the steward
        profiles.write_text("[[opd]]\nsubgraph = 'kesehatan'\n", encoding="utf-8")  # no name
        os.utime(profiles, ns=(time.time_ns(), time.time_ns() + 2_000_000_000))
        assert "data.dinkes@lampungprov.go.id" in client.get("/katalog/kesehatan").text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[opd]]\nsubgraph = 'a'\nname = 'A'\n[[opd]]\nsubgraph = 'a'\nname = 'B'\n", "twice"),
        ("[[opd]]\nsubgraph = 'a'\n", "name"),
        ("[[opd]]\nsubgraph = 'a'\nname = 'A'\nkontak = 'x'\n", "kontak"),
        ("[[opd]\n", "Expected"),
    ],
)
def test_a_bad_profiles_file_stops_the_portal_with_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "opds.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OpdProfilesError, match=reason):
        OpdProfiles(path)
    with pytest.raises(OpdProfilesError, match=r"opds\.toml"):
        create_app(PortalSettings(session_secret="s" * 32, dev=True, opds_file=str(path)))


def test_the_packaged_profiles_name_every_opd_subgraph() -> None:
    names = set(load(PACKAGED))
    assert names == {p.stem for p in (ROOT / "schema").glob("*.graphql")} & names
    assert {"wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial"} <= names
