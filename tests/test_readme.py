"""README.md's shell commands, run top to bottom against a real ``jamajama dev``, so they stay true.

The test does what a newcomer does after ``make dev``: in a fresh directory (a fresh ``var/``, a
copy of ``schema/``) with the virtual environment's ``bin`` first on ``PATH`` (``source
.venv/bin/activate``), it starts ``jamajama dev`` in the background, then runs every line of every
``sh`` block of the README in one shell, in order, so that variables carry over (``TOKEN``,
``OPD_TOKEN``, ``JAMAJAMA_REGISTRY_URL``). Ports: the README's, moved to free ones the way the
README allows (``--base-port``, ``--rest-base-port``, ``--registry-port``, ``--gateway-port``),
and its URLs rewritten to match. Lines that cannot run here or never exit are listed in
``SKIPPED`` and ``BACKGROUND``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: README lines not run, by prefix, and why
SKIPPED: dict[str, str] = {
    "make dev": "`jamajama dev` in the foreground: this test starts it itself, in the background",
    "make test": "the suite this test is part of",
    "jamajama subgraph generate --scale 0.05": "the large world (~457,000 residents) takes minutes",
    "docker compose": "no container engine here; tests/test_deployment.py checks those files",
}
#: README lines that start a server: run in the background until they say they listen, then stopped
BACKGROUND = ("jamajama subgraph serve",)
README_PORTS = {"gateway": 4000, "base": 4001, "registry": 4100}

pytestmark = pytest.mark.slow


@dataclass(frozen=True, slots=True)
class Command:
    block: int
    text: str

    def skip_reason(self) -> str | None:
        return next((why for p, why in SKIPPED.items() if self.text.startswith(p)), None)


def readme_commands(text: str) -> list[Command]:
    """Every command of every ``sh`` block (continuation lines joined), in order."""
    commands: list[Command] = []
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)
    for number, block in enumerate(blocks, 1):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(Command(number, line))
    return commands


def _free_port_range(n: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + n > 65535:
            continue
        try:
            for port in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free ports")


class Ports:
    """The README's ports and the free ones this run uses instead."""

    def __init__(self) -> None:
        base = _free_port_range(13)
        self.moved = {4000: base, 4100: base + 6, 4013: base + 7}  # 4013: `subgraph serve`
        self.moved[4200] = base + 200  # the portal: the gateway's port + 200
        self.moved |= {4001 + i: base + 1 + i for i in range(5)}
        self.moved |= {4101 + i: base + 8 + i for i in range(5)}  # the REST OPDs

    def rewrite(self, text: str) -> str:
        text = re.sub(r"127\.0\.0\.1:(\d{4})", lambda m: f"127.0.0.1:{self._port(m)}", text)
        return re.sub(r"--port (\d{4})", lambda m: f"--port {self._port(m)}", text)

    def _port(self, match: re.Match[str]) -> int:
        return self.moved.get(int(match.group(1)), int(match.group(1)))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    return tmp_path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMAJAMA_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture
def dev(workdir: Path) -> Iterator[tuple[Ports, list[str]]]:
    """``jamajama dev`` started in the background the way the README allows; its output lines."""
    ports = Ports()
    proc = subprocess.Popen(
        ["jamajama", "dev", "--base-port", str(ports.moved[4001]),
         "--gateway-port", str(ports.moved[4000]), "--registry-port", str(ports.moved[4100]),
         "--rest-base-port", str(ports.moved[4101])],
        cwd=workdir,
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("all services up"):
            line = proc.stdout.readline()
            assert line, f"jamajama dev exited early ({proc.wait()}): {lines}"
            lines.append(line.rstrip("\n"))
        yield ports, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def _run_in_background(command: str, workdir: Path) -> str:
    """Start a server command, wait for its "listening" line, stop it; the line."""
    argv = shlex.split(command.split("  #")[0])
    proc = subprocess.Popen(argv, cwd=workdir, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, f"{command!r} did not start: exit {proc.wait(timeout=30)}"
        return line
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def test_every_readme_command_works_as_written(dev: tuple[Ports, list[str]], workdir: Path) -> None:
    ports, dev_lines = dev
    text = README.read_text()
    block = re.search(r"^```\n(wilayah .*?)^```", text, flags=re.M | re.S)
    assert block is not None, "the README shows what `jamajama dev` prints"
    assert [line.split() for line in dev_lines[1:14]] == [
        line.split() for line in ports.rewrite(block.group(1)).splitlines()
    ]

    commands = readme_commands(text)
    skipped = {c.text: c.skip_reason() for c in commands if c.skip_reason()}
    assert set(skipped) == {
        "make dev    # creates .venv, installs, starts the system on embedded defaults",
        "make test   # lint, types, and the whole test suite",
        "jamajama subgraph generate --scale 0.05       # pre-generate a large world "
        "(~457,000 residents)",
        "docker compose up --build -d",
        "docker compose exec gateway jamajama token mint sibansos --config "
        "/app/deploy/gateway.toml",
    }, "a README command is skipped that this test does not know of"
    script = ["set -uo pipefail"]
    ran: list[Command] = []
    for command in commands:
        if command.skip_reason():
            continue
        line = ports.rewrite(command.text)
        if line.startswith(BACKGROUND):
            assert "listening on" in _run_in_background(line, workdir)
            continue
        script += [f"echo '### {len(ran)}'", f'{line} || echo "### exit $?"']
        ran.append(command)
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = result.stdout.split("### ")[1:]
    assert len(outputs) == len(ran), result.stdout + result.stderr
    for command, output in zip(ran, outputs, strict=True):
        assert "exit " not in output.splitlines()[-1], (
            f"README block {command.block}: `{command.text}` failed:\n{output}\n{result.stderr}"
        )
    said = {c.text.split("  #")[0].strip(): o for c, o in zip(ran, outputs, strict=True)}

    def output(prefix: str) -> str:
        return next(o.split("\n", 1)[1] for c, o in said.items() if c.startswith(prefix))

    answer = json.loads(output("curl"))
    assert "errors" not in answer, answer
    assert answer["data"]["penduduk"]["nama"] and answer["data"]["penduduk"]["keluarga"]["anggota"]

    def answer_to(field: str) -> dict[str, object]:
        body = next(o.split("\n", 1)[1] for c, o in said.items() if field in c)
        parsed: dict[str, object] = json.loads(body)
        assert "errors" not in parsed, parsed
        return parsed

    ten = answer_to("rekapKendaraan")["data"]
    assert len(ten["kabupatenKota"]) == 15  # type: ignore[index]
    disasters = answer_to("kejadianBencana")["data"]
    assert disasters["wilayah"]["children"]  # type: ignore[index]
    access = output("jamajama audit subject")
    assert "sibansos (Dinas Sosial)" in access and "purpose penyaluran_bansos" in access
    assert output("jamajama audit verify").startswith("audit log intact")
    assert output("jamajama check kesehatan").startswith("kesehatan: accepted")
    assert output("jamajama publish kesehatan").startswith("kesehatan: accepted")
    assert re.search(
        r"^v1 .* UTC\s+opd:wilayah\s+publish wilayah$", output("jamajama registry log"), re.M
    )
    supergraph = (workdir / "var" / "supergraph.graphql").read_text()
    assert f'url: "http://127.0.0.1:{ports.moved[4003]}/graphql"' in supergraph
