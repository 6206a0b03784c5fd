"""``jamajama migrate``: the explicit step, with the servers' configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.config import AuditSection
from gateway.audit.log import open_audit_log
from gateway.auth.applications import create_registry
from gateway.auth.config import ApplicationsSection
from gateway.cli import main
from gateway.migrations.runner import SchemaOutdatedError
from gateway.registry.store import RegistryStore
from tests.migrations.conftest import POSTGRES_URL, pg_connect, pg_url
from tests.migrations.test_audit import TABLE, old_postgres_ddl

SUBJECT_KEY = "k" * 32


def sqlite_config(tmp_path: Path) -> Path:
    config = tmp_path / "jamajama.toml"
    config.write_text(
        f'[audit]\nsqlite_path = "{tmp_path / "audit.sqlite3"}"\n'
        f'[auth.applications]\nsqlite_path = "{tmp_path / "apps.sqlite3"}"\n'
        f'[registry]\ndatabase = "{tmp_path / "registry.sqlite3"}"\n'
    )
    return config


def test_embedded_stores_migrate_on_request_and_report_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(sqlite_config(tmp_path))
    assert main(["migrate", "--config", config]) == 0
    out = capsys.readouterr().out
    assert out.count("not created yet") == 3 and not (tmp_path / "audit.sqlite3").exists()
    assert main(["migrate", "--store", "audit", "--config", config]) == 0
    assert "audit (SQLite" in (out := capsys.readouterr().out) and "0 -> 2" in out
    assert main(["migrate", "--store", "audit", "--config", config]) == 0
    assert "at version 2, nothing to do" in capsys.readouterr().out
    assert main(["migrate", "--status", "--config", config]) == 0
    assert "audit (SQLite" in (out := capsys.readouterr().out) and "version 2 of 2" in out


def test_bad_configuration_and_unreachable_databases_exit_2_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[audit]\nbackend = "postgres"\n')
    assert main(["migrate", "--config", str(config)]) == 2
    assert "audit.postgres_url is required" in capsys.readouterr().err
    config.write_text(
        '[audit]\nbackend = "postgres"\n'
        'postgres_url = "postgresql://postgres:rahasia@127.0.0.1:1/test?connect_timeout=1"\n'
    )
    assert main(["migrate", "--store", "audit", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "audit (PostgreSQL 127.0.0.1:1/test)" in err and "rahasia" not in err


@pytest.mark.postgres
def test_a_cluster_migrates_once_explicitly_then_starts(
    tmp_path: Path, pg_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pg_connect(pg_schema) as conn:  # an audit log written by today's code
        for statement in old_postgres_ddl(TABLE):
            conn.execute(statement)
    url = pg_url(pg_schema)
    config = tmp_path / "cluster.toml"
    config.write_text(
        f'[audit]\nbackend = "postgres"\npostgres_url = "{url}"\nsubject_key = "{SUBJECT_KEY}"\n'
        f'signing_key = "{SUBJECT_KEY}"\ncheckpoint_file = "{tmp_path / "checkpoints.jsonl"}"\n'
        f'[auth.identifiers]\nkey = "{"i" * 32}"\n'
        f'[auth.applications]\nbackend = "postgres"\npostgres_url = "{url}"\n'
        f'[registry]\ndatabase_url = "{POSTGRES_URL}"\ndatabase_schema = "{pg_schema}"\n'
    )
    audit = AuditSection(backend="postgres", postgres_url=url, subject_key=SUBJECT_KEY)
    apps = ApplicationsSection(backend="postgres", postgres_url=url)
    with pytest.raises(SchemaOutdatedError):
        open_audit_log(audit)
    with pytest.raises(SchemaOutdatedError):
        RegistryStore.postgres(POSTGRES_URL, pg_schema)
    # the servers refuse to start, naming the command
    supergraph = str(Path(__file__).parent.parent.parent / "schema" / "supergraph.graphql")
    gateway_args = ["--supergraph", supergraph, "--port", "0", "--config", str(config)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAMAJAMA_AUTH__JWT__SECRET", "s" * 40)
        assert main(["gateway", *gateway_args]) == 1
    assert "run `jamajama migrate --store audit`" in capsys.readouterr().err
    assert main(["registry", "serve", "--port", "0", "--config", str(config)]) == 2
    assert "run `jamajama migrate --store registry`" in capsys.readouterr().err
    assert main(["migrate", "--status", "--config", str(config)]) == 1
    assert capsys.readouterr().out.count("(behind)") == 3
    assert main(["migrate", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "audit (PostgreSQL 127.0.0.1:5432/test): version 0 -> 2" in out
    assert f"registry (PostgreSQL 127.0.0.1:5432/test schema {pg_schema}): version 0 -> 3" in out
    assert main(["migrate", "--status", "--config", str(config)]) == 0
    # the replicas now start
    RegistryStore.postgres(POSTGRES_URL, pg_schema).close()
    assert open_audit_log(audit).store is not None
    assert create_registry(apps) is not None


def test_the_container_stack_migrates_before_its_servers_start() -> None:
    """docker-compose.yml: one migrate step (all stores, PostgreSQL), which the registry and the
    gateways wait for; the step itself does not restart."""
    import yaml

    from gateway.config import load_settings
    from gateway.migrations.cli import targets

    root = Path(__file__).parent.parent.parent
    services = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]
    migrate = services["migrate"]
    assert migrate["command"][:2] == ["jamajama", "migrate"] and migrate["restart"] == "no"
    for server in ("registry", "gateway"):
        assert services[server]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    config = root / migrate["command"][migrate["command"].index("--config") + 1][5:]
    env = {
        "JAMAJAMA_REGISTRY__DATABASE_URL": migrate["environment"]["JAMAJAMA_REGISTRY__DATABASE_URL"]
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        chosen = targets(load_settings(config), None)
    assert [(t.plan.store, t.sqlite_path) for t in chosen] == [
        ("audit", None),
        ("applications", None),
        ("registry", None),
    ]
