"""`jamajama plan`: prints a plan, or says clearly why it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).parents[2]
BENCH = str(ROOT / "bench" / "supergraph.graphql")
OPD = str(ROOT / "schema" / "supergraph.graphql")


def test_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--supergraph", BENCH, "{ topProducts { name inStock } }"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('QueryPlan {\n  Sequence {\n    Fetch(service: "products")')
    assert 'Flatten(path: "topProducts.@")' in out and 'Fetch(service: "inventory")' in out


def test_reads_the_operation_from_a_file_and_plans_the_opd_supergraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operation = tmp_path / "dashboard.graphql"
    operation.write_text("query Dashboard { kabupatenKota { nama jumlahPenduduk cakupanJkn } }")
    assert main(["plan", "--supergraph", OPD, f"@{operation}"]) == 0
    out = capsys.readouterr().out
    assert 'Fetch(service: "wilayah")' in out and 'Fetch(service: "kesehatan")' in out
    assert "query Dashboard__wilayah__0" in out


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ topProducts { nope } }", "invalid operation: Cannot query field 'nope'"),
        ("{ topProducts { ", "does not parse"),
    ],
)
def test_invalid_operation_exits_1_with_the_reason(
    query: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--supergraph", BENCH, query]) == 1
    assert message in capsys.readouterr().err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--supergraph", "/nonexistent.graphql", "{ a }"]) == 2
    assert "cannot read /nonexistent.graphql" in capsys.readouterr().err
