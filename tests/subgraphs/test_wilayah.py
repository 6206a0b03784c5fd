"""Subgraph `wilayah` over HTTP: real regions, parents/children, pages, entity resolution."""

from __future__ import annotations

import csv

from subgraphs.kit.reference import DATA_DIR

from .conftest import RunningSubgraph

with (DATA_DIR / "wilayah-lampung.csv").open(encoding="utf-8") as _f:
    CSV = {row["kode"]: row for row in csv.DictReader(_f)}


def _children(kode: str) -> list[str]:
    depth = kode.count(".") + 1
    return sorted(k for k in CSV if k.startswith(kode + ".") and k.count(".") == depth)


def test_wilayah_by_kode_answers_parent_children_and_area(
    subgraphs: dict[str, RunningSubgraph],
) -> None:
    data = subgraphs["wilayah"].data(
        '{ wilayah(kode: "18.71") { kode nama tingkat luas parent { kode nama } '
        "children { kode nama } } }"
    )
    assert data == {
        "wilayah": {
            "kode": "18.71",
            "nama": "Kota Bandar Lampung",
            "tingkat": "KABUPATEN_KOTA",
            "luas": 183.719,
            "parent": {"kode": "18", "nama": "Lampung"},
            "children": [{"kode": k, "nama": CSV[k]["nama"]} for k in _children("18.71")],
        }
    }


def test_desa_has_no_children_and_no_published_area(subgraphs: dict[str, RunningSubgraph]) -> None:
    desa = next(k for k, row in CSV.items() if row["tingkat"] == "desa_kelurahan")
    data = subgraphs["wilayah"].data(
        "query($k: String!) { wilayah(kode: $k) { nama tingkat luas children { kode } "
        "parent { kode } } }",
        {"k": desa},
    )
    assert data["wilayah"] == {
        "nama": CSV[desa]["nama"],
        "tingkat": "DESA_KELURAHAN",
        "luas": None,
        "children": [],
        "parent": {"kode": desa[:8]},
    }


def test_unknown_but_well_formed_code_is_null(subgraphs: dict[str, RunningSubgraph]) -> None:
    assert subgraphs["wilayah"].post('{ wilayah(kode: "18.99") { nama } }') == {
        "data": {"wilayah": None}
    }


def test_provinsi_and_kabupaten_kota(subgraphs: dict[str, RunningSubgraph]) -> None:
    data = subgraphs["wilayah"].data(
        "{ provinsi { kode nama luas } kabupatenKota { kode nama luas } }"
    )
    assert data["provinsi"] == {"kode": "18", "nama": "Lampung", "luas": 33570.758}
    assert [k["kode"] for k in data["kabupatenKota"]] == _children("18")
    assert len(data["kabupatenKota"]) == 15
    assert data["kabupatenKota"][-1] == {"kode": "18.72", "nama": "Kota Metro", "luas": 73.214}


def test_wilayah_list_pages_through_every_kecamatan(subgraphs: dict[str, RunningSubgraph]) -> None:
    query = (
        "query($after: String) { wilayahList(tingkat: KECAMATAN, first: 100, after: $after) "
        "{ totalCount nodes { kode } pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = subgraphs["wilayah"].data(query, {"after": after})["wilayahList"]
        pages += 1
        assert page["totalCount"] == 229
        seen += [n["kode"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == sorted(k for k, row in CSV.items() if row["tingkat"] == "kecamatan")


def test_wilayah_list_filters_by_parent(subgraphs: dict[str, RunningSubgraph]) -> None:
    page = subgraphs["wilayah"].data(
        '{ wilayahList(parentKode: "18.72.01", first: 100) { totalCount nodes { kode } } }'
    )["wilayahList"]
    assert [n["kode"] for n in page["nodes"]] == _children("18.72.01")
    assert page["totalCount"] == len(_children("18.72.01"))


def test_entities_resolve_wilayah_in_order_with_null_for_unknown(
    subgraphs: dict[str, RunningSubgraph],
) -> None:
    reps = [{"__typename": "Wilayah", "kode": k} for k in ("18.72", "18", "18.99", "18.71.01")]
    assert subgraphs["wilayah"].entities("... on Wilayah { kode nama tingkat }", reps) == [
        {"kode": "18.72", "nama": "Kota Metro", "tingkat": "KABUPATEN_KOTA"},
        {"kode": "18", "nama": "Lampung", "tingkat": "PROVINSI"},
        None,
        {"kode": "18.71.01", "nama": CSV["18.71.01"]["nama"], "tingkat": "KECAMATAN"},
    ]
