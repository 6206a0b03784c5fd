"""Locked builds and extras: constraints.txt pins every dependency pyproject.toml names, and the
commands that need the demo extra say so when it is missing."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from gateway import cli

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_the_lock_pins_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        named |= {_name(r) for r in extra}
    pinned = {
        _name(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        assert line.startswith("#") or not line or "==" in line, line
    assert named - pinned == set(), "run `make lock`"


def test_the_demo_generator_is_not_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    assert "faker" not in runtime
    assert "faker" in {_name(r) for r in project["optional-dependencies"]["demo"]}
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--constraint constraints.txt" in dockerfile
    assert "--constraint constraints.txt" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("command", ["subgraph", "dev"])
def test_a_missing_demo_extra_is_a_clear_error(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = cli.importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "faker" else real_find_spec(name, *a),
    )
    assert cli.main([command, "--help"]) == 2
    error = capsys.readouterr().err
    assert f"jamajama {command} needs the 'demo' extra" in error
    assert "pip install 'jamajama[demo]'" in error


def test_the_gateway_does_not_need_the_demo_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name, *a: None)
    assert cli.missing_extra("gateway") is None
