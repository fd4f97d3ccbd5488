"""Teams on several LiteLLM instances, and a master key that changes in the connection Secret."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from litellm_operator import api
from litellm_operator.litellm.client import LiteLLMClient
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import SECRETS
from litellm_operator.testing.cluster import Cluster
from litellm_operator.testing.litellm_fake import FakeLiteLLM

from .conftest import CONNECTION_SECRET, LiteLLMTarget, secret_body
from .test_team import condition, patch_spec, point_secret_at, ready_team, team_body, team_condition

SECOND_SECRET = "second-connection"


@pytest.fixture
async def second_litellm() -> AsyncIterator[FakeLiteLLM]:
    """A second LiteLLM instance with a master key of its own."""
    async with FakeLiteLLM(master_key="sk-second-master") as fake:
        yield fake


async def test_teams_land_in_own_instance(
    cluster: Cluster, litellm: LiteLLMTarget, second_litellm: FakeLiteLLM, operator
) -> None:
    body = secret_body(SECOND_SECRET, {"masterKey": second_litellm.master_key, "url": second_litellm.url})
    await cluster.client.create(SECRETS, cluster.namespace, body)
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("first", f"{cluster.namespace}-first"))
    await cluster.client.create(
        api.TEAMS, cluster.namespace, team_body("second", f"{cluster.namespace}-second", secret=SECOND_SECRET)
    )

    first_id = (await ready_team(cluster, "first"))["status"]["teamID"]
    second_id = (await ready_team(cluster, "second"))["status"]["teamID"]

    async with aiohttp.ClientSession() as session:
        second = LiteLLMClient(second_litellm.url, second_litellm.master_key, session=session)
        assert (await litellm.client.team_info(first_id)).team_info.team_alias == f"{cluster.namespace}-first"
        assert (await second.team_info(second_id)).team_info.team_alias == f"{cluster.namespace}-second"
        with pytest.raises(NotFoundError):
            await litellm.client.team_info(second_id)
        with pytest.raises(NotFoundError):
            await second.team_info(first_id)


async def test_wrong_master_key_unauthorized(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("keyed", f"{cluster.namespace}-keyed"))
    await ready_team(cluster, "keyed")

    await point_secret_at(cluster, CONNECTION_SECRET, litellm.url, "sk-wrong-master-key")

    obj = await team_condition(cluster, "keyed", "Ready", "Unauthorized")
    message = condition(obj, "Ready")["message"]
    assert "sk-wrong-master-key" not in message
    assert litellm.master_key not in message

    await point_secret_at(cluster, CONNECTION_SECRET, litellm.url, litellm.master_key)
    await team_condition(cluster, "keyed", "Ready", "Reconciled")


async def test_rotated_master_key_used(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    if litellm.is_real:
        pytest.skip("the real proxy's master key is fixed for the session")
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("rotated", f"{cluster.namespace}-rotated"))
    team_id = (await ready_team(cluster, "rotated"))["status"]["teamID"]

    # From now on the proxy rejects the old key, so only the new one can push the change.
    litellm.fake.master_key = "sk-rotated-master"
    await point_secret_at(cluster, CONNECTION_SECRET, litellm.url, "sk-rotated-master")
    generation = await patch_spec(cluster, "rotated", {"rpmLimit": 7})

    await ready_team(cluster, "rotated", generation)
    assert litellm.fake.state.teams[team_id]["rpm_limit"] == 7
    assert operator.metric("litellm_operator_litellm_requests_total", {"endpoint": "/team/info", "code": "401"}) == 0
