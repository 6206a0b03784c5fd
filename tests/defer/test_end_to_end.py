"""@defer over HTTP against the five OPD subgraphs, authorization, masking and audit on: the
primary part and the deferred part parsed by a MIME parser, a refused field degrading only the
deferred part, one audit record per part, Accept negotiation (406)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.defer.multipart import parts_of
from tests.subscriptions.conftest import WAIT_S, GatewayFactory, World, auth_headers

pytestmark = pytest.mark.anyio

KELUARGA = """
query Keluarga($kk: String!) {
  keluarga(noKk: $kk) {
    noKk
    ... @defer(label: "kepala") { kepalaKeluarga { nama } }
  }
}
"""


async def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT_S) as http:
        return await http.post("/graphql", json=body, headers=headers)


def _query_records(running: Any) -> list[dict[str, Any]]:
    return [e for e in running.audit_events() if e.get("operation_name") == "Keluarga"]


async def test_deferred_personal_field_arrives_in_its_own_part_and_is_audited(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, head, _ = world.family()
    headers = {
        **auth_headers("sibansos", "penyaluran_bansos"),
        "accept": "multipart/mixed;deferSpec=20220824, application/json",
    }
    response = await _post(running.url, {"query": KELUARGA, "variables": {"kk": no_kk}}, headers)
    assert response.status_code == 200, response.text
    primary, deferred = parts_of(response)
    assert primary == {"data": {"keluarga": {"noKk": no_kk}}, "hasNext": True}
    assert deferred == {
        "incremental": [
            {
                "data": {"kepalaKeluarga": {"nama": head}},
                "path": ["keluarga"],
                "label": "kepala",
            }
        ],
        "hasNext": False,
    }
    # one record per part that released personal data (each written before its part was sent:
    # tests/defer/test_streaming.py), each naming that part's fields
    primary_record, deferred_record = _query_records(running)
    assert primary_record["fields"] == ["Keluarga.noKk", "Query.keluarga"]
    assert deferred_record["fields"] == [
        "Keluarga.kepalaKeluarga",
        "Penduduk.nama",
        "Query.keluarga",
    ]
    assert all(
        r["personal"] and r["application"] == "sibansos" for r in (primary_record, deferred_record)
    )


async def test_a_refused_deferred_field_degrades_only_its_part(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    _, desa, _, village = world.family()
    query = """
    query Wilayah($kode: String!) {
      wilayah(kode: $kode) { nama ... @defer(label: "angka") { jumlahPenduduk } }
    }
    """
    headers = {"accept": "multipart/mixed"}  # anonymous: jumlahPenduduk is @authenticated
    response = await _post(running.url, {"query": query, "variables": {"kode": desa}}, headers)
    assert response.status_code == 200, response.text
    primary, deferred = parts_of(response)
    assert primary == {"data": {"wilayah": {"nama": village}}, "hasNext": True}
    (entry,) = deferred["incremental"]
    assert entry["path"] == ["wilayah"] and entry["label"] == "angka"
    assert entry["data"] == {"jumlahPenduduk": None}
    assert entry["errors"], entry
    assert {e["path"][-1] for e in entry["errors"]} == {"jumlahPenduduk"}
    assert deferred["hasNext"] is False


async def test_defer_without_a_multipart_accept_is_refused_before_it_runs(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": "application/json"}
    response = await _post(running.url, {"query": KELUARGA, "variables": {"kk": no_kk}}, headers)
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INCREMENTAL_DELIVERY_NOT_ACCEPTED"
    assert "multipart/mixed" in error["message"]
    assert not _query_records(running)  # nothing ran, nothing was released


async def test_accept_negotiation_follows_hive(world: World, gateway: GatewayFactory) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    base = auth_headers("sibansos", "penyaluran_bansos")
    body = {"query": KELUARGA, "variables": {"kk": no_kk}}
    # JSON preferred but multipart accepted, or anything accepted: a deferring operation goes
    # multipart (it cannot be JSON)
    for accept in ("application/json, multipart/mixed", "*/*"):
        response = await _post(running.url, body, {**base, "accept": accept})
        assert response.status_code == 200
        assert [p["hasNext"] for p in parts_of(response)] == [True, False]
    # an operation without @defer: multipart only when the client prefers it
    plain = {
        "query": "query($kk: String!) { keluarga(noKk: $kk) { noKk } }",
        "variables": body["variables"],
    }
    response = await _post(running.url, plain, {**base, "accept": "multipart/mixed"})
    assert parts_of(response) == [{"data": {"keluarga": {"noKk": no_kk}}}]
    response = await _post(running.url, plain, {**base, "accept": "*/*"})
    assert response.headers["content-type"].startswith("application/json")
    # refused before execution, answered multipart: 400 as Hive does
    response = await _post(
        running.url, {"query": "{ nope }"}, {**base, "accept": "multipart/mixed"}
    )
    assert response.status_code == 400
    (refusal,) = parts_of(response)
    assert refusal["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_an_object_whose_fields_are_all_deferred_is_empty_in_the_primary_part(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    query = 'query($kk: String!) { keluarga(noKk: $kk) { ... @defer(label: "k") { noKk } } }'
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": "multipart/mixed"}
    response = await _post(running.url, {"query": query, "variables": {"kk": no_kk}}, headers)
    assert parts_of(response) == [
        {"data": {"keluarga": {}}, "hasNext": True},
        {
            "incremental": [{"data": {"noKk": no_kk}, "path": ["keluarga"], "label": "k"}],
            "hasNext": False,
        },
    ]
    released = [r for r in running.audit_events() if "Keluarga.noKk" in r["fields"]]
    assert len(released) == 1  # the deferred part's record
    # on a null object nothing is deferred: one plain part (here with the subgraph's refusal),
    # and the deferred operation, cancelled or never released, leaves no record
    response = await _post(running.url, {"query": query, "variables": {"kk": "0" * 16}}, headers)
    (only,) = parts_of(response)
    assert only["data"] == {"keluarga": None} and "hasNext" not in only
    assert [r for r in running.audit_events() if "Keluarga.noKk" in r["fields"]] == released
