"""Team drift checks: out-of-band changes are repaired, and steady state costs one read.

The operator here checks drift every DRIFT_PERIOD seconds, so the periodic path runs within
the test instead of after the default five minutes.
"""

from __future__ import annotations

import time

import pytest

from litellm_operator import api
from litellm_operator.litellm import models
from litellm_operator.testing.cluster import Cluster

from .conftest import LiteLLMTarget, eventually
from .test_team import ready_team, team_body

DRIFT_PERIOD = 0.5
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def sync_period() -> float:
    return DRIFT_PERIOD


async def test_budget_change_repaired(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body("budget", f"{cluster.namespace}-budget", maxBudget="10", rpmLimit=10)
    await cluster.client.create(api.TEAMS, cluster.namespace, body)
    team_id = (await ready_team(cluster, "budget"))["status"]["teamID"]

    await litellm.client.team_update(models.TeamUpdateRequest(team_id=team_id, max_budget=999.0, rpm_limit=1))

    async def repaired() -> bool:
        team = (await litellm.client.team_info(team_id)).team_info
        return team.max_budget == 10 and team.rpm_limit == 10

    await eventually(repaired, what="max_budget and rpm_limit restored")


async def test_metadata_change_repaired(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = team_body("meta", f"{cluster.namespace}-meta", metadata={"owner": "platform"})
    await cluster.client.create(api.TEAMS, cluster.namespace, body)
    team_id = (await ready_team(cluster, "meta"))["status"]["teamID"]

    await litellm.client.team_update(
        models.TeamUpdateRequest(team_id=team_id, metadata={"owner": "someone", "extra": "1"})
    )

    async def repaired() -> bool:
        metadata = (await litellm.client.team_info(team_id)).team_info.metadata or {}
        return metadata.get("owner") == "platform" and "extra" not in metadata

    await eventually(repaired, what="metadata restored")


async def test_deleted_team_recreated(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    alias = f"{cluster.namespace}-recreated"
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("recreated", alias, tpmLimit=500))
    team_id = (await ready_team(cluster, "recreated"))["status"]["teamID"]

    await litellm.client.team_delete([team_id])

    async def recreated() -> bool:
        # The call counter moves once the operator has read the response, which can be after
        # LiteLLM already serves the new team.
        return operator.litellm_calls("/team/new") == 2

    await eventually(recreated, what="team created again")
    team = (await litellm.client.team_info(team_id)).team_info
    assert team.team_alias == alias
    assert team.tpm_limit == 500


async def test_steady_state_reads_only(cluster: Cluster, litellm: LiteLLMTarget, double, operator) -> None:
    names = ("steady-a", "steady-b")
    for name in names:
        body = team_body(name, f"{cluster.namespace}-{name}", models=["fake-model"], maxBudget="5", metadata={"a": "b"})
        await cluster.client.create(api.TEAMS, cluster.namespace, body)
    for name in names:
        await ready_team(cluster, name)

    async def reads_reach(count: float) -> bool:
        return operator.litellm_calls("/team/info") >= count

    # Start counting at a drift read of each Team, after the creation's writes and Events.
    first_drift_reads = operator.litellm_calls("/team/info") + len(names)
    await eventually(lambda: reads_reach(first_drift_reads), what="first drift reads")
    reads_before = operator.litellm_calls("/team/info")
    calls_before = operator.litellm_calls()
    writes_before = sum(1 for record in double.request_log if record.method in WRITE_METHODS)
    started = time.monotonic()

    periods = 3
    await eventually(lambda: reads_reach(reads_before + periods * len(names)), what=f"{periods} drift periods")
    elapsed = time.monotonic() - started

    reads = operator.litellm_calls("/team/info") - reads_before
    assert operator.litellm_calls() - calls_before == reads
    writes = [record for record in double.request_log if record.method in WRITE_METHODS][writes_before:]
    assert writes == []
    # With one read per Team per period, a Team makes at most elapsed // period + 1 reads.
    assert reads <= len(names) * (elapsed // DRIFT_PERIOD + 1)
