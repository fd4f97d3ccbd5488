"""The Makefile targets run the commands they promise.

Targets that talk to a cluster run with KUBECTL and KIND pointing at recording stand-ins. The
stand-in kubectl passes `kubectl kustomize` to the real kubectl and saves what would have been
applied or deleted, so the whole pipeline runs without a cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.render import KUBECTL, MANIFESTS, REPO_ROOT, manager_container

MAKE = shutil.which("make")
TARGETS = [
    "help",
    "install-dev",
    "manifests",
    "test",
    "test-e2e",
    "lint",
    "run",
    "demo",
    "bench",
    "docker-build",
    "docker-push",
    "install",
    "uninstall",
    "deploy",
    "undeploy",
    "kind-up",
    "kind-down",
    "kind-load",
    "litellm-kind",
]

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "{log_dir}/kubectl.args"
if [ "$1" = kustomize ]; then exec "{real_kubectl}" "$@"; fi
if [ "${{*: -2}}" = "-f -" ]; then cat > "{log_dir}/kubectl.stdin"; fi
"""

FAKE_KIND = """#!/usr/bin/env bash
echo "$*" >> "{log_dir}/kind.args"
if [ "$1 $2" = "get clusters" ]; then printf '%s' "$KIND_EXISTING_CLUSTERS"; fi
"""


