"""Audit keys: the production profile refuses to start without them, and they never live beside
the database (gateway/audit/keys.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.audit.config import AuditSection
from gateway.audit.keys import AuditKeyError, audit_keys
from gateway.cli import main

SUPERGRAPH = Path(__file__).parent.parent.parent / "schema" / "supergraph.graphql"


def test_production_needs_a_signing_and_a_subject_key(tmp_path: Path) -> None:
    section = AuditSection(sqlite_path=tmp_path / "db" / "audit.sqlite3")
    with pytest.raises(AuditKeyError) as refused:
        audit_keys(section, production=True)
    assert refused.value.code == "AUDIT_KEY_REFUSED"
    assert "audit.signing_key (or audit.signing_key_file)" in refused.value.message
    assert "audit.subject_key (or audit.subject_key_file)" in refused.value.message
    assert not (tmp_path / "db" / "audit.subject-key").exists()  # nothing made beside the store
    # outside production (development, tools) the old embedded default remains
    keys = audit_keys(section, production=False)
    assert keys.signing is None and len(keys.subject) == 32
    assert (tmp_path / "db" / "audit.subject-key").exists()


def test_keys_come_from_secret_files_outside_the_database_directory(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "signing").write_text("a-signing-key-from-a-secret\n")
    (secrets / "subject").write_text("a-subject-key-from-a-secret\n")
    section = AuditSection(
        sqlite_path=tmp_path / "db" / "audit.sqlite3",
        signing_key_file=secrets / "signing",
        subject_key_file=secrets / "subject",
    )
    keys = audit_keys(section, production=True)
    assert keys.signing == b"a-signing-key-from-a-secret"
    assert keys.subject == b"a-subject-key-from-a-secret"


def test_a_key_inside_the_database_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "signing").write_text("beside the data")
    section = AuditSection(
        sqlite_path=tmp_path / "db" / "audit.sqlite3",
        signing_key_file=tmp_path / "db" / "signing",
        subject_key=SecretStr("s" * 32),
    )
    with pytest.raises(AuditKeyError, match="inside the audit database's directory"):
        audit_keys(section, production=True)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"signing_key": SecretStr("x"), "signing_key_file": Path("/etc/hostname")},
            "give audit.signing_key or audit.signing_key_file, not both",
        ),
        ({"signing_key_file": Path("/nonexistent/key")}, "cannot read audit.signing_key_file"),
        (  # PostgreSQL: the checkpoints need a place outside the database
            {
                "backend": "postgres",
                "postgres_url": "postgresql://x@127.0.0.1:1/x",
                "signing_key": SecretStr("k"),
                "subject_key": SecretStr("s"),
            },
            "audit.checkpoint_file or audit.witness_url",
        ),
    ],
)
def test_bad_key_settings_are_clear_errors(settings: dict[str, object], message: str) -> None:
    with pytest.raises(AuditKeyError, match=message):
        audit_keys(AuditSection(**settings), production=True)  # type: ignore[arg-type]


def test_a_production_gateway_without_a_signing_key_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'[audit]\nsqlite_path = "{tmp_path / "audit.sqlite3"}"\n')
    monkeypatch.setenv("JAMAJAMA_AUTH__JWT__SECRET", "s" * 40)
    args = ["gateway", "--supergraph", str(SUPERGRAPH), "--port", "0", "--config", str(config)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "the production profile needs audit.signing_key" in err
    assert "(AUDIT_KEY_REFUSED)" in err
    assert not (tmp_path / "audit.sqlite3").exists()  # refused before anything was opened


def test_the_container_stack_satisfies_the_production_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docker-compose.yml's gateway (production profile) gets both keys from the environment
    (the signing key is required: no default) and a checkpoint file on its own volume."""
    import re

    import yaml

    from gateway.audit.keys import require_production_keys
    from gateway.config import load_settings

    root = Path(__file__).parent.parent.parent
    gateway = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]["gateway"]
    environment = gateway["environment"]
    assert ":?" in environment["JAMAJAMA_AUDIT__SIGNING_KEY"]  # compose refuses to start without
    for key, value in environment.items():
        monkeypatch.setenv(key, re.sub(r"\$\{[^:}]+:[-?]([^}]*)\}", r"\1", str(value)))
    config = gateway["command"][gateway["command"].index("--config") + 1]
    settings = load_settings(root / config.removeprefix("/app/"))
    require_production_keys(settings.audit, settings.auth.enabled)  # does not raise
    checkpoints = settings.audit.checkpoint_file
    assert checkpoints is not None
    assert any(str(checkpoints).startswith(v.split(":")[1]) for v in gateway["volumes"]), (
        "the checkpoint file is on a volume of its own"
    )
