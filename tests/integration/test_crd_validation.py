"""The CRDs reject invalid custom resources at apply time, naming the field (double or real cluster)."""

from __future__ import annotations

from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.runtime.kube import Invalid
from litellm_operator.testing.cluster import Cluster

CONNECTION = {"secretRef": {"name": "litellm-connection"}}


def team(name: str, **spec: Any) -> dict[str, Any]:
    body = {"connectionRef": CONNECTION, "teamAlias": name, **spec}
    return {"apiVersion": api.API_VERSION, "kind": "Team", "metadata": {"name": name}, "spec": body}


async def rejected_fields(cluster: Cluster, body: dict[str, Any]) -> set[str]:
    with pytest.raises(Invalid) as caught:
        await cluster.client.create(api.TEAMS, cluster.namespace, body)
    assert caught.value.status == 422
    return {cause.get("field", "") for cause in caught.value.causes}


@pytest.mark.parametrize("budget", ["-5", "ten", "1e3", "1.", ""])
async def test_invalid_budget_rejected(cluster: Cluster, budget: str) -> None:
    fields = await rejected_fields(cluster, team("budget", maxBudget=budget))

    assert "spec.maxBudget" in fields


@pytest.mark.parametrize("duration", ["monthly", "30", "1y", "-1d"])
async def test_invalid_duration_rejected(cluster: Cluster, duration: str) -> None:
    fields = await rejected_fields(cluster, team("duration", budgetDuration=duration))

    assert "spec.budgetDuration" in fields


async def test_both_refs_rejected(cluster: Cluster) -> None:
    both = {"secretRef": {"name": "litellm-connection"}, "instanceRef": {"name": "litellm"}}

    fields = await rejected_fields(cluster, team("refs", connectionRef=both))

    assert "spec.connectionRef" in fields


async def test_all_errors_reported_together(cluster: Cluster) -> None:
    both = {"secretRef": {"name": "litellm-connection"}, "instanceRef": {"name": "litellm"}}

    fields = await rejected_fields(
        cluster, team("all", maxBudget="-1", budgetDuration="monthly", connectionRef=both)
    )

    assert {"spec.maxBudget", "spec.budgetDuration", "spec.connectionRef"} <= fields


async def test_valid_team_accepted(cluster: Cluster) -> None:
    created = await cluster.client.create(
        api.TEAMS, cluster.namespace, team("valid", maxBudget="10.50", budgetDuration="1mo")
    )

    assert created["spec"]["maxBudget"] == "10.50"
