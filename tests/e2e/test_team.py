"""Team custom resources against a LiteLLM proxy, through the whole operator."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.controllers.base import FINALIZER
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.testing.cluster import Cluster

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually


def team_body(name: str, alias: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "Team",
        "metadata": {"name": name},
        "spec": {"connectionRef": {"secretRef": {"name": CONNECTION_SECRET}}, "teamAlias": alias, **spec},
    }


async def ready_team(cluster: Cluster, name: str, generation: int | None = None) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.TEAMS, cluster.namespace, name)
        status = obj.get("status") or {}
        wanted = generation or obj["metadata"]["generation"]
        ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True"]
        return obj if ready and status.get("observedGeneration") == wanted else None

    return await eventually(check, what=f"Team {name} Ready")


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
    )
    await cluster.client.create(api.TEAMS, cluster.namespace, body)

    obj = await ready_team(cluster, "alpha")
    status = obj["status"]
    assert status["teamID"] == obj["metadata"]["uid"]
    assert FINALIZER in obj["metadata"]["finalizers"]

    team = (await litellm.client.team_info(status["teamID"])).team_info
    assert team.team_alias == f"{cluster.namespace}-alpha"
    assert team.models == ["fake-model"]
    assert team.max_budget == 10.5
    assert team.budget_duration == "30d"
    assert team.rpm_limit == 100
    assert team.tpm_limit == 1000
    assert team.metadata["owner"] == "platform"
    assert team.team_member_permissions == ["/key/generate"]
    assert status["maxBudget"] == "10.5"


async def test_team_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("gone", f"{cluster.namespace}-gone"))
    obj = await ready_team(cluster, "gone")
    team_id = obj["status"]["teamID"]

    await cluster.client.delete(api.TEAMS, cluster.namespace, "gone")

    async def removed() -> bool:
        try:
            await cluster.client.get(api.TEAMS, cluster.namespace, "gone")
        except Exception:  # noqa: BLE001 - NotFound
            return True
        return False

    await eventually(removed, what="Team object removed")
    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)
