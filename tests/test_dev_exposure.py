"""Issue 12, found 7: development authentication (tokens anyone can mint with the published
development secret) listens on loopback only, unless forced with --dangerously-expose-dev-auth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway import dev, serve
from gateway.assembly import assemble
from gateway.auth.exposure import EXPOSE_FLAG
from gateway.cli import build_parser, main
from gateway.config import Settings, dev_settings
from tests.servers import serve as serve_app

SUPERGRAPH = str(Path(__file__).parent.parent / "schema" / "supergraph.graphql")


def parse(*argv: str) -> object:
    return build_parser(list(argv)).parse_args(list(argv))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "gateway.example"])
def test_dev_auth_refuses_a_non_loopback_host(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gateway", "--dev-auth", "--host", host, "--supergraph", SUPERGRAPH]) == 2
    error = capsys.readouterr().err
    assert f"listens on loopback only, not on {host}" in error
    assert "--dangerously-expose-dev-auth" in error


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_dev_auth_on_loopback_and_forced_exposure_start(host: str) -> None:
    args = parse("gateway", "--dev-auth", "--host", host, "--supergraph", SUPERGRAPH)
    options, _ = serve.start_options(args)  # type: ignore[arg-type]
    assert options.host == host and options.dev_auth
    forced = parse("gateway", "--dev-auth", "--host", "0.0.0.0", EXPOSE_FLAG)
    assert serve.start_options(forced)[0].host == "0.0.0.0"  # type: ignore[arg-type]
    # without development authentication any host is the operator's choice
    assert serve.start_options(parse("gateway", "--host", "0.0.0.0"))[0].host == "0.0.0.0"  # type: ignore[arg-type]


def test_jamajama_dev_refuses_a_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dev", "--host", "0.0.0.0", "--no-watch"]) == 2  # before anything starts
    assert "--dangerously-expose-dev-auth" in capsys.readouterr().err
    forced = parse("dev", "--host", "0.0.0.0", EXPOSE_FLAG)
    (gateway,) = [s for s in dev.services(forced) if s.name == "gateway"]  # type: ignore[arg-type]
    assert EXPOSE_FLAG in gateway.argv
    (default,) = [s for s in dev.services(parse("dev")) if s.name == "gateway"]  # type: ignore[arg-type]
    assert EXPOSE_FLAG not in default.argv


def test_dev_tokens_are_not_handed_through_a_local_proxy(tmp_path: Path) -> None:
    """uvicorn no longer rewrites the client address from X-Forwarded-For (the guard decides), so
    a reverse proxy on this machine would look like a loopback browser: a relayed request is
    refused."""
    settings = dev_settings(Settings(), tmp_path)
    assembly = assemble(settings, supergraph_sdl=Path(SUPERGRAPH).read_text())
    with serve_app(assembly.app, **serve.EDGE_OPTIONS) as url, httpx.Client() as client:
        assert client.get(f"{url}/graphiql/dev/applications").status_code == 200
        for header in ("x-forwarded-for", "forwarded", "x-real-ip"):
            relayed = client.get(f"{url}/graphiql/dev/applications", headers={header: "x"})
            assert relayed.status_code == 403
            assert relayed.json()["errors"][0]["extensions"]["code"] == "DEV_TOKENS_LOOPBACK_ONLY"
