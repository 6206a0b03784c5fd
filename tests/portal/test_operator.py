"""Operator: the gateway's per-subgraph metrics and the registry's versions, operator only."""

from __future__ import annotations

import re

import httpx

from gateway.portal import metrics
from gateway.portal.app import create_app
from tests.portal.conftest import portal_for, sign_in
from tests.portal.world import PortalWorld
from tests.servers import serve


def _row(html: str, subgraph: str) -> list[str]:
    row = html.split(f'<tr data-subgraph="{subgraph}">', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_operator_shows_fetches_errors_circuit_and_versions(world: PortalWorld) -> None:
    with (
        serve(create_app(portal_for(world.gateway_down, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        sign_in(client, "operator")
        client.get("/dasbor")  # kesehatan is down behind this gateway
        client.get("/operator")
        client.get("/dasbor")
        page = client.get("/operator")
    assert page.status_code == 200
    scraped = metrics.parse(httpx.get(f"{world.gateway_down}/metrics").text)
    kesehatan = _row(page.text, "kesehatan")
    assert scraped["kesehatan"].errors >= 2
    assert kesehatan[2].startswith(f"{int(scraped['kesehatan'].errors)}")  # errors column
    wilayah = _row(page.text, "wilayah")
    assert int(wilayah[0].replace(".", "")) >= 2 and wilayah[1] != "—"  # a rate
    assert "tertutup" in wilayah[5] or "terbuka" in wilayah[5]
    assert re.match(r"#\d+ · \d+ \w+ \d{4}", wilayah[6])


def test_operator_is_for_the_operator_role_only(world: PortalWorld) -> None:
    with (
        serve(create_app(portal_for(world.gateway, world.registry))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert client.get("/operator").headers["location"].startswith("/masuk")
        sign_in(client, "dpo")
        assert client.get("/operator").status_code == 403
        assert "Operator" not in client.get("/").text.split("<main", 1)[0]


def test_metrics_parse_takes_the_p95_bucket_and_the_circuit() -> None:
    text = "\n".join(
        [
            "# TYPE jamajama_subgraph_fetch_duration_seconds histogram",
            'jamajama_subgraph_fetch_duration_seconds_bucket{subgraph="a",le="0.01"} 90',
            'jamajama_subgraph_fetch_duration_seconds_bucket{subgraph="a",le="0.1"} 99',
            'jamajama_subgraph_fetch_duration_seconds_bucket{subgraph="a",le="+Inf"} 100',
            'jamajama_subgraph_fetch_duration_seconds_count{subgraph="a"} 100',
            'jamajama_subgraph_fetch_duration_seconds_sum{subgraph="a"} 2.0',
            "# TYPE jamajama_subgraph_circuit_open gauge",
            'jamajama_subgraph_circuit_open{subgraph="a"} 1',
        ]
    )
    a = metrics.parse(text)["a"]
    assert (a.fetches, a.mean_ms, a.p95_ms, a.circuit_open) == (100, 20.0, 100.0, True)
