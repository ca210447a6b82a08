"""deploy/: Kubernetes manifests validated offline against the schemas bundled with
`kubernetes-validate`, their cross-references, and the Dockerfile's paths."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from loadforge.cli import build_parser
from loadforge.scenario import PlanOptions, build_plan, load_scenario

kubernetes_validate = pytest.importorskip("kubernetes_validate")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.30"


def _resources() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


def _by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in _resources() if d["kind"] == kind}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _loadforge_argv(container: dict[str, Any]) -> list[str]:
    """The loadforge arguments a container runs (directly, or as the first sh -c command)."""
    if container.get("command", [])[:2] == ["sh", "-c"]:
        words = shlex.split(container["args"][0].split(";")[0])
        assert words[0] == "loadforge"
        return words[1:]
    return list(container["args"])


@pytest.mark.parametrize(
    ("file", "resource"), _resources(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_manifest_is_valid_kubernetes(file: str, resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    files = {p.name for p in (DEPLOY / "kubernetes").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_workers_dial_the_controller_service_with_the_secret_token() -> None:
    deployments, services = _by_kind("Deployment"), _by_kind("Service")
    secrets, configmaps = _by_kind("Secret"), _by_kind("ConfigMap")
    controller, workers = deployments["loadforge-controller"], deployments["loadforge-worker"]

    service = services["loadforge-controller"]
    pod_labels = controller["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    port = service["spec"]["ports"][0]
    ctl = _container(controller)
    assert port["targetPort"] in {p["name"] for p in ctl["ports"]}

    worker_args = build_parser().parse_args(_loadforge_argv(_container(workers)))
    assert worker_args.command == "worker"
    assert worker_args.controller == f"loadforge-controller:{port['port']}"

    ctl_args = build_parser().parse_args(_loadforge_argv(ctl))
    assert ctl_args.command == "controller"
    assert ctl_args.bind == f"0.0.0.0:{ctl['ports'][0]['containerPort']}"

    for container in (ctl, _container(workers)):
        ref = container["env"][0]["valueFrom"]["secretKeyRef"]
        assert container["env"][0]["name"] == "LOADFORGE_TOKEN"
        assert ref["key"] in secrets[ref["name"]]["stringData"]

    volumes = {v["name"]: v for v in controller["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in ctl["volumeMounts"]}
    scenario_dir = str(Path(ctl_args.scenario[0]).parent)  # FILE [Class ...]
    configmap = volumes[mounts[scenario_dir]]["configMap"]["name"]
    assert Path(ctl_args.scenario[0]).name in configmaps[configmap]["data"]


def test_configmap_scenario_loads_and_plans(tmp_path: Path) -> None:
    source = _by_kind("ConfigMap")["loadforge-scenario"]["data"]["scenario.py"]
    path = tmp_path / "scenario.py"
    path.write_text(source)
    plan = build_plan(load_scenario(str(path)), PlanOptions(users=2, host="http://demo:8000"))
    assert plan.engine.users


def test_dockerfile_is_multi_stage_and_copies_paths_that_exist() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in lines if line.upper().startswith("FROM ")]
    assert len(stages) >= 2 and " AS " in stages[0].upper()
    assert "maturin build" in "\n".join(lines)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for line in lines:
        words = line.split()
        if words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in words[1:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
            assert source.rstrip("/") + "/" not in ignored, f"{source} is in .dockerignore"
    assert lines[-2] == 'ENTRYPOINT ["loadforge"]'
