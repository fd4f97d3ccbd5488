"""Render kustomize folders with `kubectl kustomize` (no cluster needed) and look up objects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = REPO_ROOT / "manifests"
KUBECTL = shutil.which("kubectl")


def render_kustomization(folder: Path) -> list[dict[str, Any]]:
    """Render a kustomize folder and return its objects. Skip the test when kubectl is missing."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed; `kubectl kustomize` renders the manifests")
    completed = subprocess.run(
        [KUBECTL, "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, f"kubectl kustomize {folder} failed: {completed.stderr}"
    return [obj for obj in yaml.safe_load_all(completed.stdout) if obj]


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """Return the only object of `kind` (and `name`) in `objects`."""
    matches = [obj for obj in objects if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]


def manager_container(deployment: dict[str, Any]) -> dict[str, Any]:
    """Return the container named manager of the operator's Deployment."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    matches = [container for container in containers if container["name"] == "manager"]
    assert len(matches) == 1, f"expected one container named manager, found {len(matches)}"
    return matches[0]
