"""deploy/k8s validates offline: `kubectl kustomize` builds it, every object is valid against the
Kubernetes schemas (kubernetes-validate, strict), and it says what docs/deployment.md promises.

No cluster is needed. The pods' commands parse with the CLI, and the configuration they read
(the ConfigMap plus the JAMAJAMA_* variables from the Secret) loads with the gateway's loader and
passes the production profile's key checks.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.audit.keys import require_production_keys
from gateway.auth.identifiers import require_identifier_key
from gateway.cli import build_parser
from gateway.config import load_settings

ROOT = Path(__file__).parent.parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"
SECRET_KEYS = {
    line.split("=", 1)[0]
    for line in (K8S / "secrets.env.example").read_text().splitlines()
    if line and not line.startswith("#")
}

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


def _build() -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return _build()


def _one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def _containers(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (o["metadata"]["name"], c)
        for o in objects
        if o["kind"] in ("Deployment", "Job")
        for c in o["spec"]["template"]["spec"]["containers"]
    ]


def test_every_object_is_valid_against_the_kubernetes_schemas(
    objects: list[dict[str, Any]],
) -> None:
    assert len(objects) >= 20
    for obj in objects:
        assert obj["metadata"].get("namespace") == "jamajama" or obj["kind"] == "Namespace"
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_an_unknown_field(objects: list[dict[str, Any]]) -> None:
    gateway = _one(objects, "Deployment", "gateway")
    broken = {**gateway, "spec": {**gateway["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_probes_follow_ready_and_health(objects: list[dict[str, Any]]) -> None:
    for name, container in _containers(objects):
        if container["name"] in ("migrate", "publish"):
            continue
        ready = container["readinessProbe"]["httpGet"]["path"]
        live = container["livenessProbe"]["httpGet"]["path"]
        if name == "gateway":
            assert (ready, live) == ("/ready", "/health")
        elif name == "registry":
            assert (ready, live) == ("/healthz", "/healthz")
        else:
            assert (ready, live) == ("/health", "/health"), name


def test_gateways_scale_on_cpu_and_survive_a_drain(objects: list[dict[str, Any]]) -> None:
    hpa = _one(objects, "HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    pdb = _one(objects, "PodDisruptionBudget", "gateway")
    labels = _one(objects, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] >= 1
    # the HPA scales on CPU utilisation: it needs a CPU request
    (container,) = _one(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"]


def test_subgraphs_accept_traffic_only_from_gateways(objects: list[dict[str, Any]]) -> None:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny and "ingress" not in deny[0]["spec"]  # closed by default
    subgraph_policies = [
        p
        for p in policies
        if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        == "subgraph"
    ]
    assert len(subgraph_policies) == 1
    sources = [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in subgraph_policies[0]["spec"]["ingress"]
        for peer in rule["from"]
    ]
    assert sorted(sources) == ["gateway", "publish"]  # publish: the bootstrap Job reads the SDL
    subgraphs = [
        o
        for o in objects
        if o["kind"] == "Deployment"
        and o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "subgraph"
    ]
    assert len(subgraphs) == 5


def test_no_secret_value_is_committed(objects: list[dict[str, Any]]) -> None:
    assert not [o for o in objects if o["kind"] == "Secret"]
    assert (K8S / ".gitignore").read_text().split() == ["secrets.env"]
    used = set()
    for _, container in _containers(objects):
        for env in container.get("env", []):
            assert "value" not in env or not env["name"].endswith(("KEY", "SECRET", "TOKEN"))
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] == "jamajama-secrets"
                used.add(ref["key"])
    assert used == SECRET_KEYS  # secrets.env.example documents exactly what the pods read


def test_migration_job_runs_jamajama_migrate(objects: list[dict[str, Any]]) -> None:
    (container,) = _one(objects, "Job", "migrate")["spec"]["template"]["spec"]["containers"]
    assert container["command"][:2] == ["jamajama", "migrate"]
    externals = {
        o["metadata"]["name"]: o["spec"].get("type") for o in objects if o["kind"] == "Service"
    }
    assert externals["postgres"] == externals["redis"] == "ExternalName"


@pytest.mark.parametrize("workload", ["gateway", "registry", "migrate", "publish-bootstrap"])
def test_commands_parse_and_configuration_loads(
    objects: list[dict[str, Any]], workload: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kind = "Job" if workload in ("migrate", "publish-bootstrap") else "Deployment"
    (container,) = _one(objects, kind, workload)["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[0] == "jamajama"
    build_parser(command[1:]).parse_args(command[1:])
    if "--config" not in command:
        return
    for env in container.get("env", []):
        monkeypatch.setenv(
            env["name"], f"test-{env['valueFrom']['secretKeyRef']['key']}-" + "0123456789" * 4
        )
    for env in container.get("env", []):
        if env["valueFrom"]["secretKeyRef"]["key"] == "database-url":
            monkeypatch.setenv(env["name"], "postgresql://jamajama:pw@postgres:5432/jamajama")
        if env["valueFrom"]["secretKeyRef"]["key"] == "redis-url":
            monkeypatch.setenv(env["name"], "redis://:pw@redis:6379/0")
    config = command[command.index("--config") + 1]
    settings = load_settings(K8S / "config" / Path(config).name)
    if workload == "gateway":
        require_production_keys(settings.audit, settings.auth.enabled)
        require_identifier_key(settings.auth.identifiers)
        assert settings.audit.backend == "postgres" and settings.audit.checkpoint_file
        assert settings.rate_limit.backend == settings.persisted_queries.backend == "redis"
        assert settings.registry_poll.url == "http://registry:4100"
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert str(Path(settings.audit.checkpoint_file).parent) in mounts
