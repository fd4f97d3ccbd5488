"""The offline validator finds the mistakes it exists for."""

from __future__ import annotations

import copy

import pytest

from tests.deploy.k8s_schema import validate

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "example", "labels": {"app": "example"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "example"}},
        "template": {
            "metadata": {"labels": {"app": "example"}},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": "example:1",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                        "resources": {"limits": {"memory": "64Mi"}},
                    }
                ]
            },
        },
    },
}


def deployment_with(path, value):
    obj = copy.deepcopy(DEPLOYMENT)
    *parents, last = path
    target = obj
    for key in parents:
        target = target[key]
    target[last] = value
    return obj


def test_validator_accepts_valid_deployment():
    assert validate(DEPLOYMENT) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("spec", "replica"), 1, "Deployment.spec.replica: unknown field of V1DeploymentSpec"),
        (("spec", "replicas"), "1", "Deployment.spec.replicas: expected int, found str '1'"),
        (("spec", "replicas"), True, "Deployment.spec.replicas: expected int, found bool True"),
        (
            ("spec", "template", "spec", "containers"),
            {},
            "Deployment.spec.template.spec.containers: expected a list, found dict",
        ),
        (("metadata", "labels"), ["app"], "Deployment.metadata.labels: expected a map, found list"),
    ],
)
def test_validator_rejects_field(path, value, expected):
    assert validate(deployment_with(path, value)) == [expected]


def test_validator_rejects_missing_required_field():
    obj = copy.deepcopy(DEPLOYMENT)
    del obj["spec"]["template"]["spec"]["containers"][0]["name"]

    errors = validate(obj)

    assert errors == ["Deployment.spec.template.spec.containers[0]: Invalid value for `name`, must not be `None`"]


def test_validator_rejects_unknown_kind():
    errors = validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})

    assert errors == ["Widget example.com/v1: no model class known for this apiVersion and kind"]


def test_validator_rejects_service_monitor_typo():
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"endpoints": [{"port": "metrics", "intervall": "30s"}], "selector": {"matchLabels": {"a": "b"}}},
    }

    assert validate(monitor) == ["ServiceMonitor.spec.endpoints[0].intervall: unknown field"]
