"""The pure parts of bench/scale.py and bench/opd.py: derived figures, supergraph rewriting."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    return _load("scale")


@pytest.fixture(scope="module")
def opd() -> ModuleType:
    return _load("opd")


def test_cpu_per_kb_is_core_time_per_request_over_answer_size(scale: ModuleType) -> None:
    result = scale.run.Result("ours", "Jama Jama", rps=50.0, cpu_pct=100.0)
    row = scale.ScaleRow(10, 880_000, 5, result)
    assert row.cpu_ms_per_request == pytest.approx(20.0)  # one core / 50 req/s
    assert row.cpu_ms_per_kb == pytest.approx(20.0 / 880)


def test_fewer_connections_at_larger_scales(scale: ModuleType) -> None:
    assert [scale.default_connections(n) for n in (1, 10, 100, 1000)] == [50, 5, 2, 2]


def test_opd_supergraph_routes_to_the_ports_in_use(opd: ModuleType) -> None:
    urls = {name: f"http://127.0.0.1:{5000 + i}/graphql" for i, name in enumerate(opd.OPDS)}
    text = opd.supergraph_for(urls, for_apollo=False)
    for name, url in urls.items():
        assert f'@join__graph(name: "{name}", url: "{url}")' in text
    assert "for: SECURITY" in text


def test_apollo_gets_the_security_links_without_for_security(opd: ModuleType) -> None:
    urls = {name: "http://127.0.0.1:1/graphql" for name in opd.OPDS}
    text = opd.supergraph_for(urls, for_apollo=True)
    assert "for: SECURITY" not in text
    assert '@link(url: "https://specs.apollo.dev/policy/v0.1")' in text


def test_case_request_pages_residents_of_a_region(opd: ModuleType) -> None:
    body = opd.request_body("case", "18.71", 50)
    assert b'"variables": {"wilayahKode": "18.71", "first": 50}' in body


def test_resident_request_asks_for_one_nik(opd: ModuleType) -> None:
    body = opd.request_body("resident", "18.71", 50, "1871010205940001")
    assert b'"variables": {"nik": "1871010205940001"}' in body
