"""Field-level authorization end to end: the five OPD subgraphs on real servers behind the gateway.

The supergraph (schema/supergraph.graphql) carries the OPD's directives: ``@authenticated`` on
aggregates and root lookups, ``@requiresScopes`` + ``@policy(data_pribadi)`` on personal fields.
A lookup by identifier (``penduduk(nik:)``) also needs the NIK's reveal rights
(``[auth.identifiers]``); callers without them reach residents through region lists and read
per-application pseudonyms (tests/auth/test_identifiers.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.auth.principal import Principal
from tests.auth.harness import OpdWorld, PrincipalFactory, SecuredFactory

pytestmark = pytest.mark.anyio

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
AGGREGATES = "{ kabupatenKota { kode nama jumlahPenduduk cakupanJkn jumlahSekolah } }"
RESIDENT = """
query Warga($nik: String!) {
  penduduk(nik: $nik) {
    nik
    nama
    tanggalLahir
    kepesertaanJkn { segmen aktif }
    keluarga { noKk penerimaBansos { tahun } desilKesejahteraan }
  }
}
"""
#: residents of a region: how callers without the NIK's reveal rights reach personal data
LISTING = """
{
  daftarPenduduk(wilayahKode: "18", first: 3) {
    nodes {
      nik
      nama
      tanggalLahir
      kepesertaanJkn { segmen aktif }
      keluarga { noKk penerimaBansos { tahun } desilKesejahteraan }
    }
  }
}
"""
#: sibansos paying assistance, its token narrowed to the NIK and civil registration
NIK_ONLY = ["kependudukan:nik", "kependudukan:read"]


def codes(response: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(e.get("path"), e["extensions"]["code"]) for e in response.get("errors", [])]


@pytest.fixture
def nik(opd_world: OpdWorld) -> str:
    return opd_world.niks(1)[0]


async def test_anonymous_gets_public_fields_and_null_for_aggregates(
    secured: SecuredFactory,
) -> None:
    gateway = await secured()
    response = await gateway.run(AGGREGATES)
    first = response["data"]["kabupatenKota"][0]
    assert first == {
        "kode": "18.01",
        "nama": "Kabupaten Lampung Selatan",
        "jumlahPenduduk": None,
        "cakupanJkn": None,
        "jumlahSekolah": None,
    }
    assert codes(response) == [
        (["kabupatenKota", "jumlahPenduduk"], UNAUTHORIZED),
        (["kabupatenKota", "cakupanJkn"], UNAUTHORIZED),
        (["kabupatenKota", "jumlahSekolah"], UNAUTHORIZED),
    ]
    assert "needs an authenticated consumer application" in response["errors"][0]["message"]
    # no subgraph was asked for what was refused
    assert "jumlahPenduduk" not in gateway.transport.text()
    assert "jumlahSekolah" not in gateway.transport.text()


async def test_dashboard_sees_aggregates_of_four_opds(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    response = await gateway.run(AGGREGATES, await principal("dasbor-gubernur"))
    assert "errors" not in response
    row = response["data"]["kabupatenKota"][0]
    assert row["jumlahPenduduk"] > 0 and row["jumlahSekolah"] > 0
    assert 0 < row["cakupanJkn"] <= 1


async def test_dashboard_is_refused_personal_fields_with_paths(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    query = "query($nik: String!) { penduduk(nik: $nik) { nik kepesertaanJkn { segmen } } }"
    caller = await principal("sibansos", purpose="penyaluran_bansos", scopes=NIK_ONLY)
    response = await gateway.run(query, caller, {"nik": nik})
    assert response["data"] == {"penduduk": {"nik": nik, "kepesertaanJkn": None}}
    assert codes(response) == [(["penduduk", "kepesertaanJkn"], UNAUTHORIZED)]
    assert response["errors"][0]["message"] == (
        "Unauthorized field Penduduk.kepesertaanJkn: it needs the scope kesehatan:read"
    )
    assert "kepesertaanJkn" not in gateway.transport.text()


async def test_non_null_refused_field_nulls_its_parent_without_extra_errors(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    query = "query($nik: String!) { penduduk(nik: $nik) { nik tanggalLahir } }"
    caller = await principal("sibansos", purpose="penyaluran_bansos", scopes=NIK_ONLY[:1])
    response = await gateway.run(query, caller, {"nik": nik})
    assert response["data"] == {"penduduk": None}
    assert codes(response) == [(["penduduk", "tanggalLahir"], UNAUTHORIZED)]


async def test_purpose_must_be_declared(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    response = await gateway.run(RESIDENT, await principal("sibansos"), {"nik": nik})
    assert response["data"] == {"penduduk": None}
    reasons = {e["extensions"]["reason"] for e in response["errors"]}
    assert reasons == {
        "personal data needs a declared purpose: send the X-Jamajama-Purpose header with a "
        "purpose your application is approved for"
    }
    assert "nama" not in gateway.transport.text()


async def test_purpose_must_be_approved_for_the_application(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="penyaluran_bansos")
    response = await gateway.run(LISTING, caller)
    assert response["data"] == {"daftarPenduduk": None}
    assert response["errors"][0]["extensions"]["reason"] == (
        'purpose "penyaluran_bansos" is not approved for application "sehat-lampung" '
        "(approved: pelayanan_kesehatan)"
    )


async def test_application_without_any_approved_purpose(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    caller = await principal("developer", purpose="pengujian")
    response = await gateway.run(LISTING, caller)
    assert "(approved: none)" in response["errors"][0]["message"]


async def test_approved_purpose_and_scopes_release_the_cross_agency_record(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    response = await gateway.run(RESIDENT, caller, {"nik": nik})
    assert "errors" not in response, response
    resident = response["data"]["penduduk"]
    assert resident["nik"] == nik  # kependudukan:nik: the full number
    assert resident["nama"] and resident["tanggalLahir"]
    assert set(resident["keluarga"]) == {"noKk", "penerimaBansos", "desilKesejahteraan"}


async def test_health_app_gets_health_data_but_not_assistance(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    response = await gateway.run(LISTING, caller)
    resident = response["data"]["daftarPenduduk"]["nodes"][0]
    assert resident["nik"].startswith("NIK-")  # its pseudonym
    assert "kepesertaanJkn" in resident  # allowed (null when the resident is not a member)
    assert resident["keluarga"] is None  # penerimaBansos is non-null: its null reaches keluarga
    assert codes(response) == [
        (["daftarPenduduk", "nodes", "keluarga", "penerimaBansos"], UNAUTHORIZED),
        (["daftarPenduduk", "nodes", "keluarga", "desilKesejahteraan"], UNAUTHORIZED),
    ]
    text = gateway.transport.text()
    assert "penerimaBansos" not in text and "desilKesejahteraan" not in text


async def test_reject_mode_refuses_the_whole_operation(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured(mode="reject")
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    response = await gateway.run(LISTING, caller)
    assert "data" not in response
    assert codes(response) == [
        (["daftarPenduduk", "nodes", "keluarga", "penerimaBansos"], UNAUTHORIZED),
        (["daftarPenduduk", "nodes", "keluarga", "desilKesejahteraan"], UNAUTHORIZED),
    ]
    assert gateway.transport.bodies == []
    # an operation within the caller's rights runs normally in reject mode
    allowed = '{ daftarPenduduk(wilayahKode: "18") { nodes { nama kepesertaanJkn { aktif } } } }'
    assert "errors" not in await gateway.run(allowed, caller)


NODES = 'daftarPenduduk(wilayahKode: "18", first: 5) { nodes'


@pytest.mark.parametrize(
    "query",
    [
        f"{{ {NODES} {{ nomor: nik }} }} }}",
        f"{{ {NODES} {{ ...Id }} }} }} fragment Id on Penduduk {{ nik }}",
        f"{{ {NODES} {{ ... on Penduduk {{ a: nik b: nik }} }} }} }}",
        f"{{ {NODES} {{ keluarga {{ noKk anggota {{ nik }} }} }} }} }}",
        f"{{ {NODES} {{ keluarga {{ kepalaKeluarga {{ nik }} }} }} }} }}",
        f"{{ {NODES} {{ nik }} pageInfo {{ endCursor }} }} }}",
    ],
)
async def test_nik_is_pseudonymised_through_aliases_fragments_and_relations(
    secured: SecuredFactory, principal: PrincipalFactory, opd_world: OpdWorld, query: str
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    response = await gateway.run(query, caller)
    assert "errors" not in response, response
    text = json.dumps(response)
    assert "NIK-" in text
    for known in opd_world.niks():
        assert known not in text


async def test_error_messages_never_carry_a_full_nik(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    caller = await principal("sehat-lampung", purpose="pelayanan_kesehatan")
    bad = "1871019999990001"  # not a region code: the subgraph's error names it
    response = await gateway.run(
        "query($kode: String!) { daftarPenduduk(wilayahKode: $kode) { totalCount } }",
        caller,
        {"kode": bad},
    )
    assert response["errors"], response
    assert bad not in json.dumps(response)
    assert "x" * 16 in json.dumps(response)


async def test_plans_are_not_shared_between_callers_with_different_rights(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    full = await principal("sibansos", purpose="penyaluran_bansos")
    dashboard = await principal("sibansos", purpose="penyaluran_bansos", scopes=NIK_ONLY)
    query = "query($nik: String!) { penduduk(nik: $nik) { nik kepesertaanJkn { segmen } } }"
    assert "errors" not in await gateway.run(query, full, {"nik": nik})
    gateway.transport.bodies.clear()
    response = await gateway.run(query, dashboard, {"nik": nik})
    assert codes(response) == [(["penduduk", "kepesertaanJkn"], UNAUTHORIZED)]
    assert "kepesertaanJkn" not in gateway.transport.text()
    gateway.transport.bodies.clear()
    assert "errors" not in await gateway.run(query, full, {"nik": nik})
    assert "kepesertaanJkn" in gateway.transport.text()


async def test_unregistered_application_gets_anonymous_access(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()
    rogue: Principal = await principal("aplikasi-liar", scopes=["kependudukan:read"])
    response = await gateway.run(AGGREGATES, rogue)
    assert response["data"]["kabupatenKota"][0]["jumlahPenduduk"] is None


INTROSPECT_PENDUDUK = '{ __type(name: "Penduduk") { fields { name } } }'


async def test_introspection_shows_each_caller_its_own_schema(
    secured: SecuredFactory, principal: PrincipalFactory
) -> None:
    gateway = await secured()

    async def fields(caller: Principal | None) -> set[str]:
        response = await gateway.run(INTROSPECT_PENDUDUK, caller)
        found = response["data"]["__type"]
        return {f["name"] for f in found["fields"]} if found else set()

    full = await fields(await principal("sibansos", purpose="penyaluran_bansos"))
    health = await fields(await principal("sehat-lampung", purpose="pelayanan_kesehatan"))
    dashboard = await fields(await principal("dasbor-gubernur"))
    assert {"tanggalLahir", "kepesertaanJkn", "pendidikan"} <= full
    assert "kepesertaanJkn" in health and "pendidikan" not in health
    assert dashboard == {"nik"}
    schema = await gateway.run(
        "{ __schema { queryType { fields { name } } } }", await principal("dasbor-gubernur")
    )
    names = {f["name"] for f in schema["data"]["__schema"]["queryType"]["fields"]}
    assert "kabupatenKota" in names
    assert "penduduk" not in names and "daftarPenduduk" not in names


@pytest.mark.parametrize(
    ("setting", "anonymous_allowed", "authenticated_allowed"),
    [("all", True, True), ("authenticated", False, True), ("none", False, False)],
)
async def test_introspection_can_be_restricted(
    secured: SecuredFactory,
    principal: PrincipalFactory,
    setting: str,
    anonymous_allowed: bool,
    authenticated_allowed: bool,
) -> None:
    gateway = await secured(introspection=setting)
    query = "{ __schema { queryType { name } } }"
    for caller, allowed in (
        (None, anonymous_allowed),
        (await principal("dasbor-gubernur"), authenticated_allowed),
    ):
        response = await gateway.run(query, caller)
        if allowed:
            assert response == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        else:
            assert codes(response) == [(["__schema"], UNAUTHORIZED)]
            assert response["data"] is None  # __schema is non-null: the null reaches data


async def test_the_audit_alias_is_reserved(
    secured: SecuredFactory, principal: PrincipalFactory, nik: str
) -> None:
    gateway = await secured()
    caller = await principal("sibansos", purpose="penyaluran_bansos")
    query = "query($nik: String!) { penduduk(nik: $nik) { jamajamaAuditSubject: nama nama } }"
    response = await gateway.run(query, caller, {"nik": nik})
    assert nik not in json.dumps(response)
    assert "data" not in response  # refused whole, even in filter mode
    assert codes(response) == [(["penduduk", "jamajamaAuditSubject"], UNAUTHORIZED)]
    assert "reserved" in response["errors"][0]["message"]
    assert gateway.transport.bodies == []
