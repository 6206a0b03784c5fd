"""`jamajama subgraph ...`, `jamajama schema ...` and `jamajama dev` as a user runs them."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway import dev
from gateway.cli import main
from subgraphs.rest import REST_OPDS

from .conftest import TEST_SCALE


def _free_ports(n: int) -> int:
    """A base port with `n` consecutive free ports on the loopback."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + n > 65535:
            continue
        socks = []
        try:
            for port in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no consecutive free ports")


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "JAMAJAMA_DATA_DIR": str(data_dir)}


def test_subgraph_list_names_every_subgraph(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["subgraph", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == [
        "wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial",
    ]  # fmt: skip


def test_subgraph_generate_refuses_a_bad_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subgraph", "generate", "--scale", "2", "--data-dir", str(tmp_path)]) == 2
    assert "scale must be in (0, 1]" in capsys.readouterr().err


def test_schema_check_passes_on_the_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert main(["schema", "check", "--dir", str(repo / "schema")]) == 0
    assert "5 schema file(s) match the code" in capsys.readouterr().out


def test_subgraph_serve_on_a_busy_port_says_so_and_never_claims_to_listen(
    world_dir: Path,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "subgraph", "serve", "sosial", "--port",
             str(port), "--scale", str(TEST_SCALE)],
            capture_output=True,
            text=True,
            env=_env(world_dir.parent),
            timeout=60,
            check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert "listening" not in result.stdout
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr


def test_dev_services_are_the_five_subgraphs_the_registry_and_the_gateway() -> None:
    parser = argparse.ArgumentParser()
    dev.add_arguments(parser)
    services = dev.services(parser.parse_args([]))
    assert [(s.name, s.port) for s in services] == [
        ("wilayah", 4001), ("kependudukan", 4002), ("kesehatan", 4003),
        ("pendidikan", 4004), ("sosial", 4005),
        ("bapenda", 4101), ("bkd", 4102), ("tanaman_pangan", 4103), ("dpmptsp", 4104),
        ("bpbd", 4105),
        ("registry", 4100), ("gateway", 4000), ("portal", 4200),
    ]  # fmt: skip
    assert list(dev.REST_NAMES) == list(REST_OPDS)
    assert services[1].argv[1:] == (
        "-m", "gateway.cli", "subgraph", "serve", "kependudukan", "--host", "127.0.0.1",
        "--port", "4002", "--seed", "18", "--scale", "0.001",
    )  # fmt: skip
    registry, gateway = services[-3:-1]
    assert registry.argv[3:6] == ("registry", "serve", "--dev")
    # the gateway starts once the subgraphs are published, follows the registry, and shows
    # subgraph errors unredacted (development only)
    assert gateway.after_previous
    assert gateway.argv[3:6] == ("gateway", "--registry", "http://127.0.0.1:4100")
    assert ("JAMAJAMA_HTTP__SUBGRAPH_ERRORS", "pass") in gateway.env
    # the gateway reaches the REST OPDs here, with the API keys they read (never in argv)
    connectors = json.loads(dict(gateway.env)["JAMAJAMA_CONNECTORS"])
    assert connectors["sources"]["bapenda.samsat"] == {
        "base_url": "http://127.0.0.1:4101/api/v1",
        "config_env": {"apiKey": "JAMAJAMA_REST_BAPENDA_KEY"},
    }
    assert len(connectors["sources"]) == 5
    bapenda = services[5]
    assert bapenda.argv[3:6] == ("rest", "serve", "bapenda")
    assert (
        dict(bapenda.env)["JAMAJAMA_REST_BAPENDA_KEY"]
        == dict(gateway.env)["JAMAJAMA_REST_BAPENDA_KEY"]
    )


def test_dev_refuses_busy_ports_before_starting_anything(tmp_path: Path) -> None:
    base = _free_ports(12)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 2))
        busy.listen()
        command = ["dev", "--base-port", str(base), "--gateway-port", str(base + 5)]
        command += ["--registry-port", str(base + 6), "--rest-base-port", str(base + 7)]
        result = subprocess.run(
            [sys.executable, "-m", "gateway.cli", *command],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            cwd=tmp_path,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"port(s) already in use: kesehatan {base + 2}" in result.stderr
    assert not any(tmp_path.iterdir())  # nothing generated


def test_dev_watch_sees_changed_subgraph_modules_and_sdl_files(tmp_path: Path) -> None:
    module, sdl = tmp_path / "kesehatan.py", tmp_path / "kesehatan.graphql"
    module.write_text("a")
    sdl.write_text("type Query { a: Int }")
    before = {module: 1.0, sdl: 2.0}
    assert list(dev.changed_files(before, {module: 1.0, sdl: 3.0})) == [sdl]
    assert list(dev.changed_files(before, before)) == []


class _RecordingPublisher:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def publish(self, name: str, sdl_from: str | None = None, start: bool = False) -> bool:
        self.calls.append((name, sdl_from))
        return True


def test_dev_publishes_a_changed_sdl_file_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    dev.add_arguments(parser)
    loop = dev.Loop(parser.parse_args([]), {})
    recorder = _RecordingPublisher()
    loop.publisher = recorder  # type: ignore[assignment]
    path = dev.ROOT / "schema" / "sosial.graphql"
    loop.on_change(path)
    assert recorder.calls == [("sosial", str(path))]
    assert "schema/sosial.graphql changed: publishing it" in capsys.readouterr().out


def test_dev_publishes_a_changed_connector_sdl_as_is_and_watches_rest_modules() -> None:
    parser = argparse.ArgumentParser()
    dev.add_arguments(parser)
    loop = dev.Loop(parser.parse_args([]), {})
    recorder = _RecordingPublisher()
    loop.publisher = recorder  # type: ignore[assignment]
    path = dev.ROOT / "schema" / "rest" / "bapenda.graphql"
    loop.on_change(path)
    assert recorder.calls == [("bapenda", str(path))]
    watched = dev._snapshot()
    assert path in watched and dev.ROOT / "subgraphs" / "rest" / "bpbd.py" in watched
    assert dev.Publisher(parser.parse_args([])).url("bkd") == "http://127.0.0.1:4102"


def test_dev_starts_everything_publishes_and_the_gateway_follows_the_registry(
    world_dir: Path, tmp_path: Path
) -> None:
    base = _free_ports(13)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "dev", "--base-port", str(base),
         "--gateway-port", str(base + 5), "--registry-port", str(base + 6),
         "--rest-base-port", str(base + 7), "--portal-port", str(base + 12),
         "--scale", str(TEST_SCALE), "--no-watch"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(world_dir.parent),
        cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("all services up"):
            line = proc.stdout.readline()
            assert line, f"jamajama dev exited early: {proc.wait()}"
            lines.append(line.rstrip("\n"))
        assert lines[0].endswith("(cached)")
        names = ["wilayah", "kependudukan", "kesehatan", "pendidikan", "sosial"]
        rest = list(REST_OPDS)
        assert [line.split() for line in lines[1:13]] == [
            *([name, f"http://127.0.0.1:{base + i}/graphql"] for i, name in enumerate(names)),
            *([n, f"http://127.0.0.1:{base + 7 + i}/openapi.json"] for i, n in enumerate(rest)),
            ["registry", f"http://127.0.0.1:{base + 6}"],
            ["gateway", f"http://127.0.0.1:{base + 5}/graphql"],
        ]
        versions = httpx.get(f"http://127.0.0.1:{base + 6}/api/supergraph/versions").json()
        # in dependency order: the bases, the subgraphs extending them, the connector SDLs
        assert [v["subgraph"] for v in versions["versions"]] == [*names, *rest]
        from gateway.auth.cli import mint_token

        # one query, ten OPDs: five subgraphs and five REST APIs served by connectors
        query = """{ kabupatenKota { kode jumlahPenduduk jumlahKeluargaPenerima
          rekapKendaraan { jumlahKendaraan } jumlahPegawai luasTanam { jumlahPetani }
          rekapIzinUsaha { jumlah } rekapBencana { jumlahKejadian } } }"""
        answer = httpx.post(
            f"http://127.0.0.1:{base + 5}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {mint_token('dasbor-gubernur')}"},
        ).json()
        assert "errors" not in answer, answer["errors"]
        rows = answer["data"]["kabupatenKota"]
        assert len(rows) == 15
        assert all(r["rekapKendaraan"]["jumlahKendaraan"] > 0 for r in rows)
        assert all(r["rekapIzinUsaha"]["jumlah"] >= 0 for r in rows)
        assert (tmp_path / "var" / "dev" / "registry.sqlite3").is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{base}/health")


