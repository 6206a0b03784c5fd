"""Every documented mapping example as a row: input JSON, selection, expected output.

Rows 1-25 are the starter table of the spec digest (/work/shared/docs/connectors.md §14, our
reading of the reference, not recorded output); the M-rows are the example of each method in the
digest's method table (§7), with inputs of our own. ``problems`` says whether a mapping problem
must be recorded (None: not checked).
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.connectors.mapping import MISSING, SelectionSyntaxError, apply, parse_selection

V2 = (0, 2)
V3 = (0, 3)

#: (id, input, selection, expected output (MISSING = no value), a problem recorded?, vars, version)
ROWS: list[tuple[str, Any, str, Any, bool | None, dict[str, Any], tuple[int, int]]] = [
    ("1", {"nik": "3201", "nama_lengkap": "Siti"}, "nik nama: nama_lengkap",
     {"nik": "3201", "nama": "Siti"}, False, {}, V2),
    ("2", {"lahan": {"luas_ha": 2}}, "luas: lahan.luas_ha", {"luas": 2}, False, {}, V2),
    ("3", {"data": [{"nik": "1", "x": 0}, {"nik": "2"}]}, "$.data { nik }",
     [{"nik": "1"}, {"nik": "2"}], False, {}, V2),
    ("4", [{"nopol": "B 1"}, {"nopol": "D 2"}], "nopol",
     [{"nopol": "B 1"}, {"nopol": "D 2"}], False, {}, V2),
    ("5", {"kel": [{"ketua": {"nama": "A"}}, {"ketua": {"nama": "B"}}]},
     "ketua: kel.ketua.nama", {"ketua": ["A", "B"]}, False, {}, V2),
    ("6", {"pemilik": {"nama": "Budi", "kota": "Bogor"}}, "pemilik { nama }",
     {"pemilik": {"nama": "Budi"}}, False, {}, V2),
    ("7", {"id": 7, "detail": {"merek": "Honda", "cc": 125}}, "id $.detail { merek }",
     {"id": 7, "merek": "Honda"}, False, {}, V2),
    ("8", {"nopol": "B 9", "merek": "Yamaha", "tipe": "NMAX"}, "nopol model: { merek tipe }",
     {"nopol": "B 9", "model": {"merek": "Yamaha", "tipe": "NMAX"}}, False, {}, V2),
    ("9", {"desa": ["3201010", "3201011"]}, "desa: desa { kode: $ }",
     {"desa": [{"kode": "3201010"}, {"kode": "3201011"}]}, False, {}, V2),
    ("10", {"nama": "Siti"}, "nik: $args.nik nama", {"nik": "3201", "nama": "Siti"}, False,
     {"$args": {"nik": "3201"}}, V2),
    ("11", {}, 'jenis: $("RODA_DUA") aktif: $(true)', {"jenis": "RODA_DUA", "aktif": True},
     False, {}, V2),
    ("12", {"nopol": "B 1"}, "nopol warna", {"nopol": "B 1"}, True, {}, V2),
    ("13", {"pemilik": None}, "pemilik { nama }", {"pemilik": None}, True, {}, V2),
    ("15", {"telp": []}, "t: telp->first", {}, False, {}, V2),
    ("16", {"nik": "3201234567890001"}, "prov: nik->slice(0, 2)", {"prov": "32"}, False, {}, V2),
    ("17", {"stok": {"padi": 10, "jagung": 4}}, "stok: stok->entries { k: key v: value }",
     {"stok": [{"k": "padi", "v": 10}, {"k": "jagung", "v": 4}]}, False, {}, V2),
    ("18", {"status": "B"},
     'status: status->match(["L","LUNAS"],["B","BELUM_BAYAR"],[@,"LAIN"])',
     {"status": "BELUM_BAYAR"}, False, {}, V2),
    ("19", {"status": "X"}, 'status: status->match(["L","LUNAS"])', {}, True, {}, V2),
    ("20", {"are": [2, 5]}, "m2: are->map(@->mul(100))", {"m2": [200, 500]}, False, {}, V2),
    ("21", {"kode": ["A", None, "C"]}, 'csv: kode->joinNotNull(",")', {"csv": "A,C"}, False,
     {}, V2),
    ("22", {"kend": [{"tahun": 2019}, {"tahun": 2021}]}, "pertama: kend.tahun->first",
     {"pertama": 2019}, False, {}, V2),
    ("23", {"alamat": None}, 'a: $(alamat ?? "-") b: $(alamat ?! "-")', {"a": "-", "b": None},
     False, {}, V3),
    ("24", {"pemilik": None}, "nama: pemilik?.nama", {}, False, {}, V3),
    ("25", {"p": [{"n": "A", "aktif": True}, {"n": "B", "aktif": False}]},
     "aktif: p->filter(@.aktif->eq(true)) { n }", {"aktif": [{"n": "A"}]}, False, {}, V3),
    # ---- §7: one row per documented method example (inputs our own)
    ("M-echo", {"nopol": "B 1"}, "ref: nopol->echo({ id: @ })", {"ref": {"id": "B 1"}}, False,
     {}, V2),
    ("M-map", {"luas": [1, 2.5]}, "m2: luas->map(@->mul(10000))", {"m2": [10000, 25000.0]},
     False, {}, V2),
    ("M-map-scalar", {"luas": 3}, "m: luas->map(@)", {"m": [3]}, False, {}, V2),
    ("M-match-catchall", {"status": "Z"}, 'status: status->match(["L","LUNAS"],[@,"LAIN"])',
     {"status": "LAIN"}, False, {}, V2),
    ("M-match-skips-non-pairs", {"s": "Q"}, 's: s->match(["default"], [@, "D"])', {"s": "D"},
     False, {}, V2),
    ("M-first", {"telepon": ["0812", "0813"]}, "telp: telepon->first", {"telp": "0812"}, False,
     {}, V2),
    ("M-last", {"telepon": ["0812", "0813"]}, "telp: telepon->last", {"telp": "0813"}, False,
     {}, V2),
    ("M-first-string", {"kode": "ABC"}, "k: kode->first", {"k": "A"}, False, {}, V2),
    ("M-first-other", {"n": 5}, "n: n->first", {"n": 5}, True, {}, V2),
    ("M-slice-clamped", {"a": [1, 2, 3]}, "s: a->slice(-5, 9)", {"s": [1, 2, 3]}, False, {}, V2),
    ("M-slice-default-end", {"nik": "1871"}, "s: nik->slice(2)", {"s": "71"}, False, {}, V2),
    ("M-slice-empty", {"a": [1, 2]}, "s: a->slice(1, 1)", {"s": []}, False, {}, V2),
    ("M-size", {"anggota": [1, 2, 3]}, "n: anggota->size", {"n": 3}, False, {}, V2),
    ("M-size-object", {"o": {"a": 1, "b": 2}}, "n: o->size", {"n": 2}, False, {}, V2),
    ("M-size-string", {"s": "abcd"}, "n: s->size", {"n": 4}, False, {}, V2),
    ("M-size-bad", {"s": 4}, "n: s->size", {}, True, {}, V2),
    ("M-entries", {"o": {"a": 1}}, "e: o->entries", {"e": [{"key": "a", "value": 1}]}, False,
     {}, V2),
    ("M-jsonStringify", {"filter": {"a": [1, "x"], "b": None}}, "q: filter->jsonStringify",
     {"q": '{"a":[1,"x"],"b":null}'}, False, {}, V2),
    ("M-joinNotNull-batch", {}, "$batch.nopol->joinNotNull(',')", "B1,D2", False,
     {"$batch": [{"nopol": "B1"}, {"nopol": "D2"}]}, V2),
    ("M-joinNotNull-scalar", {"n": 7}, "j: n->joinNotNull(',')", {"j": "7"}, False, {}, V2),
    ("M-joinNotNull-nested", {"a": [[1]]}, "j: a->joinNotNull(',')", {}, True, {}, V2),
    ("M-filter", {"petani": [{"aktif": True, "n": 1}, {"aktif": False, "n": 2}]},
     "p: petani->filter(@.aktif)", {"p": [{"aktif": True, "n": 1}]}, False, {}, V3),
    ("M-filter-non-boolean", {"a": [1, 2]}, "p: a->filter(@)", {}, True, {}, V3),
    ("M-find", {"petani": [{"nik": "1"}, {"nik": "2"}]},
     "p: petani->find(@.nik->eq($args.nik))", {"p": {"nik": "2"}}, False,
     {"$args": {"nik": "2"}}, V3),
    ("M-get-negative", {"riwayat": [1, 2, 3]}, "r: riwayat->get(-1)", {"r": 3}, False, {}, V3),
    ("M-get-key", {"o": {"k": "v"}}, "r: o->get('k')", {"r": "v"}, False, {}, V3),
    ("M-get-out-of-range", {"a": [1]}, "r: a->get(3)", {}, True, {}, V3),
    ("M-eq-float", {"roda": 2}, "r: roda->eq(2.0)", {"r": True}, False, {}, V3),
    ("M-ne", {"roda": 2}, "r: roda->ne(4)", {"r": True}, False, {}, V3),
    ("M-gte", {"umur": 17}, "r: umur->gte(17)", {"r": True}, False, {}, V3),
    ("M-lt-strings", {"a": "abc"}, "r: a->lt('abd')", {"r": True}, False, {}, V3),
    ("M-gt-mixed", {"a": "1"}, "r: a->gt(0)", {}, True, {}, V3),
    ("M-in", {"kode": "18"}, 'r: kode->in(["18","32"])', {"r": True}, False, {}, V3),
    ("M-contains", {"a": [1, 2]}, "r: a->contains(2.0)", {"r": True}, False, {}, V3),
    ("M-and", {"aktif": True, "terverifikasi": False}, "r: aktif->and($.terverifikasi)",
     {"r": False}, False, {}, V3),
    ("M-or", {"x": False}, "r: x->or(true)", {"r": True}, False, {}, V3),
    ("M-not", {"x": False}, "r: x->not", {"r": True}, False, {}, V3),
    ("M-add", {"pokok": 100, "denda": 5}, "total: pokok->add($.denda)", {"total": 105}, False,
     {}, V3),
    ("M-div-float", {"a": 6}, "r: a->div(3)", {"r": 2.0}, False, {}, V3),
    ("M-mod-sign", {"a": -7}, "r: a->mod(3)", {"r": -1}, False, {}, V3),
    ("M-sub", {"a": 10}, "r: a->sub(3, 2)", {"r": 5}, False, {}, V3),
    ("M-toString", {"tahun": 2024}, "t: tahun->toString", {"t": "2024"}, False, {}, V3),
    ("M-toString-null", {"x": None}, "t: x->toString", {"t": ""}, False, {}, V3),
    ("M-parseInt", {}, 'n: $("ff")->parseInt(16)', {"n": 255}, False, {}, V3),
    ("M-parseInt-float", {"x": 3.9}, "n: x->parseInt", {"n": 3}, False, {}, V3),
    # ---- the examples in the text of §3-§5 and §9
    ("T-map-at", {"petani": [{"nama": "A"}, {"nama": "B"}]}, "n: petani->map(@.nama)",
     {"n": ["A", "B"]}, False, {}, V2),
    ("T-request-header", {}, "$request.headers.'x-nik'->first", "3201", False,
     {"$request": {"headers": {"x-nik": ["3201", "x"]}}}, V2),
    ("T-errors-extensions", {"kode_galat": "E12"}, "kode: $.kode_galat status: $status",
     {"kode": "E12", "status": 502}, False, {"$status": 502}, V2),
    ("T-body", {}, "nopol: $args.nopol pembayaran: { nominal: $args.nominal kanal: $('VA') }",
     {"nopol": "BE 1", "pembayaran": {"nominal": 5, "kanal": "VA"}}, False,
     {"$args": {"nopol": "BE 1", "nominal": 5}}, V2),
    ("T-entity-reference", {"nik_pemilik": "1801"}, "pemilik: { nik: nik_pemilik }",
     {"pemilik": {"nik": "1801"}}, False, {}, V2),
    ("T-query-params", {}, "nopol: $args.daftar jenis: $args.jenis",
     {"nopol": ["B1"], "jenis": None}, False, {"$args": {"daftar": ["B1"], "jenis": None}}, V2),
    # ---- §4-§6: variables and semantics
    ("S-missing-variable", {}, "x: $config.kunci", {}, True, {}, V2),
    ("S-config", {}, "k: $config.kunci", {"k": "rahasia"}, False,
     {"$config": {"kunci": "rahasia"}}, V2),
    ("S-status", {}, "s: $status", {"s": 404}, False, {"$status": 404}, V2),
    ("S-this", {}, "nik: $this.nik", {"nik": "1"}, False, {"$this": {"nik": "1"}}, V2),
    ("S-at-rebinds", {"petani": [{"nik": "1", "nama": "A", "x": 0}]},
     "p: petani->map(@ { nik nama })", {"p": [{"nik": "1", "nama": "A"}]}, False, {}, V2),
    ("S-quoted-key", {"x-nik": ["1", "2"]}, "n: $.'x-nik'->first", {"n": "1"}, False, {}, V2),
    ("S-comment", {"a": 1}, "# comment\na # trailing\n", {"a": 1}, False, {}, V2),
    ("S-merge-conflict", {"a": {"x": 1}, "b": {"x": "s"}}, "$.a { x } $.b { x }", {"x": "s"},
     True, {}, V2),
    ("S-top-level-path", {"data": {"n": 1}}, "$.data", {"n": 1}, False, {}, V2),
    ("S-top-level-args", {}, "$args.nik", "3201", False, {"$args": {"nik": "3201"}}, V2),
    ("S-array-missing-element", {"a": [{"x": 1}, {}]}, "x: a.x", {"x": [1, None]}, True, {}, V2),
    ("S-literal-object", {}, '$({ a: 1, b: [true, null], })', {"a": 1, "b": [True, None]},
     False, {}, V2),
    ("S-string-escape", {}, "s: $('it\\'s')", {"s": "it's"}, False, {}, V2),
    ("S-optional-stops", {"a": {"b": None}}, "x: $.a.b?.c", {}, False, {}, V3),
    ("S-optional-still-reports", {"a": {}}, "x: $.a?.b.c", {}, True, {}, V3),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "selection", "expected", "problem", "variables", "version"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_documented_example(
    data: Any,
    selection: str,
    expected: Any,
    problem: bool | None,
    variables: dict[str, Any],
    version: tuple[int, int],
) -> None:
    value, problems = apply(parse_selection(selection, version), data, variables)
    assert value == expected
    assert value is not MISSING
    if problem is not None:
        assert bool(problems) is problem, problems


#: (id, selection, version, a fragment of the message, column)
SYNTAX_ERRORS = [
    ("14-anonymous-path-in-list", "nopol pemilik.nama", V2, "must either begin with alias", 7),
    ("empty", "", V2, "must not be empty", 1),
    ("leading-dot", ".nama", V2, "may not start with '.key'", 1),
    ("unknown-method", "a: b->typeof", V2, "Method ->typeof not found", 7),
    ("not-public", "a: b->keys", V2, "Method ->keys not found", 7),
    ("optional-needs-v0.3", "a: b?.c", V2, "needs connect v0.3", 5),
    ("coalesce-needs-v0.3", "a: $(b ?? 1)", V2, "needs connect v0.3", 8),
    ("spread-needs-v0.4", "... $.a", V3, "needs connect v0.4", 1),
    ("mixed-coalesce", "a: $(b ?? 1 ?! 2)", V3, "may not be mixed", 13),
    ("unclosed", "a { b", V2, "expected '}'", 6),
    ("bad-char", "a: b + c", V2, "unexpected character '+'", 6),
    ("multi-line-position", "a\n  b.c", V2, "line 2, column 3", 3),
]


@pytest.mark.parametrize(
    ("selection", "version", "fragment", "column"),
    [pytest.param(*row[1:], id=row[0]) for row in SYNTAX_ERRORS],
)
def test_syntax_errors_are_coded_with_a_position(
    selection: str, version: tuple[int, int], fragment: str, column: int
) -> None:
    with pytest.raises(SelectionSyntaxError) as caught:
        parse_selection(selection, version)
    assert fragment in caught.value.message
    assert caught.value.code == "CONNECTOR_SELECTION_SYNTAX"
    assert caught.value.column == column


def test_missing_result_is_missing_not_null() -> None:
    value, problems = apply(parse_selection("$.absent"), {}, {})
    assert value is MISSING
    assert problems == ["Property .absent not found in object"]
