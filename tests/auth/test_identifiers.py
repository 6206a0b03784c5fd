"""Identifiers are personal data wherever they travel (issue 12), against the real OPD subgraphs.

Each test here failed on the gateway before issue 12: the derivable mask ``1871xxxxxxxx0001``,
``Keluarga.noKk`` in clear, cursors carrying ``k:<NIK>`` in base64 (and accepted when forged),
lookups by NIK open to any authenticated application (an existence oracle), and an approved
purpose opening every scope the application holds.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.access import PreparedAccess
from gateway.auth.applications import (
    Application,
    Purpose,
    SqliteApplicationRegistry,
)
from gateway.auth.cli import mint_token
from gateway.auth.config import IdentifiersSection
from gateway.auth.identifiers import Identifiers, identifier_key
from gateway.auth.identity import Authenticator
from gateway.errors import GatewayError
from tests.auth.harness import OpdWorld, PrincipalFactory, Secured, SecuredFactory, dev_section

pytestmark = pytest.mark.anyio

PSEUDONYM = re.compile(r"^NIK-[a-z2-7]{24}$")
PAGE = """
query Page($after: String) {
  daftarPenduduk(wilayahKode: "18", first: 3, after: $after) {
    nodes { nik }
    pageInfo { endCursor hasNextPage }
  }
}
"""
SAMPLE = """
{
  daftarPenduduk(wilayahKode: "18", first: 30) {
    nodes { nik tanggalLahir jenisKelamin wilayah { kode } keluarga { noKk } }
  }
}
"""


def spy(gateway: Secured) -> list[PreparedAccess]:
    """Every request's prepared access, as the audit layer receives it after ``release``."""
    seen: list[PreparedAccess] = []
    release = gateway.access.release

    async def recording(prepared: PreparedAccess, *args: Any, **kwargs: Any) -> Any:
        seen.append(prepared)
        return await release(prepared, *args, **kwargs)

    gateway.access.release = recording  # type: ignore[method-assign]
    return seen


def rebuilt(resident: dict[str, Any]) -> str:
    """A NIK rebuilt from what the response shows: region, birth date, sex, last four shown."""
    region = resident["wilayah"]["kode"].replace(".", "")[:6]
    born = date.fromisoformat(resident["tanggalLahir"])
    day = born.day + (40 if resident["jenisKelamin"] == "PEREMPUAN" else 0)
    return f"{region}{day:02d}{born:%m%y}{resident['nik'][-4:]}"


