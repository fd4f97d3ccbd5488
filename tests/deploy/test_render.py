"""The kustomize folders render, and every rendered object is valid for the Kubernetes API."""

from __future__ import annotations

import pytest

from tests.deploy.k8s_schema import validate
from tests.deploy.render import find, manager_container

NAMESPACE = "litellm-operator-system"
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
CRD_NAMES = {
    "teams.auth.litellm.ai",
    "users.auth.litellm.ai",
    "virtualkeys.auth.litellm.ai",
    "teammemberassociations.auth.litellm.ai",
}


def kinds_and_names(objects):
    return {(obj["kind"], obj["metadata"]["name"]) for obj in objects}


@pytest.mark.parametrize("folder", ["rbac", "manager", "prometheus", "default", "namespaced"])
def test_rendered_objects_are_valid(render, folder):
    for obj in render(folder):
        errors = validate(obj)
        assert errors == [], f"{obj['kind']} {obj['metadata']['name']} in manifests/{folder}: {errors}"


def test_default_renders_all_objects(render):
    objects = render("default")

    assert kinds_and_names(objects) == {
        ("Namespace", NAMESPACE),
        *(("CustomResourceDefinition", name) for name in CRD_NAMES),
        ("ServiceAccount", "litellm-operator-controller-manager"),
        ("ClusterRole", "litellm-operator-manager-role"),
        ("ClusterRoleBinding", "litellm-operator-manager-rolebinding"),
        ("Role", "litellm-operator-leader-election-role"),
        ("RoleBinding", "litellm-operator-leader-election-rolebinding"),
        ("Service", "litellm-operator-controller-manager-metrics-service"),
        ("Deployment", "litellm-operator-controller-manager"),
    }


def test_default_places_objects_in_namespace(render):
    for obj in render("default"):
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in CLUSTER_SCOPED_KINDS:
            assert namespace is None, f"cluster-scoped {obj['kind']} has namespace {namespace}"
        else:
            assert namespace == NAMESPACE, f"{obj['kind']} {obj['metadata']['name']} is in {namespace}"


def test_default_keeps_image_placeholder(render):
    deployment = find(render("default"), "Deployment")

    assert manager_container(deployment)["image"] == "controller:latest"


def test_default_leaves_service_monitor_out(render):
    assert [obj for obj in render("default") if obj["kind"] == "ServiceMonitor"] == []


def test_namespaced_has_no_cluster_rbac(render):
    objects = render("namespaced")

    assert [obj for obj in objects if obj["kind"] in ("ClusterRole", "ClusterRoleBinding")] == []


def test_namespaced_keeps_other_objects(render):
    rbac_kinds = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    default_objects = {item for item in kinds_and_names(render("default")) if item[0] not in rbac_kinds}
    namespaced_objects = {item for item in kinds_and_names(render("namespaced")) if item[0] not in rbac_kinds}

    assert namespaced_objects == default_objects


def test_service_monitor_selects_metrics_service(render):
    monitor = find(render("prometheus"), "ServiceMonitor")
    service = find(render("manager"), "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]

    assert selector.items() <= service["metadata"]["labels"].items()
    assert [endpoint["port"] for endpoint in monitor["spec"]["endpoints"]] == ["metrics"]
    assert "metrics" in [port["name"] for port in service["spec"]["ports"]]
