"""@stream over HTTP against the OPD subgraphs, authorization, masking and audit on: the first
``initialCount`` members in the primary part, the others as ``items`` entries (parsed by a MIME
parser), one audit record for the whole response, validation and ``initialCount`` refusals, and
Accept negotiation as @defer's. Byte equality with Hive Gateway: test_corpus.py (stream-*)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.defer.multipart import parts_of
from tests.subscriptions.conftest import WAIT_S, GatewayFactory, World, auth_headers

pytestmark = pytest.mark.anyio

ANGGOTA = """
query Anggota($kk: String!, $n: Int) {
  keluarga(noKk: $kk) { noKk anggota @stream(initialCount: $n, label: "anggota") { nik nama } }
}
"""
#: the same without @stream: what the streamed parts must add up to
WHOLE = "query($kk: String!) { keluarga(noKk: $kk) { noKk anggota { nik nama } } }"
MULTIPART = "multipart/mixed;deferSpec=20220824, application/json"


async def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=WAIT_S) as http:
        return await http.post("/graphql", json=body, headers=headers)


async def test_a_streamed_list_sends_initial_count_items_first_then_one_entry_per_item(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    whole = await _post(
        running.url,
        {
            "query": WHOLE,
            "variables": {"kk": no_kk},
        },
        {**headers, "accept": "application/json"},
    )
    members = whole.json()["data"]["keluarga"]["anggota"]
    assert len(members) >= 2, members  # the world has families of several members
    response = await _post(
        running.url, {"query": ANGGOTA, "variables": {"kk": no_kk, "n": 1}}, headers
    )
    assert response.status_code == 200, response.text
    primary, later = parts_of(response)
    assert primary == {
        "data": {"keluarga": {"noKk": no_kk, "anggota": members[:1]}},
        "hasNext": True,
    }
    assert later == {
        "incremental": [
            {"items": [member], "path": ["keluarga", "anggota", i], "label": "anggota"}
            for i, member in enumerate(members[1:], start=1)
        ],
        "hasNext": False,
    }
    # released once, whole, before the first part: one record naming every streamed field
    records = [e for e in running.audit_events() if e.get("operation_name") == "Anggota"]
    assert len(records) == 1
    assert {"Keluarga.anggota", "Penduduk.nama"} <= set(records[0]["fields"])


async def test_a_refused_streamed_list_is_masked_as_without_stream(
    world: World, gateway: GatewayFactory
) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    # anonymous: anggota needs data_pribadi; refused, nothing to stream: one plain part
    response = await _post(
        running.url,
        {"query": ANGGOTA, "variables": {"kk": no_kk, "n": 0}},
        {"accept": "multipart/mixed"},
    )
    (only,) = parts_of(response)
    plain = await _post(
        running.url, {"query": WHOLE, "variables": {"kk": no_kk}}, {"accept": "application/json"}
    )
    assert only == plain.json()  # the same refusal, the same masked data, no stream
    assert only["data"] == {"keluarga": None}
    assert only["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"


async def test_stream_is_validated_as_the_spec_says(world: World, gateway: GatewayFactory) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    headers = {**auth_headers("sibansos", "penyaluran_bansos"), "accept": MULTIPART}
    refused = {
        # not a list field
        'query { keluarga(noKk: "1") { noKk @stream } }': "GRAPHQL_VALIDATION_FAILED",
        # labels unique across @defer and @stream
        'query { keluarga(noKk: "1") { anggota @stream(label: "a") { nik } '
        '... @defer(label: "a") { noKk } } }': "GRAPHQL_VALIDATION_FAILED",
        # a non-static label
        'query($l: String) { keluarga(noKk: "1") { anggota @stream(label: $l) { nik } } }': (
            "GRAPHQL_VALIDATION_FAILED"
        ),
    }
    for query, code in refused.items():
        response = await _post(running.url, {"query": query}, headers)
        assert response.status_code == 400, (query, response.text)
        (part,) = parts_of(response)
        assert part["errors"][0]["extensions"]["code"] == code, (query, part)
    response = await _post(
        running.url, {"query": ANGGOTA, "variables": {"kk": no_kk, "n": -1}}, headers
    )
    (part,) = parts_of(response)
    (error,) = part["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "initialCount" in error["message"]
    assert "data" not in part


async def test_stream_negotiation_is_defers(world: World, gateway: GatewayFactory) -> None:
    running = gateway()
    no_kk, _, _, _ = world.family()
    base = auth_headers("sibansos", "penyaluran_bansos")
    body = {"query": ANGGOTA, "variables": {"kk": no_kk, "n": 0}}
    response = await _post(running.url, body, {**base, "accept": "application/json"})
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == (
        "INCREMENTAL_DELIVERY_NOT_ACCEPTED"
    )
    # if: false, or a list no longer than initialCount: one plain part, the list whole
    for query in (
        ANGGOTA.replace('label: "anggota"', 'label: "anggota", if: false'),
        ANGGOTA,
    ):
        variables = {"kk": no_kk, "n": 0 if "if: false" in query else 1000}
        response = await _post(
            running.url, {"query": query, "variables": variables}, {**base, "accept": MULTIPART}
        )
        (only,) = parts_of(response)
        assert "hasNext" not in only and len(only["data"]["keluarga"]["anggota"]) >= 2
