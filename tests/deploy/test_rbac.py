"""The operator's RBAC grants exactly the verbs it needs, in both install modes."""

from __future__ import annotations

import shutil

import pytest

from tests.deploy.rbac import (
    allows,
    granted,
    leader_election_rules,
    load_rules,
    manager_rules,
    request_verb,
)
from tests.deploy.render import MANIFESTS, find, manager_container, render_kustomization

KINDS = ("teams", "users", "virtualkeys", "teammemberassociations")
GROUP = "auth.litellm.ai"

EXPECTED_MANAGER_GRANTS = (
    {(GROUP, plural, verb) for plural in KINDS for verb in ("list", "watch", "patch")}
    | {(GROUP, f"{plural}/status", "patch") for plural in KINDS}
    | {(GROUP, f"{plural}/finalizers", "update") for plural in ("users", "virtualkeys")}
    | {("", "secrets", verb) for verb in ("get", "list", "watch", "create", "patch", "delete")}
    | {("", "events", verb) for verb in ("create", "patch")}
)
EXPECTED_LEADER_ELECTION_GRANTS = {("coordination.k8s.io", "leases", verb) for verb in ("get", "create", "update")}


def rules_of(role):
    return [
        (tuple(rule.get("apiGroups", ())), tuple(rule["resources"]), tuple(rule["verbs"])) for rule in role["rules"]
    ]


def test_manager_rules_match_expected_grants():
    assert granted(manager_rules()) == EXPECTED_MANAGER_GRANTS


def test_leader_election_rules_match_expected_grants():
    rules = leader_election_rules()

    assert granted(rules) == EXPECTED_LEADER_ELECTION_GRANTS
    assert {rule.role_kind for rule in rules} == {"Role"}


def test_rules_have_no_wildcards_or_names():
    for rule in load_rules():
        assert "*" not in rule.api_groups + rule.resources + rule.verbs, rule


def test_rules_grant_nothing_on_namespaces():
    assert [item for item in granted(load_rules()) if item[1] == "namespaces"] == []


@pytest.mark.parametrize(
    ("method", "name", "watch", "verb"),
    [
        ("GET", "team-a", False, "get"),
        ("GET", None, False, "list"),
        ("GET", None, True, "watch"),
        ("POST", None, False, "create"),
        ("PUT", "team-a", False, "update"),
        ("PATCH", "team-a", False, "patch"),
        ("DELETE", "team-a", False, "delete"),
        ("DELETE", None, False, "deletecollection"),
    ],
)
def test_request_verb_maps_method(method, name, watch, verb):
    assert request_verb(method, name=name, watch=watch) == verb


def test_request_verb_rejects_unknown_method():
    with pytest.raises(ValueError, match="HEAD"):
        request_verb("HEAD")


def test_allows_checks_subresource():
    rules = load_rules()

    assert allows(rules, group=GROUP, resource="teams", subresource="status", verb="patch")
    assert not allows(rules, group=GROUP, resource="teams", subresource="status", verb="create")
    assert not allows(rules, group=GROUP, resource="teams", verb="create")
    assert allows(rules, group="", resource="secrets", verb="delete")


def test_default_binds_cluster_role_to_service_account(render):
    objects = render("default")
    account = find(objects, "ServiceAccount")
    role = find(objects, "ClusterRole")
    binding = find(objects, "ClusterRoleBinding")

    assert rules_of(role) == [(rule.api_groups, rule.resources, rule.verbs) for rule in manager_rules()]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]


@pytest.mark.parametrize("folder", ["default", "namespaced"])
def test_leader_election_role_is_in_operator_namespace(render, folder):
    objects = render(folder)
    account = find(objects, "ServiceAccount")
    role = find(objects, "Role", "litellm-operator-leader-election-role")
    binding = find(objects, "RoleBinding", "litellm-operator-leader-election-rolebinding")

    assert role["metadata"]["namespace"] == account["metadata"]["namespace"]
    assert binding["metadata"]["namespace"] == account["metadata"]["namespace"]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]


def test_namespaced_role_has_manager_rules(render):
    role = find(render("namespaced"), "Role", "litellm-operator-manager-role")

    assert rules_of(role) == [(rule.api_groups, rule.resources, rule.verbs) for rule in manager_rules()]


def test_namespaced_binding_matches_watched_namespace(render):
    objects = render("namespaced")
    account = find(objects, "ServiceAccount")
    role = find(objects, "Role", "litellm-operator-manager-role")
    binding = find(objects, "RoleBinding", "litellm-operator-manager-rolebinding")
    args = manager_container(find(objects, "Deployment"))["args"]
    watched = role["metadata"]["namespace"]

    assert watched == "default"
    assert binding["metadata"]["namespace"] == watched
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]
    assert [arg for arg in args if arg.startswith("--namespace")] == [f"--namespace={watched}"]


def test_namespaced_follows_edited_namespace(render, tmp_path):
    render("namespaced")  # skips while the CRDs are not generated
    copy = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, copy)
    patch = copy / "namespaced" / "manager_role_patch.yaml"
    patch.write_text(patch.read_text().replace("value: default", "value: team-a"))

    objects = render_kustomization(copy / "namespaced")

    assert find(objects, "Role", "litellm-operator-manager-role")["metadata"]["namespace"] == "team-a"
    assert find(objects, "RoleBinding", "litellm-operator-manager-rolebinding")["metadata"]["namespace"] == "team-a"
    assert "--namespace=team-a" in manager_container(find(objects, "Deployment"))["args"]
