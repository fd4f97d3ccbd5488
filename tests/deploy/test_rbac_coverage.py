"""The RBAC rules grant exactly what the running operator uses: no missing verb, no unused grant.

One module-scoped run of the whole operator (leader election on, API server double, LiteLLM
fake) goes through create, update and delete of every kind that has a reconciler, a repeated
Warning Event, key Secrets and the leader Lease. The API server double logs each request with
its RBAC verb. The operator's requests give the (API group, resource[/subresource], verb)
triples it needs, which the tests compare with manifests/rbac.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.deploy.operator_scenario import (
    CONTROLLER_MODULES,
    OPERATOR_NAMESPACE,
    WATCHED_NAMESPACE,
    Permission,
    ScenarioResult,
    permissions_used,
    run_scenario,
)
from tests.deploy.rbac import Rule, granted, leader_election_rules, manager_rules
from tests.deploy.render import find

GROUP = "auth.litellm.ai"
LEASE_GROUP = "coordination.k8s.io"
# Secret verbs that only key Secrets (of a User or a VirtualKey) need. List and watch serve the
# connection Secrets too.
KEY_SECRET_VERBS = {"create", "get", "update", "patch", "delete"}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> ScenarioResult:
    # A plain event loop for the module: the run takes a few seconds and every test reads it.
    return asyncio.run(run_scenario(tmp_path_factory.mktemp("rbac-coverage")))


@pytest.fixture(scope="module")
def used(scenario: ScenarioResult) -> dict[Permission, str]:
    """Every permission the operator needed, with one request that needed it."""
    permissions = permissions_used(scenario.operator_requests)
    # The API server's OwnerReferencesPermissionEnforcement admission checks `update` on the
    # owner's finalizers subresource when a written object sets blockOwnerDeletion. No request
    # goes to that URL, so the owner references of the Secrets stand in for it.
    for group, plural in sorted(scenario.blocking_owners):
        permissions.setdefault((group, f"{plural}/finalizers", "update"), f"blockOwnerDeletion on a {plural} owner")
    return permissions


def describe(permission: Permission) -> str:
    group, resource, verb = permission
    return f"{verb} on {resource} in API group {group or 'core'!r}"


def expected_unused(skipped_kinds: dict[str, str]) -> set[Permission]:
    """Return the grants that belong to kinds whose reconciler does not exist yet."""
    skipped = set(skipped_kinds)
    grants = granted(manager_rules())
    unused = {grant for grant in grants if grant[0] == GROUP and grant[1].split("/")[0] in skipped}
    if {"users", "virtualkeys"} <= skipped:
        unused |= {grant for grant in grants if grant[:2] == ("", "secrets") and grant[2] in KEY_SECRET_VERBS}
    return unused


def is_lease(permission: Permission) -> bool:
    return permission[:2] == (LEASE_GROUP, "leases")


def test_operator_made_requests(scenario):
    assert scenario.operator_requests, "the request log contains no request with the operator's user agent"


def test_used_manager_verbs_are_granted(used):
    grants = granted(manager_rules())
    missing = [
        f"{describe(permission)} (needed by {example})"
        for permission, example in sorted(used.items())
        if not is_lease(permission) and permission not in grants
    ]

    assert missing == [], "manifests/rbac/role.yaml lacks: " + "; ".join(missing)


def test_used_lease_verbs_are_granted(used):
    grants = granted(leader_election_rules())
    missing = [
        f"{describe(permission)} (needed by {example})"
        for permission, example in sorted(used.items())
        if is_lease(permission) and permission not in grants
    ]

    assert missing == [], "manifests/rbac/leader_election_role.yaml lacks: " + "; ".join(missing)


def test_granted_manager_verbs_are_used(used, scenario):
    unused = granted(manager_rules()) - set(used) - expected_unused(scenario.skipped_kinds)

    assert not unused, "manifests/rbac/role.yaml grants what the operator never used: " + "; ".join(
        sorted(map(describe, unused))
    )


def test_granted_lease_verbs_are_used(used):
    unused = granted(leader_election_rules()) - set(used)

    assert not unused, "manifests/rbac/leader_election_role.yaml grants what the operator never used: " + "; ".join(
        sorted(map(describe, unused))
    )


def test_requests_stay_in_their_namespaces(scenario):
    # A Role binds in one namespace only, so the namespaced install works only if every request
    # of a reconciler names the watched namespace and every Lease request the operator's own.
    outside = [
        f"{record.method} {record.path}"
        for record in scenario.operator_requests
        if record.resource is not None
        and record.namespace != (OPERATOR_NAMESPACE if record.resource == "leases" else WATCHED_NAMESPACE)
    ]

    assert outside == []


def test_namespaced_role_covers_used_verbs(render, used):
    role = find(render("namespaced"), "Role", "litellm-operator-manager-role")
    rules = [
        Rule(tuple(rule.get("apiGroups", ())), tuple(rule["resources"]), tuple(rule["verbs"]), role["kind"])
        for rule in role["rules"]
    ]
    missing = [describe(permission) for permission in sorted(used) if not is_lease(permission) and permission not in granted(rules)]

    assert missing == [], "the namespaced overlay's Role lacks: " + "; ".join(missing)
    assert granted(rules) == granted(manager_rules())


@pytest.mark.parametrize("plural", ["teams", *CONTROLLER_MODULES])
def test_kind_exercised(scenario, used, plural):
    if plural in scenario.skipped_kinds:
        pytest.skip(scenario.skipped_kinds[plural])

    assert (GROUP, plural, "watch") in used
    assert (GROUP, f"{plural}/status", "patch") in used


def test_events_written_and_aggregated(used):
    assert ("", "events", "create") in used
    assert ("", "events", "patch") in used


def test_lease_taken_and_renewed(used):
    assert (LEASE_GROUP, "leases", "create") in used
    assert (LEASE_GROUP, "leases", "update") in used
