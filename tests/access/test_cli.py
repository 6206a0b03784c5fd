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
