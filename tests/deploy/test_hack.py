"""The kind tooling in hack/ is valid and follows the instanceRef convention."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.deploy.k8s_schema import validate
from tests.deploy.render import REPO_ROOT, find

HACK = REPO_ROOT / "hack"


@pytest.fixture(scope="module")
def litellm_objects():
    return [obj for obj in yaml.safe_load_all((HACK / "litellm-kind.yaml").read_text()) if obj]


def containers_of(workload):
    return {container["name"]: container for container in workload["spec"]["template"]["spec"]["containers"]}


def env_of(container):
    return {item["name"]: item for item in container["env"]}


def test_litellm_objects_are_valid(litellm_objects):
    for obj in litellm_objects:
        assert validate(obj) == [], f"{obj['kind']} {obj['metadata']['name']}"


def test_litellm_objects_have_no_namespace(litellm_objects):
    assert [obj["metadata"]["name"] for obj in litellm_objects if "namespace" in obj["metadata"]] == []


def test_master_key_secret_follows_instance_ref(litellm_objects):
    secret = find(litellm_objects, "Secret", "litellm-secrets")
    litellm = containers_of(find(litellm_objects, "Deployment", "litellm"))["litellm"]

    assert set(secret["stringData"]) == {"masterkey"}
    assert secret["stringData"]["masterkey"].startswith("sk-")
    assert env_of(litellm)["LITELLM_MASTER_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "litellm-secrets", "key": "masterkey"}
    }


def test_service_follows_instance_ref(litellm_objects):
    service = find(litellm_objects, "Service", "litellm-service")
    deployment = find(litellm_objects, "Deployment", "litellm")
    container = containers_of(deployment)["litellm"]
    container_ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert [(port["port"], port["targetPort"]) for port in service["spec"]["ports"]] == [(4000, "http")]
    assert container_ports == {"http": 4000}
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_litellm_image_is_pinned(litellm_objects):
    litellm = containers_of(find(litellm_objects, "Deployment", "litellm"))["litellm"]
    postgres = containers_of(find(litellm_objects, "StatefulSet", "litellm-postgres"))["postgres"]

    assert litellm["image"] == "ghcr.io/berriai/litellm:v1.108.7"
    assert postgres["image"] == "postgres:16"


def test_litellm_probes_use_health_endpoints(litellm_objects):
    litellm = containers_of(find(litellm_objects, "Deployment", "litellm"))["litellm"]

    assert litellm["startupProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert litellm["livenessProbe"]["httpGet"]["path"] == "/health/liveliness"
    assert litellm["readinessProbe"]["httpGet"]["path"] == "/health/readiness"


def test_database_url_reaches_postgres_service(litellm_objects):
    litellm = containers_of(find(litellm_objects, "Deployment", "litellm"))["litellm"]
    postgres_service = find(litellm_objects, "Service", "litellm-postgres")
    names = [item["name"] for item in litellm["env"]]
    port = postgres_service["spec"]["ports"][0]["port"]

    assert (
        env_of(litellm)["DATABASE_URL"]["value"]
        == f"postgresql://litellm:$(POSTGRES_PASSWORD)@litellm-postgres:{port}/litellm"
    )
    # The kubelet expands $(POSTGRES_PASSWORD) only from variables defined earlier in the list.
    assert names.index("POSTGRES_PASSWORD") < names.index("DATABASE_URL")


def test_kind_config_has_loopback_api_server():
    config = yaml.safe_load((HACK / "kind-config.yaml").read_text())

    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["kind"] == "Cluster"
    assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    assert [node["role"] for node in config["nodes"]] == ["control-plane"]


def test_kind_up_script_is_executable():
    script = HACK / "kind-up.sh"

    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, check=False).returncode == 0
