"""Subgraph `sosial` over HTTP: programmes, assistance per family, recipients per region."""

from __future__ import annotations

import sqlite3

from .conftest import RunningSubgraph


def test_program_bansos_lists_the_four_programmes(subgraphs: dict[str, RunningSubgraph]) -> None:
    data = subgraphs["sosial"].data("{ programBansos { kode nama } }")
    assert data["programBansos"] == [
        {"kode": "BLT", "nama": "Bantuan Langsung Tunai Dana Desa"},
        {"kode": "BPNT", "nama": "Bantuan Pangan Non Tunai (Sembako)"},
        {"kode": "PBI_JK", "nama": "Penerima Bantuan Iuran Jaminan Kesehatan"},
        {"kode": "PKH", "nama": "Program Keluarga Harapan"},
    ]


def test_entities_extend_keluarga_with_assistance_and_decile(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    conn = db["sosial"]
    helped = conn.execute(
        "SELECT no_kk FROM penerima GROUP BY no_kk ORDER BY COUNT(*) DESC, no_kk LIMIT 1"
    ).fetchone()[0]
    unhelped = conn.execute(
        "SELECT no_kk FROM keluarga WHERE no_kk NOT IN (SELECT no_kk FROM penerima) LIMIT 1"
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT program, tahun, nominal, aktif FROM penerima WHERE no_kk = ? "
        "ORDER BY tahun, program",
        [helped],
    ).fetchall()
    desil = dict(conn.execute("SELECT no_kk, desil FROM keluarga").fetchall())
    result = subgraphs["sosial"].entities(
        "... on Keluarga { noKk desilKesejahteraan penerimaBansos { tahun nominal aktif "
        "program { kode } } }",
        [
            {"__typename": "Keluarga", "noKk": helped},
            {"__typename": "Keluarga", "noKk": unhelped},
            {"__typename": "Keluarga", "noKk": "1871010101019999"},
        ],
    )
    assert result == [
        {
            "noKk": helped,
            "desilKesejahteraan": desil[helped],
            "penerimaBansos": [
                {"tahun": t, "nominal": n, "aktif": bool(a), "program": {"kode": p}}
                for p, t, n, a in rows
            ],
        },
        {"noKk": unhelped, "desilKesejahteraan": desil[unhelped], "penerimaBansos": []},
        {"noKk": "1871010101019999", "desilKesejahteraan": None, "penerimaBansos": []},
    ]
    assert len(rows) >= 2


def test_jumlah_keluarga_penerima_counts_families_with_active_assistance(
    subgraphs: dict[str, RunningSubgraph], db: dict[str, sqlite3.Connection]
) -> None:
    rows = (
        db["sosial"]
        .execute(
            "SELECT k.no_kk, k.desa_kode, p.program FROM penerima p JOIN keluarga k USING (no_kk) "
            "WHERE p.aktif = 1"
        )
        .fetchall()
    )
    any_1808 = {kk for kk, desa, _ in rows if desa.startswith("18.08.")}
    pkh_1808 = {kk for kk, desa, prog in rows if desa.startswith("18.08.") and prog == "PKH"}
    result = subgraphs["sosial"].entities(
        "... on Wilayah { kode jumlahKeluargaPenerima pkh: jumlahKeluargaPenerima(program: PKH) }",
        [{"__typename": "Wilayah", "kode": "18.08"}, {"__typename": "Wilayah", "kode": "18"}],
    )
    assert result == [
        {"kode": "18.08", "jumlahKeluargaPenerima": len(any_1808), "pkh": len(pkh_1808)},
        {
            "kode": "18",
            "jumlahKeluargaPenerima": len({kk for kk, _, _ in rows}),
            "pkh": len({kk for kk, _, prog in rows if prog == "PKH"}),
        },
    ]
