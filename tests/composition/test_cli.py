"""``jamajama compose`` from files and from a live subgraph's ``_service { sdl }``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.cli import main
from tests.composition.conftest import FEDERATION_CASES
from tests.servers import serve

CASE = FEDERATION_CASES / "requires" / "basic" / "subgraphs"


def test_compose_files_writes_the_supergraph(tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    assert main(["compose", "--dir", str(CASE), "-o", str(out)]) == 0
    assert "@join__field(graph: SHIPPING, requires: " in out.read_text()


def test_compose_warns_when_it_prints_placeholder_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "supergraph.graphql"
    files = sorted(CASE.glob("*.graphql"))
    first, *others = (f"{path.stem}={path}" for path in files)
    urls = [f"--url={p.stem}=http://{p.stem}:4000/graphql" for p in files[1:]]
    assert main(["compose", first, *others, *urls, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: no routing URL for {files[0].stem};" in err
    assert f"http://{files[0].stem}.subgraphs.test/graphql" in out.read_text()
    assert main(["compose", first, *others, f"--url={files[0].stem}=http://a/graphql", *urls]) == 0
    assert "warning" not in capsys.readouterr().err


def test_compose_errors_go_to_stderr_with_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "a.graphql"
    bad.write_text(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\n'
        'type Query { t: T } type T @key(fields: "nope") { id: ID! }\n'
    )
    assert main(["compose", f"a={bad}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith('KEY_INVALID_FIELDS: [a] T: @key(fields: "nope") names a field')


@pytest.fixture
def live_subgraph() -> Iterator[str]:
    sdl = (CASE / "products.graphql").read_text()

    async def graphql(request: Request) -> JSONResponse:
        body = await request.json()
        assert "_service" in body["query"]
        return JSONResponse({"data": {"_service": {"sdl": sdl}}})

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    with serve(app, loop="asyncio", http="h11") as url:
        yield f"{url}/graphql"


def test_compose_from_a_live_url_uses_it_as_routing_url(live_subgraph: str, tmp_path: Path) -> None:
    out = tmp_path / "supergraph.graphql"
    code = main(
        [
            "compose",
            f"products={live_subgraph}",
            f"shipping={CASE / 'shipping.graphql'}",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    assert f'PRODUCTS @join__graph(name: "products", url: "{live_subgraph}")' in out.read_text()


REST = FEDERATION_CASES.parents[2] / "schema" / "rest"


def test_a_connector_subgraph_needs_no_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "supergraph.graphql"
    assert main(["compose", f"bpbd={REST / 'bpbd.graphql'}", "-o", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert 'BPBD @join__graph(name: "bpbd", url: "http://ignored")' in out.read_text()


def test_connector_problems_are_printed_with_code_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bpbd.graphql"
    sdl = (REST / "bpbd.graphql").read_text().replace("{$args.id}", "{$args.nomor}")
    bad.write_text(sdl)
    line = next(n for n, text in enumerate(sdl.splitlines(), 1) if "$args.nomor" in text)
    assert main(["compose", f"bpbd={bad}"]) == 1
    err = capsys.readouterr().err
    assert (
        f"CONNECTOR_ARGUMENT_UNKNOWN: [bpbd] Query.kejadianBencana[0] (line {line}): "
        "$args.nomor: the field has no argument 'nomor'"
    ) in err
