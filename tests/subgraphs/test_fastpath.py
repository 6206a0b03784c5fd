"""The direct executor answers exactly as Strawberry does, or hands the request to Strawberry."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs import SUBGRAPHS, load_subgraph
from subgraphs.kit.app import FAST_PATH_ENV, Context, build_app, fast_path_enabled
from subgraphs.kit.fastpath import FastPath
from subgraphs.kit.store import Store


@pytest.fixture(scope="module")
def stores(world_dir: Path) -> Iterator[dict[str, Store]]:
    opened = {name: Store(world_dir / f"{name}.sqlite3") for name in SUBGRAPHS}
    yield opened
    for store in opened.values():
        store.close()


def strawberry_answer(name: str, store: Store, payload: dict[str, Any]) -> dict[str, Any]:
    schema = load_subgraph(name).schema
    payload = json.loads(json.dumps(payload))  # Strawberry consumes the representations
    result = asyncio.run(
        schema.execute(
            payload["query"],
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
            context_value=Context(store),
        )
    )
    assert not result.errors, result.errors
    return {"data": result.data}


def fast_answer(name: str, store: Store, payload: dict[str, Any]) -> dict[str, Any] | None:
    fast = FastPath(load_subgraph(name).schema)
    return asyncio.run(fast.answer(json.loads(json.dumps(payload)), Context(store)))


def residents(store: Store, n: int) -> list[str]:
    return [r["nik"] for r in store.query("SELECT nik FROM penduduk ORDER BY nik LIMIT ?", [n])]


def families(store: Store, n: int) -> list[str]:
    return [
        r["no_kk"] for r in store.query("SELECT no_kk FROM keluarga ORDER BY no_kk LIMIT ?", [n])
    ]


ENTITIES = "query E($r: [_Any!]!) { _entities(representations: $r) { __typename SELECTION } }"


def entities(selection: str, representations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "query": ENTITIES.replace("SELECTION", selection),
        "variables": {"r": representations},
        "operationName": "E",
    }


def same_answer_cases(stores: dict[str, Store]) -> list[tuple[str, dict[str, Any]]]:
    niks = residents(stores["kependudukan"], 60)
    kks = families(stores["kependudukan"], 30)
    people = [{"__typename": "Penduduk", "nik": n} for n in niks]
    people.append({"__typename": "Penduduk", "nik": "1871010101010999"})  # valid, not found
    fams = [{"__typename": "Keluarga", "noKk": k} for k in kks]
    regions = [{"__typename": "Wilayah", "kode": k} for k in ("18", "18.71", "18.71.01")]
    return [
        (
            "kependudukan",
            entities(
                "... on Penduduk { nik n: nama jenisKelamin tanggalLahir agama statusPerkawinan "
                "hubunganKeluarga wilayah { kode nama } keluarga { noKk tanggalTerbit "
                "kepalaKeluarga { nik } anggota { nik nama } } }",
                people,
            ),
        ),
        (
            "kependudukan",
            entities("... on Keluarga { noKk alamat anggota { nik } }", fams),
        ),
        (
            "kependudukan",
            entities("... on Wilayah { kode nama jumlahPenduduk jumlahKeluarga }", regions),
        ),
        (
            "kependudukan",
            {
                "query": "query P($w: String!, $first: Int!) { daftarPenduduk(wilayahKode: $w, "
                "first: $first) { totalCount nodes { nik keluarga { __typename noKk anggota "
                "{ __typename nik nama } } } pageInfo { hasNextPage endCursor } } }",
                "variables": {"w": "18.71", "first": 25},
            },
        ),
        (
            "kesehatan",
            entities(
                "... on Penduduk { kepesertaanJkn { segmen aktif "
                "faskesTingkatPertama { kode nama jenis wilayah { kode } } } "
                "riwayatImunisasi { vaksin tanggal fasilitas { nama } } }",
                people,
            ),
        ),
        (
            "pendidikan",
            entities("... on Penduduk { pendidikan { kelas sekolah { nama } } }", people),
        ),
        (
            "sosial",
            entities(
                "... on Keluarga { penerimaBansos { program { nama } aktif } desilKesejahteraan }",
                fams,
            ),
        ),
        ("wilayah", {"query": "{ kabupatenKota { kode nama tingkat luas parent { kode } } }"}),
        ("sosial", {"query": "{ __typename programBansos { __typename nama } }"}),
    ]


def test_the_direct_executor_answers_as_strawberry_does(stores: dict[str, Store]) -> None:
    for name, payload in same_answer_cases(stores):
        fast = fast_answer(name, stores[name], payload)
        assert fast is not None, (name, payload["query"])
        # byte-equal JSON: same values, same key order
        want = strawberry_answer(name, stores[name], payload)
        assert json.dumps(fast) == json.dumps(want), (name, payload["query"])


def test_a_level_is_one_batch(stores: dict[str, Store]) -> None:
    store = stores["kependudukan"]
    people = [{"__typename": "Penduduk", "nik": n} for n in residents(store, 40)]
    before = store.query_count
    answer = fast_answer("kependudukan", store, entities("... on Penduduk { nama }", people))
    assert answer is not None and len(answer["data"]["_entities"]) == 40
    assert store.query_count - before == 1


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        # an invalid NIK in a representation: Strawberry reports it
        ("kependudukan", entities("... on Penduduk { nama }", [{"__typename": "Penduduk", "nik": "1"}])),  # noqa: E501
        # representations Strawberry's entities resolver fails on (the fast path's own
        # `_entities` must hand them over): unknown type, no __typename, a sync
        # resolve_reference raising
        ("kependudukan", entities("... on Penduduk { nama }", [{"__typename": "Nope", "nik": "1"}])),  # noqa: E501
        ("kependudukan", entities("... on Penduduk { nama }", [{"nik": "1871010101010999"}])),
        ("pendidikan", entities("... on Penduduk { pendidikan { kelas } }", [{"__typename": "Penduduk", "nik": "1"}])),  # noqa: E501
        ("kependudukan", {"query": '{ penduduk(nik: "12345") { nik } }'}),
        ("kependudukan", {"query": "{ nope }"}),  # validation error
        ("kependudukan", {"query": "{ penduduk { nik } }"}),  # missing argument
        ("kependudukan", {"query": "query($n: String!) { penduduk(nik: $n) { nik } }"}),
        ("wilayah", {"query": "{ provinsi @include(if: true) { kode } }"}),
        ("wilayah", {"query": "{ provinsi { ...F } } fragment F on Wilayah { kode }"}),
        ("wilayah", {"query": "{ __schema { queryType { name } } }"}),
        ("wilayah", {"query": "query A { provinsi { kode } } query B { provinsi { nama } }"}),
        ("wilayah", {"query": "query A { provinsi { kode } }", "operationName": "B"}),
        ("wilayah", {"query": "{ provinsi { kode } }", "extensions": {"persistedQuery": {}}}),
        ("wilayah", {"query": "{ provinsi { kode } }", "variables": [1]}),
        ("wilayah", {"query": "{ provinsi { kode "}),  # syntax error
    ],
)  # fmt: skip
def test_anything_else_goes_to_strawberry(
    stores: dict[str, Store], name: str, payload: dict[str, Any]
) -> None:
    assert fast_answer(name, stores[name], payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"query": '{ penduduk(nik: "12345") { nik } }'},
        {"query": "{ nope }"},
        {"query": "{ __typename }"},
        {"query": "query($n: String!) { penduduk(nik: $n) { nik } }", "variables": {"n": 5}},
        entities("... on Penduduk { nama }", [{"__typename": "Nope", "nik": "1"}]),
        entities("... on Penduduk { nama }", [{"nik": "1871010101010999"}]),
    ],
)
def test_over_http_answers_and_errors_do_not_depend_on_the_fast_path(
    world_dir: Path, payload: dict[str, Any]
) -> None:
    store = Store(world_dir / "kependudukan.sqlite3")
    subgraph = load_subgraph("kependudukan")
    bodies = []
    try:
        for fast in (True, False):
            app = build_app(subgraph, store, signing_keys=[], fast_path=fast)
            bodies.append(asyncio.run(_post(app, payload)))
    finally:
        store.close()
    assert bodies[0] == bodies[1]


async def _post(app: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sg") as client:
        response = await client.post("/graphql", json=payload)
        return response.status_code, response.json()


def test_the_setting_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FAST_PATH_ENV, raising=False)
    assert fast_path_enabled()
    for off in ("0", "false", "off", " NO "):
        monkeypatch.setenv(FAST_PATH_ENV, off)
        assert not fast_path_enabled()
    monkeypatch.setenv(FAST_PATH_ENV, "1")
    assert fast_path_enabled()


def test_lean_resolvers_replace_only_argument_free_fields(stores: dict[str, Store]) -> None:
    from subgraphs import kependudukan, kesehatan
    from subgraphs.kit.app import FEDERATION_VERSION, OpdSchema
    from subgraphs.kit.lean import lean_resolver

    penduduk = kependudukan.schema._schema.type_map["Penduduk"]
    wilayah = kesehatan.schema._schema.type_map["Wilayah"]
    assert penduduk.fields["nama"].resolve.__module__ == "subgraphs.kit.lean"  # type: ignore[attr-defined]
    assert wilayah.fields["fasilitasKesehatan"].resolve.__module__ != "subgraphs.kit.lean"  # type: ignore[attr-defined]
    definition = kesehatan.schema.get_type_by_name("Wilayah")
    with_args = next(f for f in definition.fields if f.python_name == "fasilitas_kesehatan")  # type: ignore[union-attr]
    assert lean_resolver(with_args) is None

    # the same answer without them (Strawberry's own wrappers)
    plain = OpdSchema(
        query=kependudukan.Query,
        types=[kependudukan.Penduduk, kependudukan.Keluarga, kependudukan.Wilayah],
        federation_version=FEDERATION_VERSION,
    )
    people = [{"__typename": "Penduduk", "nik": n} for n in residents(stores["kependudukan"], 20)]
    payload = entities(
        "... on Penduduk { nama jenisKelamin tanggalLahir keluarga { anggota { nik } } }", people
    )
    want = asyncio.run(
        plain.execute(
            payload["query"],
            variable_values=json.loads(json.dumps(payload["variables"])),
            context_value=Context(stores["kependudukan"]),
        )
    )
    assert not want.errors
    assert strawberry_answer("kependudukan", stores["kependudukan"], payload) == {"data": want.data}


def test_awaiting_side_by_side_keeps_results_in_place_and_batches() -> None:
    from aiodataloader import DataLoader

    from subgraphs.kit.fastpath import _together

    batches: list[list[int]] = []

    async def batch(keys: list[int]) -> list[int]:
        batches.append(list(keys))
        return [k * 10 for k in keys]

    async def main() -> list[Any]:
        loader: DataLoader[int, int] = DataLoader(batch)

        async def twice(k: int) -> int:
            first = await loader.load(k)
            await asyncio.sleep(0)
            return first + await loader.load(k + 100)

        async def fails() -> int:
            raise ValueError("no")

        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        done.set_result("future")
        return await _together([twice(1), fails(), done, twice(2)])

    results = asyncio.run(main())
    assert results[0] == 10 + 1010 and results[2] == "future" and results[3] == 20 + 1020
    assert isinstance(results[1], ValueError)
    assert batches == [[1, 2], [101, 102]]
