"""``jamajama token ...`` as a newcomer meets it: clear refusals and never a silent empty answer."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from gateway.cli import main


def test_mint_refuses_an_unknown_application(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "mint", "sibansoss"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown application 'sibansoss': known are dasbor-gubernur, developer" in captured.err


def test_mint_for_another_application_needs_its_scopes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "mint", "aplikasi-lain", "--scope", "sosial:read"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["azp"] == "aplikasi-lain" and claims["scope"] == "sosial:read"


def test_mint_knows_the_applications_of_a_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[auth.jwt]\nsecret = "a-secret-of-at-least-thirty-two-bytes!!"\n'
        '[[auth.applications.seed]]\nid = "dasbor-bappeda"\nopd = "Bappeda"\n'
    )
    assert main(["token", "mint", "dasbor-bappeda", "--config", str(config)]) == 0
    assert capsys.readouterr().out.count(".") == 2  # a JWT


def test_registered_without_configuration_says_where_to_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["token", "registered"]) == 1
    assert "`--dev` lists those of `jamajama dev`" in capsys.readouterr().err
    assert main(["token", "registered", "--dev"]) == 0
    assert capsys.readouterr().out.startswith("dasbor-gubernur")
