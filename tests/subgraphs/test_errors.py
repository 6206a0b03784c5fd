"""Malformed identifiers and arguments get a clear GraphQL error with a stable code, no trace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry

from subgraphs.kit.app import Subgraph, build_app, federation_schema
from subgraphs.kit.store import Store

from .conftest import RunningSubgraph

CASES = [
    ("wilayah", '{ x: wilayah(kode: "18.7") { nama } }', "INVALID_REGION_CODE", "Kemendagri"),
    (
        "wilayah",
        '{ x: wilayahList(parentKode: "1871") { totalCount } }',
        "INVALID_REGION_CODE",
        "18.71",
    ),
    ("kependudukan", '{ x: penduduk(nik: "12345") { nik } }', "INVALID_NIK", "16 digits"),
    (
        "kependudukan",
        '{ x: penduduk(nik: "1871013299900001") { nik } }',
        "INVALID_NIK",
        "birth date",
    ),
    ("kependudukan", '{ x: keluarga(noKk: "18710101") { noKk } }', "INVALID_NO_KK", "16 digits"),
    (
        "kependudukan",
        '{ x: daftarPenduduk(wilayahKode: "x") { totalCount } }',
        "INVALID_REGION_CODE",
        "Lampung",
    ),
    (
        "kesehatan",
        '{ x: fasilitasKesehatan(kode: "18710101") { nama } }',
        "INVALID_FASKES_CODE",
        "puskesmas",
    ),
    ("pendidikan", '{ x: sekolah(npsn: "123") { nama } }', "INVALID_NPSN", "8 digits"),
    (
        "pendidikan",
        "{ x: daftarSekolah(first: 500) { totalCount } }",
        "INVALID_PAGE_SIZE",
        "between 0 and 100",
    ),
    (
        "pendidikan",
        '{ x: daftarSekolah(after: "bm90LWEtY3Vyc29y") { totalCount } }',
        "INVALID_CURSOR",
        "endCursor",
    ),
    (
        "kesehatan",
        "{ x: daftarFasilitasKesehatan(first: -1) { totalCount } }",
        "INVALID_PAGE_SIZE",
        "first",
    ),
]


@pytest.mark.parametrize(("name", "query", "reason", "hint"), CASES)
def test_malformed_argument_is_a_bad_user_input_error(
    subgraphs: dict[str, RunningSubgraph], name: str, query: str, reason: str, hint: str
) -> None:
    body = subgraphs[name].post(query)
    assert body["data"] == {"x": None}
    [error] = body["errors"]
    assert error["path"] == ["x"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}
    assert hint in error["message"]
    assert "Traceback" not in str(body)


@pytest.mark.parametrize(
    ("name", "rep", "reason"),
    [
        ("kependudukan", {"__typename": "Penduduk", "nik": "18710101019"}, "INVALID_NIK"),
        ("kependudukan", {"__typename": "Keluarga", "noKk": "x"}, "INVALID_NO_KK"),
        ("kesehatan", {"__typename": "Penduduk", "nik": "9971010101010001"}, "INVALID_NIK"),
        ("kesehatan", {"__typename": "Wilayah", "kode": "18-71"}, "INVALID_REGION_CODE"),
        ("pendidikan", {"__typename": "Sekolah", "npsn": "1234567"}, "INVALID_NPSN"),
        ("sosial", {"__typename": "Keluarga", "noKk": "18710101"}, "INVALID_NO_KK"),
        ("wilayah", {"__typename": "Wilayah", "kode": "1871"}, "INVALID_REGION_CODE"),
    ],
)
def test_malformed_entity_key_fails_only_that_entity(
    subgraphs: dict[str, RunningSubgraph], name: str, rep: dict[str, str], reason: str
) -> None:
    valid = {"__typename": "Wilayah", "kode": "18.72"}
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
        "... on Wilayah { kode } } }"
    )
    body = subgraphs[name].post(query, {"r": [valid, rep, valid]})
    assert body["data"]["_entities"] == [
        {"__typename": "Wilayah", "kode": "18.72"},
        None,
        {"__typename": "Wilayah", "kode": "18.72"},
    ]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 1]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": reason}


def test_unexpected_error_is_masked_without_details(world_dir: Path) -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def boom(self) -> int | None:
            raise RuntimeError("secret table name penduduk_internal")

    store = Store(world_dir / "wilayah.sqlite3")
    app = build_app(Subgraph("boom", federation_schema(Query), 0), store)

    async def call() -> Any:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return (await client.post("/graphql", json={"query": "{ boom }"})).json()

    body = asyncio.run(call())
    store.close()
    assert body["data"] == {"boom": None}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["boom"]
    assert "secret" not in str(body) and "Traceback" not in str(body)


def test_graphql_validation_errors_keep_their_message(
    subgraphs: dict[str, RunningSubgraph],
) -> None:
    body = subgraphs["wilayah"].post("{ wilayah(kode: 18) { nama } }")
    assert body["data"] is None
    assert "String cannot represent a non string value" in body["errors"][0]["message"]
