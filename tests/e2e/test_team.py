"""Team custom resources against a LiteLLM proxy, through the whole operator.

Every test here passes on the LiteLLM fake and on the real proxy (LITELLM_URL and
LITELLM_MASTER_KEY set). Aliases include the test's random namespace because the real proxy's
database is shared between runs.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from litellm_operator import api
from litellm_operator.controllers.base import DELETION_POLICY_ANNOTATION, FINALIZER
from litellm_operator.controllers.secretprotection import IN_USE_FINALIZER
from litellm_operator.litellm import models
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import SECRETS, NotFound
from litellm_operator.testing.cluster import Cluster

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually, secret_body

SAMPLE_TEAM = Path(__file__).resolve().parents[2] / "manifests" / "samples" / "team.yaml"


def team_body(name: str, alias: str, *, secret: str = CONNECTION_SECRET, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Team",
        "metadata": {"name": name},
        "spec": {"connectionRef": {"secretRef": {"name": secret}}, "teamAlias": alias, **spec},
    }


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return item
    return None


async def ready_team(cluster: Cluster, name: str, generation: int | None = None) -> dict[str, Any]:
    """Wait until the Team is Ready for `generation` (default: its current one) and return it."""

    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAMS, cluster.namespace, name)
        status = obj.get("status") or {}
        wanted = generation or obj["metadata"]["generation"]
        ready = condition(obj, "Ready")
        return obj if ready and ready["status"] == "True" and status.get("observedGeneration") == wanted else None

    return await eventually(check, what=f"Team {name} Ready")


async def team_condition(cluster: Cluster, name: str, type_: str, reason: str) -> dict[str, Any]:
    """Wait until the Team has condition `type_` with status True or reason `reason`."""

    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAMS, cluster.namespace, name)
        found = condition(obj, type_)
        return obj if found and found["reason"] == reason else None

    return await eventually(check, what=f"Team {name} condition {type_} reason {reason}")


async def team_removed(cluster: Cluster, name: str) -> None:
    async def removed() -> bool:
        try:
            await cluster.client.get(api.TEAMS, cluster.namespace, name)
        except NotFound:
            return True
        return False

    await eventually(removed, what=f"Team {name} removed")


async def patch_spec(cluster: Cluster, name: str, spec: dict[str, Any]) -> int:
    """Merge-patch the Team's spec (None removes a field) and return the new generation."""
    obj = await cluster.client.patch(api.TEAMS, cluster.namespace, name, {"spec": spec})
    return obj["metadata"]["generation"]


async def point_secret_at(cluster: Cluster, name: str, url: str, master_key: str) -> None:
    body = secret_body(name, {"masterKey": master_key, "url": url})
    await cluster.client.patch(SECRETS, cluster.namespace, name, {"data": body["data"]})


