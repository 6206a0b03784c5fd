"""The registry commands as an OPD team reads them: text with dates and authors, a schema diff,
tokens minted by a command; ``--json`` for machines."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import build_schema

from gateway.cli import main
from gateway.registry.diff import diff_schemas, render_diff
from gateway.registry.service import Registry, create_app
from gateway.registry.store import RegistryStore
from gateway.registry.tokens import DEV_ADMIN_TOKEN, dev_token
from tests.registry.test_reload import V1, V2
from tests.servers import ServerThread


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    store = RegistryStore.sqlite(tmp_path / "registry.sqlite3")
    app = create_app(Registry(store), {"products": "tok-products"}, "tok-admin")
    with ServerThread(app, loop="asyncio", http="h11") as server:
        yield server.url
    store.close()


def _publish(url: str, sdl: Path, *extra: str) -> int:
    target = ["--url", "http://p/graphql", "--sdl", str(sdl), "--registry", url]
    return main(["publish", "products", *target, "--token", "tok-products", *extra])


def test_publish_and_check_print_the_verdict_and_the_schema_diff(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1, v2 = tmp_path / "v1.graphql", tmp_path / "v2.graphql"
    v1.write_text(V1)
    v2.write_text(V2)
    assert _publish(registry_url, v1) == 0
    assert capsys.readouterr().out.startswith("products: accepted as supergraph version 1\n")
    assert _publish(registry_url, v2) == 0
    out = capsys.readouterr().out
    assert "schema diff (what clients would see):\n  + field Product.stock was added (safe)" in out
    changed = tmp_path / "v3.graphql"
    changed.write_text(
        V2.replace(" price: Int", "").replace("stock: Int", 'stock: Int @deprecated(reason: "x")')
    )
    check = ["check", "products", "--url", "http://p/graphql", "--sdl", str(changed)]
    assert main([*check, "--registry", registry_url, "--token", "tok-products"]) == 0
    out = capsys.readouterr().out
    assert "  - field Product.price was removed (breaking)" in out
    assert "  ~ field Product.stock was deprecated: x (dangerous)" in out
    assert main([*check, "--registry", registry_url, "--token", "tok-products", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] is True


def test_log_and_subgraphs_print_dates_and_authors_not_epochs(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1 = tmp_path / "v1.graphql"
    v1.write_text(V1)
    assert _publish(registry_url, v1) == 0
    capsys.readouterr()
    assert main(["registry", "log", "--registry", registry_url]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(
        r"v1\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+opd:products\s+publish products", line
    ), line
    assert main(["registry", "subgraphs", "--registry", registry_url]) == 0
    assert re.match(
        r"products\s+http://p/graphql\s+#1\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+opd:products",
        capsys.readouterr().out,
    )
    assert main(["registry", "log", "--registry", registry_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["versions"][0]["created_by"] == "opd:products"


def test_token_mint_prints_a_new_token_and_the_hash_to_configure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["registry", "token", "kesehatan"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert len(token) >= 40
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert f'[registry] tokens.kesehatan = "sha256:{digest}"' in captured.err
    assert token not in captured.err  # the configuration holds the hash only


def test_dev_tokens_are_printed_only_for_the_dev_registry_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["registry", "token", "kesehatan", "--dev"]) == 0
    assert capsys.readouterr().out.strip() == dev_token("kesehatan")
    assert main(["registry", "token", "admin", "--dev"]) == 0
    assert capsys.readouterr().out.strip() == DEV_ADMIN_TOKEN
    assert main(["registry", "token", "pajak", "--dev"]) == 2
    assert "not 'pajak'" in capsys.readouterr().err


def test_the_diff_grades_added_changed_and_removed() -> None:
    old = build_schema(
        "type Query { a: Int b(x: Int = 1): Int c: Int e: E } enum E { X } union U = Query"
    )
    new = build_schema(
        'type Query { a: Int @deprecated(reason: "use d") b(x: Int = 2): Int d: Int e: E t: T }'
        " enum E { X Y } type T { f: Int }"
    )
    lines = render_diff(diff_schemas(old, new))
    assert lines[:2] == [
        "  - field Query.c was removed (breaking)",
        "  - type U was removed (breaking)",
    ]
    assert "  + Enum value E.Y was added (dangerous)" in lines
    assert "  ~ field Query.a was deprecated: use d (dangerous)" in lines
    assert "  ~ Query.b(x:) has changed defaultValue from 1 to 2 (dangerous)" in lines
    assert "  + type T was added (safe)" in lines
    assert "  + field Query.t was added (safe)" in lines
    assert render_diff([]) == ["  no change visible to clients"]


def test_an_admin_overrides_a_refused_breaking_change_with_a_reason_the_log_keeps(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    v1, without_price = tmp_path / "v1.graphql", tmp_path / "v2.graphql"
    v1.write_text(V1)
    without_price.write_text(V1.replace(" price: Int", ""))
    assert _publish(registry_url, v1, "--author", "budi@dinkes") == 0
    used = {"operation": "Harga", "hash": "h1", "coordinates": ["Product.price"]}
    usage = {"operations": [{**used, "application": "simrs"}]}
    admin = {"Authorization": "Bearer tok-admin"}
    assert httpx.post(f"{registry_url}/api/usage", json=usage, headers=admin).status_code == 200
    assert _publish(registry_url, without_price) == 1
    assert (
        "Product.price was removed; used by Harga (1x); applications: simrs (1x)"
        in capsys.readouterr().err
    )
    target = ["--url", "http://p/graphql", "--sdl", str(without_price), "--registry", registry_url]
    override = ["--override", "SIMRS moved to hargaBaru (ticket 42)"]
    assert main(["publish", "products", *target, "--token", "tok-products", *override]) == 2
    assert "only the registry's admin token may override" in capsys.readouterr().err
    assert main(["publish", "products", *target, "--token", "tok-admin", *override]) == 0
    assert "accepted as supergraph version 2 by an admin override" in capsys.readouterr().out
    assert main(["registry", "log", "--registry", registry_url]) == 0
    first, second, affected = capsys.readouterr().out.splitlines()
    assert "opd:products/budi@dinkes" in first
    assert second.endswith("publish products  (override: SIMRS moved to hargaBaru (ticket 42))")
    assert affected == (
        "       breaking: field Product.price was removed; applications: simrs (1x)"
    )


def test_bootstrap_publishes_running_subgraphs_in_the_order_given(
    registry_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def graphql(request: Request) -> JSONResponse:
        return JSONResponse({"data": {"_service": {"sdl": V1}}})

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    with ServerThread(app, loop="asyncio", http="h11") as subgraph:
        spec = f"products={subgraph.url}/graphql"
        common = ["--registry", registry_url, "--token", "tok-admin"]
        assert main(["registry", "bootstrap", spec, *common]) == 0
        assert capsys.readouterr().out == "products: accepted as supergraph version 1\n"
        assert main(["registry", "bootstrap", spec, *common]) == 0  # idempotent
        assert "unchanged" in capsys.readouterr().out
    assert main(["registry", "bootstrap", "products", *common]) == 2
    assert "expected NAME=URL" in capsys.readouterr().err
    gone = "products=http://127.0.0.1:9/graphql"
    assert main(["registry", "bootstrap", gone, "--wait", "0", *common]) == 2
    assert "products at http://127.0.0.1:9/graphql" in capsys.readouterr().err


def test_a_subgraph_published_before_its_base_gets_a_hint(
    registry_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kesehatan = Path(__file__).resolve().parents[2] / "schema" / "kesehatan.graphql"
    target = ["--url", "http://k/graphql", "--sdl", str(kesehatan), "--registry", registry_url]
    assert main(["check", "kesehatan", *target, "--token", "tok-admin"]) == 1
    err = capsys.readouterr().err
    assert "(EXTERNAL_MISSING_ON_BASE)" in err
    assert "hint: a subgraph this one extends may not be published yet" in err
