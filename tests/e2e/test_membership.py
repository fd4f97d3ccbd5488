"""TeamMemberAssociation custom resources against a LiteLLM proxy, through the whole operator."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.litellm import models
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import NotFound
from litellm_operator.testing.cluster import Cluster
from litellm_operator.testing.operator import RunningOperator

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually

CONNECTION_REF = {"secretRef": {"name": CONNECTION_SECRET}}
CONTROLLER = "teammemberassociation"


def team_body(name: str, alias: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Team",
        "metadata": {"name": name},
        "spec": {"connectionRef": CONNECTION_REF, "teamAlias": alias},
    }


def user_body(name: str, email: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "User",
        "metadata": {"name": name},
        "spec": {"connectionRef": CONNECTION_REF, "userEmail": email, "autoCreateKey": False},
    }


def membership_body(name: str, team: str, user: str, role: str = "user", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "TeamMemberAssociation",
        "metadata": {"name": name},
        "spec": {
            "connectionRef": CONNECTION_REF,
            "teamRef": {"name": team},
            "userRef": {"name": user},
            "role": role,
            **spec,
        },
    }


def user_reconciler_present() -> bool:
    return importlib.util.find_spec("litellm_operator.controllers.user") is not None


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return item
    return {}


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return (
        condition(obj, "Ready").get("status") == "True"
        and status.get("observedGeneration") == obj["metadata"]["generation"]
    )


async def wait_ready(cluster: Cluster, resource: Any, name: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(resource, cluster.namespace, name)
        return obj if is_ready(obj) else None

    return await eventually(check, what=f"{resource.kind} {name} Ready")


async def wait_gone(cluster: Cluster, resource: Any, name: str) -> None:
    async def check() -> bool:
        try:
            await cluster.client.get(resource, cluster.namespace, name)
        except NotFound:
            return True
        return False

    await eventually(check, what=f"{resource.kind} {name} removed")


async def create_ready_user(cluster: Cluster, litellm: LiteLLMTarget, name: str) -> dict[str, Any]:
    """Create a User and return it once it is Ready with a LiteLLM user behind it.

    Without a User reconciler in this tree, the test plays its part: it creates the LiteLLM user
    and writes the Ready status that the reconciler would write.
    """
    email = f"{name}-{cluster.namespace}@example.com"
    created = await cluster.client.create(api.USERS, cluster.namespace, user_body(name, email))
    if user_reconciler_present():
        return await wait_ready(cluster, api.USERS, name)

    user_id = f"{cluster.namespace}-{name}"
    await litellm.client.user_new(models.UserNewRequest(user_id=user_id, user_email=email, auto_create_key=False))
    meta = created["metadata"]
    status = {
        "userID": user_id,
        "userEmail": email,
        "observedGeneration": meta["generation"],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Reconciled",
                "message": "set by the test in place of the User reconciler",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
                "observedGeneration": meta["generation"],
            }
        ],
    }
    return await cluster.client.patch(api.USERS, cluster.namespace, name, {"status": status}, subresource="status")


async def delete_user(cluster: Cluster, litellm: LiteLLMTarget, name: str, user_id: str) -> None:
    """Delete a User; without a User reconciler, also delete its LiteLLM user as the reconciler would."""
    await cluster.client.delete(api.USERS, cluster.namespace, name)
    if not user_reconciler_present():
        await litellm.client.user_delete([user_id])


async def member(litellm: LiteLLMTarget, team_id: str, user_id: str) -> tuple[str | None, float | None] | None:
    """Return (role, max budget) of a user in a LiteLLM team, or None when it is not a member."""
    info = await litellm.client.team_info(team_id)
    roles = [m.role for m in info.team_info.members_with_roles if m.user_id == user_id]
    if not roles:
        return None
    budgets = [
        m.litellm_budget_table.max_budget if m.litellm_budget_table else None
        for m in info.team_memberships
        if m.user_id == user_id
    ]
    return roles[0], (budgets[0] if budgets else None)


async def update_spec(cluster: Cluster, name: str, **spec: Any) -> dict[str, Any]:
    return await cluster.client.patch(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, name, {"spec": spec})


async def ready_membership(
    cluster: Cluster, litellm: LiteLLMTarget, role: str = "user", **spec: Any
) -> tuple[str, str]:
    """Create Team `team`, User `user` and membership `member`; return (team id, user id) once Ready."""
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
    user = await create_ready_user(cluster, litellm, "user")
    team = await wait_ready(cluster, api.TEAMS, "team")
    await cluster.client.create(
        api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, membership_body("member", "team", "user", role, **spec)
    )
    await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    return team["status"]["teamID"], user["status"]["userID"]


async def test_membership_waits_for_team_and_user(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    await cluster.client.create(
        api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, membership_body("member", "team", "user", maxBudgetInTeam="5")
    )

    async def waiting_for_team() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
        return obj if condition(obj, "Ready").get("reason") == "TeamNotFound" else None

    waiting = await eventually(waiting_for_team, what="membership waiting for its Team")
    assert waiting["status"]["teamExists"] is False
    assert waiting["status"]["userExists"] is False
    assert waiting["status"]["associationIsValid"] is False
    assert condition(waiting, "Progressing")["status"] == "True"
    assert condition(waiting, "Degraded")["status"] == "False"

    user = await create_ready_user(cluster, litellm, "user")
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
    team = await wait_ready(cluster, api.TEAMS, "team")
    team_ready_at = time.monotonic()

    obj = await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    # The Team's status change wakes the membership; a retry timer would take the sync period.
    assert time.monotonic() - team_ready_at < 3.0

    status = obj["status"]
    assert status["teamID"] == team["status"]["teamID"]
    assert status["userID"] == user["status"]["userID"]
    assert status["teamAlias"] == f"{cluster.namespace}-team"
    assert status["userEmail"] == user["status"]["userEmail"]
    assert status["teamExists"] is True
    assert status["userExists"] is True
    assert status["associationIsValid"] is True
    assert await member(litellm, status["teamID"], status["userID"]) == ("user", 5.0)
    assert operator.litellm_calls("/team/member_add") == 1
    assert operator.metric("controller_runtime_reconcile_errors_total", {"controller": CONTROLLER}) == 0


async def test_membership_waits_for_user(cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
    await wait_ready(cluster, api.TEAMS, "team")
    await cluster.client.create(
        api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, membership_body("member", "team", "user")
    )

    async def waiting_for_user() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
        return obj if condition(obj, "Ready").get("reason") == "UserNotFound" else None

    waiting = await eventually(waiting_for_user, what="membership waiting for its User")
    assert waiting["status"]["teamExists"] is True
    assert waiting["status"]["userExists"] is False

    user = await create_ready_user(cluster, litellm, "user")
    user_ready_at = time.monotonic()
    obj = await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    assert time.monotonic() - user_ready_at < 3.0
    assert await member(litellm, obj["status"]["teamID"], user["status"]["userID"]) == ("user", None)


async def test_budget_change_uses_member_update(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    team_id, user_id = await ready_membership(cluster, litellm, maxBudgetInTeam="5")

    await update_spec(cluster, "member", maxBudgetInTeam="7.5")
    await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    assert await member(litellm, team_id, user_id) == ("user", 7.5)

    # A field removed from the spec is cleared in LiteLLM.
    await update_spec(cluster, "member", maxBudgetInTeam=None)
    await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    assert await member(litellm, team_id, user_id) == ("user", None)

    assert operator.litellm_calls("/team/member_update") == 2
    assert operator.litellm_calls("/team/member_add") == 1


async def test_admin_role_without_licence(cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator) -> None:
    team_id, user_id = await ready_membership(cluster, litellm)
    updates_before = operator.litellm_calls("/team/member_update")
    errors_before = operator.metric("controller_runtime_reconcile_errors_total", {"controller": CONTROLLER})

    changed = await update_spec(cluster, "member", role="admin")

    async def refused() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
        degraded = condition(obj, "Degraded")
        current = degraded.get("observedGeneration") == changed["metadata"]["generation"]
        return obj if current and degraded.get("status") == "True" else None

    obj = await eventually(refused, what="admin role refused")
    degraded = condition(obj, "Degraded")
    assert degraded["reason"] == "EnterpriseFeatureRequired"
    assert "premium feature" in degraded["message"]
    assert condition(obj, "Ready")["status"] == "False"
    assert condition(obj, "Progressing")["status"] == "False"
    # Terminal: one attempt, no rate-limited retries.
    assert operator.litellm_calls("/team/member_update") == updates_before + 1
    assert operator.metric("controller_runtime_reconcile_errors_total", {"controller": CONTROLLER}) == errors_before
    assert await member(litellm, team_id, user_id) == ("user", None)

    # Back to user: LiteLLM still has that role, so nothing is written.
    await update_spec(cluster, "member", role="user")
    obj = await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    assert condition(obj, "Degraded")["status"] == "False"
    assert operator.litellm_calls("/team/member_update") == updates_before + 1


async def test_team_deleted_before_membership(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    team_id, _ = await ready_membership(cluster, litellm)

    await cluster.client.delete(api.TEAMS, cluster.namespace, "team")
    await wait_gone(cluster, api.TEAMS, "team")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)

    async def waiting_for_team() -> bool:
        obj = await cluster.client.get(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
        return condition(obj, "Ready").get("reason") == "TeamNotFound"

    await eventually(waiting_for_team, what="membership waiting for its deleted Team")

    await cluster.client.delete(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
    await wait_gone(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    assert operator.litellm_calls("/team/member_delete") == 0


async def test_user_deleted_before_membership(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    team_id, user_id = await ready_membership(cluster, litellm)

    await delete_user(cluster, litellm, "user", user_id)
    await wait_gone(cluster, api.USERS, "user")
    await cluster.client.delete(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
    await wait_gone(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")

    assert operator.litellm_calls("/team/member_delete") == 0
    assert await member(litellm, team_id, user_id) is None


async def test_membership_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator) -> None:
    team_id, user_id = await ready_membership(cluster, litellm)

    await cluster.client.delete(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
    await wait_gone(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")

    assert await member(litellm, team_id, user_id) is None
    assert operator.litellm_calls("/team/member_delete") == 1


# Drift checks every half second, so out-of-band changes are found within the test's timeout.
@pytest.mark.parametrize("sync_period", [0.5])
async def test_member_removed_outside_operator_is_restored(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    team_id, user_id = await ready_membership(cluster, litellm, maxBudgetInTeam="5")

    await litellm.client.team_member_delete(models.TeamMemberDeleteRequest(team_id=team_id, user_id=user_id))

    async def restored() -> bool:
        return await member(litellm, team_id, user_id) == ("user", 5.0)

    await eventually(restored, what="member added again")


@pytest.mark.parametrize("sync_period", [0.5])
async def test_member_budget_changed_outside_operator_is_restored(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    team_id, user_id = await ready_membership(cluster, litellm, maxBudgetInTeam="5")

    await litellm.client.team_member_update(
        models.TeamMemberUpdateRequest(team_id=team_id, user_id=user_id, max_budget_in_team=99.0)
    )

    async def restored() -> bool:
        return await member(litellm, team_id, user_id) == ("user", 5.0)

    await eventually(restored, what="member budget restored")
    assert operator.litellm_calls("/team/member_add") == 1



async def test_membership_deleted_before_status_written(
    cluster: Cluster, litellm: LiteLLMTarget, double, operator: RunningOperator
) -> None:
    # Every membership status write fails, so the ids never reach its status; deletion must
    # still remove the member, found through the referenced Team and User.
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
    user = await create_ready_user(cluster, litellm, "user")
    team = await wait_ready(cluster, api.TEAMS, "team")
    team_id, user_id = team["status"]["teamID"], user["status"]["userID"]
    double.fail_next("PATCH", r".*/teammemberassociations/.*/status", times=1000)
    await cluster.client.create(
        api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, membership_body("member", "team", "user")
    )

    async def added() -> bool:
        return await member(litellm, team_id, user_id) is not None

    await eventually(added, what="member added in LiteLLM")
    await cluster.client.delete(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
    await wait_gone(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")

    assert await member(litellm, team_id, user_id) is None


async def test_team_ref_switch_waits_then_moves(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator
) -> None:
    old_team_id, user_id = await ready_membership(cluster, litellm)
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("next", f"{cluster.namespace}-next"))
    new_team_id = (await wait_ready(cluster, api.TEAMS, "next"))["status"]["teamID"]
    # The new Team keeps its teamID in status but stops being Ready (tags need a licence).
    await cluster.client.patch(api.TEAMS, cluster.namespace, "next", {"spec": {"tags": ["finance"]}})

    async def next_degraded() -> bool:
        obj = await cluster.client.get(api.TEAMS, cluster.namespace, "next")
        return condition(obj, "Ready").get("status") == "False"

    await eventually(next_degraded, what="Team next not Ready")
    await update_spec(cluster, "member", teamRef={"name": "next"})

    async def waiting() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, "member")
        return obj if condition(obj, "Ready").get("reason") == "TeamNotReady" else None

    obj = await eventually(waiting, what="membership waiting for Team next")
    assert obj["status"]["teamID"] == old_team_id

    await cluster.client.patch(api.TEAMS, cluster.namespace, "next", {"spec": {"tags": None}})
    await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")

    async def moved() -> bool:
        return await member(litellm, old_team_id, user_id) is None and await member(
            litellm, new_team_id, user_id
        ) is not None

    await eventually(moved, what="member moved from the old team to the new one")
