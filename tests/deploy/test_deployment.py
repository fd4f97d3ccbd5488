"""The operator's Deployment runs hardened, with the flags, probes and ports the operator expects."""

from __future__ import annotations

import pytest

from tests.deploy.render import find, manager_container


@pytest.fixture
def deployment(render):
    return find(render("manager"), "Deployment")


@pytest.fixture
def container(deployment):
    return manager_container(deployment)


def expand_env_references(arg, env):
    """Expand $(NAME) the way the kubelet does for container args."""
    for name, value in env.items():
        arg = arg.replace(f"$({name})", value)
    return arg


def test_args_enable_leader_election_and_endpoints(container):
    assert container["args"] == [
        "--leader-elect",
        "--leader-election-namespace=$(POD_NAMESPACE)",
        "--metrics-bind-address=:8080",
        "--health-probe-bind-address=:8081",
    ]


def test_args_parse_with_operator_cli(container):
    cli = pytest.importorskip("litellm_operator.cli")
    args = [expand_env_references(arg, {"POD_NAMESPACE": "litellm-operator-system"}) for arg in container["args"]]

    options = cli.parse_options(args, environ={})

    assert options.leader_elect is True
    assert options.leader_election_namespace == "litellm-operator-system"
    assert options.metrics_bind_address == ":8080"
    assert options.health_probe_bind_address == ":8081"
    assert options.namespaces == ()


def test_namespaced_args_parse_with_operator_cli(render):
    cli = pytest.importorskip("litellm_operator.cli")
    container = manager_container(find(render("namespaced"), "Deployment"))
    args = [expand_env_references(arg, {"POD_NAMESPACE": "litellm-operator-system"}) for arg in container["args"]]

    options = cli.parse_options(args, environ={})

    assert options.namespaces == ("default",)


def test_pod_namespace_comes_from_downward_api(container):
    assert {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} in container["env"]


def test_probes_use_health_port(container):
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert ports == {"metrics": 8080, "health": 8081}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}


def test_resources_have_requests_and_limits(container):
    resources = container["resources"]

    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_pod_runs_as_non_root(deployment):
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]

    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == 65532
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}


def test_container_is_locked_down(container):
    security = container["securityContext"]

    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in security


def test_tmp_is_writable_volume(deployment, container):
    volumes = {volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]}

    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert "emptyDir" in volumes["tmp"]


def test_grace_period_covers_shutdown_timeout(deployment):
    manager = pytest.importorskip("litellm_operator.runtime.manager")
    grace_period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]

    assert grace_period > manager.DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT


def test_service_account_exists(render):
    objects = render("default")
    deployment = find(objects, "Deployment")
    account = find(objects, "ServiceAccount")

    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]


def test_metrics_service_targets_pods(render, deployment):
    service = find(render("manager"), "Service")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8080, "protocol": "TCP", "targetPort": "metrics"}]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