async def test_no_nik_can_be_rebuilt_from_one_response(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    reveal = await principal("sibansos", purpose="penyaluran_bansos")
    truth = await gateway.run(SAMPLE, reveal)
    real = [n["nik"] for n in truth["data"]["daftarPenduduk"]["nodes"]]
    health = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    seen = (await gateway.run(SAMPLE, health))["data"]["daftarPenduduk"]["nodes"]
    assert len(seen) == len(real) == 30
    assert sum(rebuilt(r) == nik for r, nik in zip(seen, real, strict=True)) == 0
    assert all(PSEUDONYM.match(r["nik"]) for r in seen)


async def test_pseudonyms_are_stable_per_application_and_differ_between_applications(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    health = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    social = await principal("sibansos", purpose="verifikasi_dtks")
    first = await gateway.run(SAMPLE, health)
    assert first == await gateway.run(SAMPLE, health)  # joins across responses still work
    other = await gateway.run(SAMPLE, social)
    mine = {n["nik"] for n in first["data"]["daftarPenduduk"]["nodes"]}
    theirs = {n["nik"] for n in other["data"]["daftarPenduduk"]["nodes"]}
    assert len(mine) == 30 and not mine & theirs


async def test_the_kk_number_is_pseudonymised_too(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    gateway = await secured()
    social = await principal("sibansos", purpose="verifikasi_dtks")
    response = await gateway.run(SAMPLE, social)
    assert "errors" not in response, response
    families = [n["keluarga"]["noKk"] for n in response["data"]["daftarPenduduk"]["nodes"]]
    assert families and all(re.fullmatch(r"NOKK-[a-z2-7]{24}", kk) for kk in families)
    assert not re.search(r"\d{16}", json.dumps(response))


async def test_cursors_are_sealed_and_the_next_page_follows(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    page = (await gateway.run(PAGE, caller))["data"]["daftarPenduduk"]
    cursor = page["pageInfo"]["endCursor"]
    assert cursor.startswith("c1.")
    niks = opd_world.niks()
    decoded = base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4))
    assert not any(nik.encode() in decoded or nik in cursor for nik in niks)
    gateway.transport.bodies.clear()
    following = await gateway.run(PAGE, caller, {"after": cursor})
    assert "errors" not in following, following
    # the subgraph got its own cursor back, and that names a row, not a NIK (kit pagination)
    [(_, body)] = gateway.transport.bodies
    [sent] = [v for k, v in body["variables"].items() if k.startswith("jamajamaCursor")]
    assert base64.urlsafe_b64decode(sent).decode().startswith("r:")
    second = following["data"]["daftarPenduduk"]["nodes"]
    assert len(second) == 3 and not {n["nik"] for n in second} & {n["nik"] for n in page["nodes"]}
    literal = PAGE.replace("($after: String)", "").replace("$after", json.dumps(cursor))
    inline = await gateway.run(literal, caller)  # a cursor written into the document works too
    assert inline["data"]["daftarPenduduk"]["nodes"] == second


@pytest.mark.parametrize("how", ["forged", "other application", "other list", "altered"])
async def test_a_cursor_the_gateway_did_not_seal_for_this_caller_and_list_is_refused(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld, how: str
) -> None:
    gateway = await secured()
    health = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    social = await principal("sibansos", purpose="penyaluran_bansos")
    sealed = (await gateway.run(PAGE, health))["data"]["daftarPenduduk"]["pageInfo"]["endCursor"]
    query, caller = PAGE, health
    if how == "forged":  # walk the registry from a chosen NIK, as before issue 12
        after = base64.urlsafe_b64encode(f"k:{opd_world.niks(1)[0]}".encode()).decode()
    elif how == "other application":
        after, caller = sealed, social
    elif how == "other list":
        after = sealed
        query = "query($after: String) { daftarSekolah(after: $after) { totalCount } }"
    else:
        after = sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB")
    gateway.transport.bodies.clear()
    response = await gateway.run(query, caller, {"after": after})
    assert "data" not in response
    [error] = response["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CURSOR"}
    assert gateway.transport.bodies == []  # no subgraph saw the attacker's cursor


async def test_nested_cursors_are_sealed_for_their_list(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    query = """
    query($after: String) {
      daftarSekolah(first: 1) {
        nodes { siswa(first: 2, after: $after) { nodes { nisn } pageInfo { endCursor } } }
      }
    }
    """
    response = await gateway.run(query, caller)
    assert "errors" not in response, response
    siswa = response["data"]["daftarSekolah"]["nodes"][0]["siswa"]
    cursor = siswa["pageInfo"]["endCursor"]
    assert cursor.startswith("c1.")
    assert all(n["nisn"].startswith("NISN-") for n in siswa["nodes"])  # no pendidikan:nisn
    following = await gateway.run(query, caller, {"after": cursor})
    assert "errors" not in following, following
    refused = await gateway.run(PAGE, caller, {"after": cursor})  # a pupil cursor, another list
    assert refused["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("application", "purpose"),
    [
        ("dasbor-gubernur", None),
        ("developer", "pengujian"),
        ("sibansos", None),
        ("sibansos", "verifikasi_dtks"),
        ("sehat-lampung", "pelayanan_kesehatan"),
    ],
)
async def test_a_lookup_by_identifier_is_no_oracle_without_the_reveal_rights(
    secured: SecuredFactory,
    principal: PrincipalFactory,
    opd_world: OpdWorld,
    application: str,
    purpose: str | None,
) -> None:
    gateway = await secured()
    seen = spy(gateway)
    caller = await principal(application, purpose=purpose)
    registered = opd_world.niks(1)[0]
    unknown = registered[:12] + "9999"
    query = "query($n: String!) { penduduk(nik: $n) { nik } keluarga(noKk: $n) { noKk } }"
    answers = [await gateway.run(query, caller, {"n": n}) for n in (registered, unknown)]
    assert answers[0] == answers[1]  # registered and unknown look alike
    assert answers[0]["data"] == {"penduduk": None, "keluarga": None}
    assert gateway.transport.bodies == []  # and take the same path: no subgraph call
    # the refused identifiers are handed to the audit layer (trust-audit indexes them)
    assert [p.outcome.refused_lookups for p in seen] == [
        (("nik", registered), ("no_kk", registered)),
        (("nik", unknown), ("no_kk", unknown)),
    ]


async def test_a_lookup_with_the_reveal_rights_works_and_releases_the_identifier(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld
) -> None:
    gateway = await secured()
    seen = spy(gateway)
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    nik = opd_world.niks(1)[0]
    response = await gateway.run(
        "query($n: String!) { penduduk(nik: $n) { nik keluarga { noKk } } }", caller, {"n": nik}
    )
    assert response["data"]["penduduk"]["nik"] == nik
    released = dict(seen[0].outcome.released)
    assert released["nik"] == nik and len(released["no_kk"]) == 16


async def test_an_approved_purpose_opens_only_the_scopes_it_approves(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    query = (
        '{ daftarPenduduk(wilayahKode: "18", first: 2) { nodes { nik kepesertaanJkn { aktif } } } }'
    )
    paying = await gateway.run(query, await principal("sibansos", purpose="penyaluran_bansos"))
    assert "errors" not in paying
    verifying = await gateway.run(query, await principal("sibansos", purpose="verifikasi_dtks"))
    # SIBANSOS holds kesehatan:read and kependudukan:nik, but verifying DTKS approves neither
    assert [e["path"] for e in verifying["errors"]] == [
        ["daftarPenduduk", "nodes", "kepesertaanJkn"]
    ]
    assert all(PSEUDONYM.match(n["nik"]) for n in verifying["data"]["daftarPenduduk"]["nodes"])


async def test_a_purpose_outside_its_validity_period_approves_nothing() -> None:
    registry = SqliteApplicationRegistry(":memory:")
    approvals = {"Dinas Sosial": (frozenset({"sosial:read"}), frozenset({"data_pribadi"}))}
    await registry.put_purpose(Purpose("lama", valid_until=date(2020, 12, 31), approvals=approvals))
    await registry.put_purpose(Purpose("kini", approvals=approvals))
    await registry.put(
        Application(
            "app",
            opd="Dinas Sosial",
            scopes=frozenset({"sosial:read", "x"}),
            purposes=frozenset({"lama", "kini", "tanpa-catatan"}),
        )
    )
    authenticator = Authenticator(dev_section(), registry)
    header = f"Bearer {mint_token('app', scopes=['sosial:read', 'x'])}"
    current = await authenticator.authenticate(header, "kini")
    assert current.approved_purposes == frozenset({"kini"})  # expired and unrecorded: not
    assert current.purpose_approved and current.scopes == frozenset({"sosial:read"})
    expired = await authenticator.authenticate(header, "lama")
    assert not expired.purpose_approved
    await registry.put(
        Application("klinik", opd="Dinas Kesehatan", scopes=frozenset({"sosial:read"}),
                    purposes=frozenset({"kini"}))
    )  # fmt: skip
    other_opd = f"Bearer {mint_token('klinik', scopes=['sosial:read'])}"
    assert not (await authenticator.authenticate(other_opd, "kini")).purpose_approved
    await registry.aclose()


async def test_the_cursor_variables_are_reserved(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    query = PAGE.replace("$after", "$jamajamaCursor0")
    response = await gateway.run(query, caller, {"jamajamaCursor0": "r:1"})
    assert "data" not in response and gateway.transport.bodies == []


def test_the_key_comes_from_configuration_or_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "identifiers.key"
    secret.write_text("k" * 40 + "\n")
    assert identifier_key(IdentifiersSection(key_file=secret)) == b"k" * 40
    with pytest.raises(GatewayError, match="at least 32 bytes"):
        identifier_key(IdentifiersSection(key="short"))  # type: ignore[arg-type]
    with pytest.raises(GatewayError, match="cannot be read"):
        identifier_key(IdentifiersSection(key_file=tmp_path / "missing"))
    # no key: a random one per process, kept across reloads (another process has another one)
    random = identifier_key(IdentifiersSection())
    assert len(random) == 32 and identifier_key(IdentifiersSection()) == random


async def test_a_cursor_in_a_skipped_field_is_not_unsealed(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    query = """
    query($after: String, $skip: Boolean!) {
      provinsi { kode }
      daftarPenduduk(wilayahKode: "18", after: $after) @skip(if: $skip) { totalCount }
    }
    """
    skipped = await gateway.run(query, caller, {"after": "r:1", "skip": True})
    assert skipped == {"data": {"provinsi": {"kode": "18"}}}
    included = await gateway.run(query, caller, {"after": "r:1", "skip": False})
    assert included["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"


def test_a_pseudonym_is_what_it_always_was() -> None:
    """Pseudonyms are joined on across responses, restarts and replicas: the computation (the
    first 15 bytes of HMAC-SHA256 under the derived pseudonym key, of kind, application and
    value, in lower-case base32) must not change when it is made faster."""
    import hashlib
    import hmac

    key = b"k" * 40
    identifiers = Identifiers(IdentifiersSection(), key)
    sub_key = hmac.new(key, b"jamajama/pseudonym", hashlib.sha256).digest()
    for kind, application, value in [
        ("nik", "sehat-lampung", "1871010101900001"),
        ("no_kk", "sibansos", "1871011511120001"),
        ("nik", None, "1871010101900001"),
    ]:
        message = f"{kind}\0{application or ''}\0{value}".encode()
        digest = hmac.new(sub_key, message, hashlib.sha256).digest()[:15]
        expected = f"{kind.upper().replace('_', '')}-{base64.b32encode(digest).decode().lower()}"
        assert identifiers.pseudonym(kind, application, value) == expected
    assert identifiers.pseudonym("nik", "a", "1") != identifiers.pseudonym("nik", "b", "1")
