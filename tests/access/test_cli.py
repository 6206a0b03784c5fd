"""``jamajama access``: the CLI acts on the same records, with the same rules, as the portal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.cli import main


def config(tmp_path: Path) -> str:
    path = tmp_path / "jamajama.toml"
    path.write_text(
        f'[audit]\nsqlite_path = "{tmp_path / "audit.sqlite3"}"\n'
        f'[auth.applications]\nsqlite_path = "{tmp_path / "apps.sqlite3"}"\n'
        "[[auth.applications.seed]]\n"
        'id = "klinik"\nopd = "Dinas Kesehatan"\nscopes = ["kependudukan:read"]\n'
        "[[auth.applications.purposes]]\n"
        'id = "rujukan"\nname = "Rujukan"\nlegal_basis = "UU 17/2023"\n'
    )
    return str(path)


def test_request_approve_reject_revoke_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path)
    argv = ["access", "request", "klinik", "--config", cfg, "--user", "pemilik"]
    argv += ["--scope", "sosial:read", "--scope", "pendidikan:read", "--purpose", "rujukan"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    found = re.search(r"^(AR-\w+)\s+klinik\s+pending", out, re.M)
    assert found, out
    request_id = found.group(1)
    # the wrong OPD is refused with the stable code
    wrong = ["access", "approve", request_id, "--as-opd", "pendidikan", "--reason", "x"]
    assert main([*wrong[:3], "--config", cfg, "--as-opd", "kesehatan", "--reason", "x"]) == 2
    assert "ACCESS_REQUEST_NOT_FOUND" in capsys.readouterr().err
    approve = ["access", "approve", request_id, "--config", cfg, "--as-opd", "sosial"]
    assert main([*approve, "--reason", "sesuai dasar hukum"]) == 0
    reject = ["access", "reject", request_id, "--config", cfg, "--as-opd", "pendidikan"]
    assert main([*reject, "--reason", "tidak perlu"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"sosial\s+approved\s+sosial:read by cli: sesuai dasar hukum", out)
    assert re.search(r"pendidikan\s+rejected\s+pendidikan:read by cli: tidak perlu", out)
    assert main(["token", "registered", "--config", cfg]) == 0
    assert "scopes:   kependudukan:read, sosial:read" in capsys.readouterr().out
    revoke = ["access", "revoke", request_id, "--config", cfg, "--as-opd", "sosial"]
    assert main([*revoke, "--reason", "selesai"]) == 0
    assert main(["access", "list", "--config", cfg, "--opd", "sosial"]) == 0
    assert re.search(r"sosial\s+revoked", capsys.readouterr().out)
    assert main(["token", "registered", "--config", cfg]) == 0
    assert "scopes:   kependudukan:read\n" in capsys.readouterr().out
    assert main(["audit", "verify", "--config", cfg]) == 0


def test_rotate_list_and_revoke_keys_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path)
    assert main(["access", "rotate-key", "klinik", "--config", cfg]) == 0
    first = capsys.readouterr().out
    old = re.search(r"^(\w{12})\s+klinik\s+active", first, re.M)
    assert old and re.search(r"new key \(shown once, store it now\): jjk_\w{12}_\S{43}$", first)
    rotate = ["access", "rotate-key", "klinik", "--config", cfg, "--grace-hours", "12"]
    assert main(rotate) == 0
    second = capsys.readouterr().out
    assert re.search(rf"^{old.group(1)}\s+klinik\s+grace\s", second, re.M), second
    assert main(["access", "keys", "klinik", "--config", cfg]) == 0
    listed = capsys.readouterr().out
    assert len(listed.splitlines()) == 2 and "jjk_" not in listed
    revoke = ["access", "revoke-key", old.group(1), "--config", cfg, "--reason", "bocor"]
    assert main(revoke) == 0
    assert re.search(rf"^{old.group(1)}\s+klinik\s+revoked", capsys.readouterr().out, re.M)
    assert main(["access", "rotate-key", "klinik", "--config", cfg, "--grace-hours", "800"]) == 2
    assert "ACCESS_REQUEST_INVALID: the grace period" in capsys.readouterr().err
    assert main(["audit", "verify", "--config", cfg]) == 0


def test_a_grant_with_an_end_is_listed_with_its_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(tmp_path)
    argv = ["access", "request", "klinik", "--config", cfg, "--scope", "sosial:read"]
    assert main([*argv, "--purpose", "rujukan", "--valid-until", "2099-01-31T12:00:00"]) == 0
    request_id = re.search(r"^(AR-\w+)", capsys.readouterr().out, re.M)
    assert request_id
    approve = ["access", "approve", request_id.group(1), "--config", cfg, "--as-opd", "sosial"]
    assert main([*approve, "--reason", "sampai akhir Januari 2099"]) == 0
    capsys.readouterr()
    assert main(["token", "registered", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "scopes:   kependudukan:read\n" in out  # not a permanent grant
    assert "until 2099-01-31T12:00:00+00:00: sosial:read (purposes: rujukan)" in out