def test_dev_start_publishes_the_code_even_over_fields_an_earlier_session_used(
    world_dir: Path, tmp_path: Path
) -> None:
    """A field used in an earlier session and removed from the code meanwhile does not stop
    ``jamajama dev``: the start-up publish overrides, and the registry log says so."""
    from gateway.registry.service import Registry
    from gateway.registry.store import RegistryStore

    repo = Path(__file__).resolve().parents[2]
    store = RegistryStore.sqlite(tmp_path / "var" / "dev" / "registry.sqlite3")
    registry = Registry(store)
    for name in dev.SUBGRAPH_NAMES:
        sdl = (repo / "schema" / f"{name}.graphql").read_text()
        if name == "sosial":  # an earlier version had a field the code no longer has
            sdl += "\nextend type Query { bansosLama: Int }\n"
        assert registry.publish(name, f"http://old/{name}", sdl, "opd:x").accepted, name
    store.record_usage("Lama", "h", ["Query.bansosLama"], 3)
    store.close()
    base = _free_ports(13)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "dev", "--base-port", str(base),
         "--gateway-port", str(base + 5), "--registry-port", str(base + 6),
         "--rest-base-port", str(base + 7), "--portal-port", str(base + 12),
         "--scale", str(TEST_SCALE), "--no-watch"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(world_dir.parent),
        cwd=tmp_path,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("all services up"):
            line = proc.stdout.readline()
            assert line, f"jamajama dev exited early: {proc.wait()} {lines}"
            lines.append(line.rstrip("\n"))
        assert any("sosial: accepted" in line and "admin override" in line for line in lines)
        log = httpx.get(f"http://127.0.0.1:{base + 6}/api/supergraph/versions").json()
        (sosial,) = [v for v in log["versions"] if v["subgraph"] == "sosial"][-1:]
        assert sosial["override_reason"].startswith("jamajama dev start-up")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()