def closed_port_url() -> str:
    """Return a loopback URL on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_sample_team_created(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = yaml.safe_load(SAMPLE_TEAM.read_text())
    alias = f"{cluster.namespace}-example"
    body["spec"]["teamAlias"] = alias
    assert body["spec"]["connectionRef"]["secretRef"]["name"] == CONNECTION_SECRET
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await ready_team(cluster, "example-team")
    status = obj["status"]
    assert status["teamID"] == obj["metadata"]["uid"]
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert condition(obj, "Ready")["status"] == "True"
    assert condition(obj, "Degraded")["status"] == "False"
    assert FINALIZER in obj["metadata"]["finalizers"]

    team = (await litellm.client.team_info(status["teamID"])).team_info
    assert team.team_alias == alias
    assert team.models == ["fake-model"]
    assert team.max_budget == 100
    assert team.budget_duration == "30d"
    assert team.budget_reset_at
    assert team.rpm_limit == 60
    assert team.tpm_limit == 100000
    assert team.metadata["owner"] == "platform-team"
    assert not team.blocked
    assert status["maxBudget"] == "100"
    assert status["teamAlias"] == alias
    assert status["models"] == ["fake-model"]


async def test_team_created(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body(
        "alpha",
        f"{cluster.namespace}-alpha",
        models=["fake-model"],
        maxBudget="10.5",
        budgetDuration="30d",
        rpmLimit=100,
        tpmLimit=1000,
        metadata={"owner": "platform"},
        teamMemberPermissions=["/key/generate"],
        modelAliases={"short": "fake-model"},
        blocked=True,
    )
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await ready_team(cluster, "alpha")
    status = obj["status"]
    team = (await litellm.client.team_info(status["teamID"])).team_info
    assert team.team_alias == f"{cluster.namespace}-alpha"
    assert team.models == ["fake-model"]
    assert team.max_budget == 10.5
    assert team.budget_duration == "30d"
    assert team.rpm_limit == 100
    assert team.tpm_limit == 1000
    assert team.metadata["owner"] == "platform"
    assert team.team_member_permissions == ["/key/generate"]
    assert team.model_aliases == {"short": "fake-model"}
    assert team.blocked is True
    assert status["maxBudget"] == "10.5"
    assert status["blocked"] is True


async def test_team_spec_edits_pushed(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body(
        "edited",
        f"{cluster.namespace}-edited",
        models=["fake-model"],
        maxBudget="10",
        budgetDuration="30d",
        rpmLimit=10,
        tpmLimit=100,
        metadata={"owner": "platform"},
        teamMemberPermissions=["/key/generate"],
        modelAliases={"short": "fake-model"},
    )
    await cluster.client.create(api.TEAMS, cluster.namespace, body)
    team_id = (await ready_team(cluster, "edited"))["status"]["teamID"]

    generation = await patch_spec(
        cluster,
        "edited",
        {
            "teamAlias": f"{cluster.namespace}-renamed",
            "models": ["fake-model", "other-model"],
            "maxBudget": "20.25",
            "budgetDuration": "7d",
            "rpmLimit": 20,
            "tpmLimit": 200,
            "metadata": {"owner": "data", "cost-center": "42"},
            "teamMemberPermissions": ["/key/generate", "/key/update"],
            # A merge patch merges maps, so the old alias is removed explicitly.
            "modelAliases": {"short": None, "long": "other-model"},
            "blocked": True,
        },
    )
    obj = await ready_team(cluster, "edited", generation)

    team = (await litellm.client.team_info(team_id)).team_info
    assert team.team_alias == f"{cluster.namespace}-renamed"
    assert sorted(team.models) == ["fake-model", "other-model"]
    assert team.max_budget == 20.25
    assert team.budget_duration == "7d"
    assert team.rpm_limit == 20
    assert team.tpm_limit == 200
    assert team.metadata["owner"] == "data"
    assert team.metadata["cost-center"] == "42"
    assert sorted(team.team_member_permissions or []) == ["/key/generate", "/key/update"]
    assert team.model_aliases == {"long": "other-model"}
    assert team.blocked is True
    assert obj["status"]["maxBudget"] == "20.25"
    assert obj["status"]["blocked"] is True

    generation = await patch_spec(cluster, "edited", {"blocked": False})
    await ready_team(cluster, "edited", generation)
    assert not (await litellm.client.team_info(team_id)).team_info.blocked


async def test_team_removed_fields_cleared(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body(
        "cleared",
        f"{cluster.namespace}-cleared",
        models=["fake-model"],
        maxBudget="10",
        budgetDuration="30d",
        rpmLimit=10,
        tpmLimit=100,
        metadata={"owner": "platform"},
        teamMemberPermissions=["/key/generate"],
        modelAliases={"short": "fake-model"},
        blocked=True,
    )
    await cluster.client.create(api.TEAMS, cluster.namespace, body)
    team_id = (await ready_team(cluster, "cleared"))["status"]["teamID"]

    removed = ("models", "maxBudget", "budgetDuration", "rpmLimit", "tpmLimit", "metadata",
               "teamMemberPermissions", "modelAliases", "blocked")
    generation = await patch_spec(cluster, "cleared", dict.fromkeys(removed))
    obj = await ready_team(cluster, "cleared", generation)

    team = (await litellm.client.team_info(team_id)).team_info
    assert team.models == []
    assert team.max_budget is None
    assert team.budget_duration is None
    assert team.budget_reset_at is None
    assert team.rpm_limit is None
    assert team.tpm_limit is None
    assert "owner" not in (team.metadata or {})
    assert not team.team_member_permissions
    assert not team.model_aliases
    assert not team.blocked
    assert "maxBudget" not in obj["status"]
    assert "models" not in obj["status"]


async def test_team_organization_pushed(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    if litellm.is_real:
        pytest.skip("LiteLLM creates organizations only with an Enterprise licence")
    litellm.fake.state.organizations.update({"org-a", "org-b"})
    body = team_body("org", f"{cluster.namespace}-org", organizationID="org-a")
    await cluster.client.create(api.TEAMS, cluster.namespace, body)
    team_id = (await ready_team(cluster, "org"))["status"]["teamID"]
    assert (await litellm.client.team_info(team_id)).team_info.organization_id == "org-a"

    generation = await patch_spec(cluster, "org", {"organizationID": "org-b"})
    obj = await ready_team(cluster, "org", generation)
    assert (await litellm.client.team_info(team_id)).team_info.organization_id == "org-b"
    assert obj["status"]["organizationID"] == "org-b"

    generation = await patch_spec(cluster, "org", {"organizationID": None})
    await ready_team(cluster, "org", generation)
    assert (await litellm.client.team_info(team_id)).team_info.organization_id is None


async def test_team_unknown_organization_degraded(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body("no-org", f"{cluster.namespace}-no-org", organizationID=f"{cluster.namespace}-missing")
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await team_condition(cluster, "no-org", "Degraded", "InvalidSpec")
    assert condition(obj, "Ready")["status"] == "False"
    assert "organization" in condition(obj, "Degraded")["message"].lower()
    assert operator.litellm_calls("/team/new") == 1


async def test_team_spec_team_id_adopted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    team_id = f"{cluster.namespace}-adopted"
    await litellm.client.team_new(models.TeamNewRequest(team_id=team_id, team_alias="before", rpm_limit=5))
    body = team_body("adopted", f"{cluster.namespace}-adopted", teamID=team_id, rpmLimit=50)
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await ready_team(cluster, "adopted")
    assert obj["status"]["teamID"] == team_id
    team = (await litellm.client.team_info(team_id)).team_info
    assert team.team_alias == f"{cluster.namespace}-adopted"
    assert team.rpm_limit == 50
    assert operator.litellm_calls("/team/new") == 0

    await cluster.client.delete(api.TEAMS, cluster.namespace, "adopted")
    await team_removed(cluster, "adopted")


async def test_team_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("gone", f"{cluster.namespace}-gone"))
    obj = await ready_team(cluster, "gone")
    team_id = obj["status"]["teamID"]

    await cluster.client.delete(api.TEAMS, cluster.namespace, "gone")

    await team_removed(cluster, "gone")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)


async def test_team_deleted_when_already_gone(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("vanished", f"{cluster.namespace}-vanished"))
    team_id = (await ready_team(cluster, "vanished"))["status"]["teamID"]
    await litellm.client.team_delete([team_id])

    await cluster.client.delete(api.TEAMS, cluster.namespace, "vanished")

    await team_removed(cluster, "vanished")
    assert operator.litellm_calls("/team/delete") == 1


async def test_team_delete_waits_for_litellm(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("stuck", f"{cluster.namespace}-stuck"))
    team_id = (await ready_team(cluster, "stuck"))["status"]["teamID"]

    # Unreachable LiteLLM: a loopback port nothing listens on.
    await point_secret_at(cluster, CONNECTION_SECRET, closed_port_url(), litellm.master_key)
    await team_condition(cluster, "stuck", "Ready", "LiteLLMUnavailable")
    await cluster.client.delete(api.TEAMS, cluster.namespace, "stuck")

    obj = await team_condition(cluster, "stuck", "DeleteFailed", "DeleteFailed")
    assert condition(obj, "DeleteFailed")["status"] == "True"
    assert DELETION_POLICY_ANNOTATION in condition(obj, "DeleteFailed")["message"]
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert (await litellm.client.team_info(team_id)).team_info.team_id == team_id

    await point_secret_at(cluster, CONNECTION_SECRET, litellm.url, litellm.master_key)

    await team_removed(cluster, "stuck")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)


async def test_team_orphan_policy_releases(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("kept", f"{cluster.namespace}-kept"))
    team_id = (await ready_team(cluster, "kept"))["status"]["teamID"]
    await cluster.client.patch(
        api.TEAMS, cluster.namespace, "kept", {"metadata": {"annotations": {DELETION_POLICY_ANNOTATION: "orphan"}}}
    )
    await cluster.client.delete(api.TEAMS, cluster.namespace, "kept")

    await team_removed(cluster, "kept")
    assert operator.litellm_calls("/team/delete") == 0
    assert (await litellm.client.team_info(team_id)).team_info.team_id == team_id
    await litellm.client.team_delete([team_id])


async def test_secret_in_use_outlives_team(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("user", f"{cluster.namespace}-user"))
    team_id = (await ready_team(cluster, "user"))["status"]["teamID"]
    secret = await cluster.client.get(SECRETS, cluster.namespace, CONNECTION_SECRET)
    assert IN_USE_FINALIZER in secret["metadata"]["finalizers"]

    await cluster.client.delete(SECRETS, cluster.namespace, CONNECTION_SECRET)
    terminating = await cluster.client.get(SECRETS, cluster.namespace, CONNECTION_SECRET)
    assert terminating["metadata"]["deletionTimestamp"]

    # The Team can still be deleted in LiteLLM, because its Secret waits for it.
    await cluster.client.delete(api.TEAMS, cluster.namespace, "user")
    await team_removed(cluster, "user")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)

    async def secret_gone() -> bool:
        try:
            await cluster.client.get(SECRETS, cluster.namespace, CONNECTION_SECRET)
        except NotFound:
            return True
        return False

    await eventually(secret_gone, what="connection Secret deleted once no Team uses it")


async def test_team_enterprise_degraded(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body("tagged", f"{cluster.namespace}-tagged", tags=["finance"])
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await team_condition(cluster, "tagged", "Degraded", "EnterpriseFeatureRequired")
    assert condition(obj, "Degraded")["status"] == "True"
    assert condition(obj, "Ready")["status"] == "False"
    assert operator.litellm_calls("/team/new") == 1
    assert operator.metric("controller_runtime_reconcile_errors_total", {"controller": "team"}) == 0


async def test_team_guardrails_added_degraded(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("guarded", f"{cluster.namespace}-guarded"))
    team_id = (await ready_team(cluster, "guarded"))["status"]["teamID"]

    await patch_spec(cluster, "guarded", {"guardrails": ["pii"]})

    obj = await team_condition(cluster, "guarded", "Degraded", "EnterpriseFeatureRequired")
    assert condition(obj, "Degraded")["status"] == "True"
    assert operator.litellm_calls("/team/update") == 1
    assert operator.metric("controller_runtime_reconcile_errors_total", {"controller": "team"}) == 0
    assert (await litellm.client.team_info(team_id)).team_info.team_id == team_id


async def test_team_status_patch_failure_no_duplicate(
    cluster: Cluster, litellm: LiteLLMTarget, double, operator
) -> None:
    # The first status write after the team is created in LiteLLM fails, as if the operator
    # crashed between the two steps. The retry must find the team instead of creating another.
    double.fail_next("PATCH", r".*/teams/.*/status")
    alias = f"{cluster.namespace}-crash"
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("crash", alias))

    obj = await ready_team(cluster, "crash")
    assert operator.litellm_calls("/team/new") == 1
    assert obj["status"]["teamID"] == obj["metadata"]["uid"]
    listed = await litellm.client.team_list(team_alias=alias)
    assert [team.team_id for team in listed.teams if team.team_alias == alias] == [obj["metadata"]["uid"]]



async def test_team_deleted_before_status_written(
    cluster: Cluster, litellm: LiteLLMTarget, double, operator
) -> None:
    # Every status write fails, so the team exists in LiteLLM but its id never reaches status.
    # Deleting the object must still delete the team, found by its UID-derived id.
    double.fail_next("PATCH", r".*/teams/.*/status", times=1000)
    created = await cluster.client.create(api.TEAMS, cluster.namespace, team_body("early", f"{cluster.namespace}-early"))
    team_id = created["metadata"]["uid"]

    async def exists_in_litellm() -> bool:
        return (await litellm.client.team_info(team_id)).team_info.team_id == team_id

    await eventually(exists_in_litellm, what="team created in LiteLLM")
    await cluster.client.delete(api.TEAMS, cluster.namespace, "early")

    await team_removed(cluster, "early")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)