def make(*args, env=None, check=True):
    """Run make in the repository root without a terminal on stdin."""
    completed = subprocess.run(
        [MAKE, "--no-print-directory", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    if check:
        assert completed.returncode == 0, f"make {' '.join(args)} failed: {completed.stderr}"
    return completed


@pytest.fixture
def tools(tmp_path):
    """Write the recording kubectl and kind, and return the make variables that select them."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed; the stand-in passes `kubectl kustomize` to it")
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(log_dir=tmp_path, real_kubectl=KUBECTL))
    kind = tmp_path / "kind"
    kind.write_text(FAKE_KIND.format(log_dir=tmp_path))
    for path in (kubectl, kind):
        path.chmod(0o755)
    return [f"KUBECTL={kubectl}", f"KIND={kind}"]


def recorded_calls(tmp_path: Path, tool: str) -> list[str]:
    return (tmp_path / f"{tool}.args").read_text().splitlines()


def applied_objects(tmp_path: Path) -> list[dict]:
    return [obj for obj in yaml.safe_load_all((tmp_path / "kubectl.stdin").read_text()) if obj]


def crds_generated():
    if not (MANIFESTS / "crd" / "kustomization.yaml").exists():
        pytest.skip("manifests/crd/kustomization.yaml does not exist yet; `make manifests` writes it")


@pytest.mark.parametrize("target", TARGETS)
def test_help_lists_target(target):
    output = make("help").stdout

    assert re.search(rf"^  {re.escape(target)} +\S", output, re.MULTILINE), output


def test_every_target_has_help():
    makefile = (REPO_ROOT / "Makefile").read_text()
    phony = set(re.findall(r"^\.PHONY: (\S+)$", makefile, re.MULTILINE))
    documented = set(re.findall(r"^([a-zA-Z0-9_-]+):.*## ", makefile, re.MULTILINE))

    assert phony == documented


def test_dry_run_deploy_shows_image():
    output = make("-n", "deploy", "IMG=x").stdout

    assert (
        output.strip()
        == "kubectl kustomize manifests/default | sed 's|image: controller:latest|image: x|' | kubectl apply -f -"
    )


def test_deploy_applies_image(tmp_path, tools):
    crds_generated()

    make("deploy", "IMG=registry.invalid/litellm-operator:1.2.3", *tools)

    objects = applied_objects(tmp_path)
    deployment = next(obj for obj in objects if obj["kind"] == "Deployment")
    assert manager_container(deployment)["image"] == "registry.invalid/litellm-operator:1.2.3"
    assert len([obj for obj in objects if obj["kind"] == "CustomResourceDefinition"]) == 4
    # The stages of a pipeline run at the same time, so the log order varies.
    assert sorted(recorded_calls(tmp_path, "kubectl")) == ["apply -f -", "kustomize manifests/default"]


def test_deploy_namespaced_overlay(tmp_path, tools):
    crds_generated()

    make("deploy", "OVERLAY=namespaced", *tools)

    kinds = {obj["kind"] for obj in applied_objects(tmp_path)}
    assert "ClusterRole" not in kinds
    assert "Role" in kinds


def test_undeploy_keeps_crds(tmp_path, tools):
    crds_generated()

    make("undeploy", *tools)

    kinds = [obj["kind"] for obj in applied_objects(tmp_path)]
    assert "CustomResourceDefinition" not in kinds
    assert sorted(kinds) == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "Role",
            "ClusterRole",
            "RoleBinding",
            "ClusterRoleBinding",
            "Service",
            "Deployment",
        ]
    )
    assert sorted(recorded_calls(tmp_path, "kubectl")) == [
        "delete --ignore-not-found=false -f -",
        "kustomize manifests/default",
    ]


def test_install_applies_crds(tmp_path, tools):
    make("install", *tools)

    assert recorded_calls(tmp_path, "kubectl") == ["apply -k manifests/crd"]


def test_uninstall_deletes_crds(tmp_path, tools):
    make("uninstall", "IGNORE_NOT_FOUND=true", *tools)

    assert recorded_calls(tmp_path, "kubectl") == ["delete --ignore-not-found=true -k manifests/crd"]


def test_kind_up_creates_cluster(tmp_path, tools):
    make("kind-up", *tools, env={"KIND_EXISTING_CLUSTERS": ""})

    assert recorded_calls(tmp_path, "kind") == [
        "get clusters",
        f"create cluster --name litellm-operator --config {REPO_ROOT}/hack/kind-config.yaml --wait 180s",
    ]
    assert recorded_calls(tmp_path, "kubectl") == [
        f"--context kind-litellm-operator apply -k {REPO_ROOT}/manifests/crd"
    ]


def test_kind_up_reuses_cluster(tmp_path, tools):
    make("kind-up", "KIND_CLUSTER=dev", *tools, env={"KIND_EXISTING_CLUSTERS": "other\ndev\n"})

    assert recorded_calls(tmp_path, "kind") == ["get clusters"]
    assert recorded_calls(tmp_path, "kubectl") == [f"--context kind-dev apply -k {REPO_ROOT}/manifests/crd"]


def test_kind_load_and_down(tmp_path, tools):
    make("kind-load", "IMG=litellm-operator:test", *tools)
    make("kind-down", *tools)

    assert recorded_calls(tmp_path, "kind") == [
        "load docker-image litellm-operator:test --name litellm-operator",
        "delete cluster --name litellm-operator",
    ]


def test_litellm_kind_applies_to_kind_context(tmp_path, tools):
    make("litellm-kind", "LITELLM_NAMESPACE=team-a", *tools)

    assert recorded_calls(tmp_path, "kubectl") == [
        "--context kind-litellm-operator apply -n team-a -f hack/litellm-kind.yaml",
        "--context kind-litellm-operator -n team-a rollout status statefulset/litellm-postgres --timeout=300s",
        "--context kind-litellm-operator -n team-a rollout status deployment/litellm --timeout=600s",
    ]


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("docker-build", "docker build -t x ."),
        ("docker-push", "docker push x"),
        ("run", ".venv/bin/litellm-operator --log-level=debug"),
        ("demo", ".venv/bin/python -m litellm_operator.demo"),
        ("bench", ".venv/bin/python -m litellm_operator.bench"),
        ("lint", ".venv/bin/ruff check litellm_operator tests hack"),
        ("test-e2e", ".venv/bin/python -m pytest -m e2e"),
    ],
)
def test_dry_run_shows_command(target, command):
    # -o keeps make from reinstalling the virtualenv when pyproject.toml is newer.
    output = make("-n", "-o", ".venv/.installed", target, "IMG=x", "RUN_ARGS=--log-level=debug").stdout

    assert command in output.splitlines()[-1], output


def test_e2e_requires_litellm_settings():
    env = {name: value for name, value in os.environ.items() if name not in ("LITELLM_URL", "LITELLM_MASTER_KEY")}
    completed = subprocess.run(
        [MAKE, "--no-print-directory", "-o", ".venv/.installed", "test-e2e"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
        check=False,
    )

    assert completed.returncode != 0
    assert "LITELLM_URL and LITELLM_MASTER_KEY must name a running LiteLLM proxy" in completed.stderr
