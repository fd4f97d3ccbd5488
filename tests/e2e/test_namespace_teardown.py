"""Deleting a namespace that holds every kind and the connection Secret releases every finalizer.

The namespace deletion removes the Secret at once and marks the custom resources for deletion
together, so the reconcilers see them in any order. Each case first deletes some objects itself,
then the namespace, to vary that order further.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import NAMESPACES, SECRETS, NotFound, Resource
from litellm_operator.testing.cluster import Cluster
from litellm_operator.testing.operator import RunningOperator, running_operator

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually
from .test_membership import (
    CONNECTION_REF,
    create_ready_user,
    member,
    membership_body,
    team_body,
    user_reconciler_present,
    wait_ready,
)

# Objects deleted one by one before the namespace, in this order.
ORDERS = {
    "namespace-only": [],
    "secret-first": [(SECRETS, CONNECTION_SECRET)],
    "team-and-user-first": [(api.TEAMS, "team"), (api.USERS, "user")],
    "membership-first": [(api.TEAM_MEMBER_ASSOCIATIONS, "member"), (SECRETS, CONNECTION_SECRET)],
}


def virtual_key_reconciler_present() -> bool:
    return importlib.util.find_spec("litellm_operator.controllers.virtualkey") is not None


def virtual_key_body(name: str, alias: str, team_id: str) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "VirtualKey",
        "metadata": {"name": name},
        "spec": {"connectionRef": CONNECTION_REF, "keyAlias": alias, "teamID": team_id},
    }


async def namespace_gone(cluster: Cluster) -> bool:
    try:
        await cluster.client.get(NAMESPACES, None, cluster.namespace)
    except NotFound:
        return True
    return False


@pytest.mark.parametrize("order", ORDERS)
async def test_namespace_teardown(
    cluster: Cluster, litellm: LiteLLMTarget, operator: RunningOperator, order: str
) -> None:
    await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
    user = await create_ready_user(cluster, litellm, "user")
    team = await wait_ready(cluster, api.TEAMS, "team")
    team_id, user_id = team["status"]["teamID"], user["status"]["userID"]
    await cluster.client.create(
        api.VIRTUAL_KEYS, cluster.namespace, virtual_key_body("key", f"{cluster.namespace}-key", team_id)
    )
    await cluster.client.create(
        api.TEAM_MEMBER_ASSOCIATIONS, cluster.namespace, membership_body("member", "team", "user")
    )
    await wait_ready(cluster, api.TEAM_MEMBER_ASSOCIATIONS, "member")
    token_id = None
    if virtual_key_reconciler_present():
        token_id = (await wait_ready(cluster, api.VIRTUAL_KEYS, "key"))["status"]["tokenID"]
    assert await member(litellm, team_id, user_id) == ("user", None)

    deleted: list[tuple[Resource, str]] = ORDERS[order]
    for resource, name in deleted:
        await cluster.client.delete(resource, cluster.namespace, name)
    await cluster.client.delete(NAMESPACES, None, cluster.namespace)

    # The namespace goes only when every object in it is gone, finalizers included.
    await eventually(lambda: namespace_gone(cluster), timeout=30.0, what=f"namespace {cluster.namespace} deleted")

    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)
    if user_reconciler_present():
        with pytest.raises(NotFoundError):
            await litellm.client.user_info(user_id)
    else:
        # The stand-in User has no finalizer, so the test removes what the reconciler would.
        await litellm.client.user_delete([user_id])
    if token_id is not None:
        with pytest.raises(NotFoundError):
            await litellm.client.key_info(token_id)


async def test_namespace_teardown_across_restart(
    cluster: Cluster, litellm: LiteLLMTarget, connection: str, sync_period: float
) -> None:
    """The connection Secret outlives its users, so a restarted operator can still delete them."""
    async with running_operator(cluster.client, namespaces=[cluster.namespace], sync_period=sync_period):
        await cluster.client.create(api.TEAMS, cluster.namespace, team_body("team", f"{cluster.namespace}-team"))
        user = await create_ready_user(cluster, litellm, "user")
        team = await wait_ready(cluster, api.TEAMS, "team")
    team_id, user_id = team["status"]["teamID"], user["status"]["userID"]

    # The namespace is deleted while no operator runs: the Secret is marked for deletion but
    # stays, held by the in-use finalizer, and the custom resources wait for their finalizers.
    await cluster.client.delete(NAMESPACES, None, cluster.namespace)
    secret = await cluster.client.get(SECRETS, cluster.namespace, connection)
    assert secret["metadata"]["deletionTimestamp"]

    async with running_operator(cluster.client, namespaces=[cluster.namespace], sync_period=sync_period):
        await eventually(lambda: namespace_gone(cluster), timeout=30.0, what=f"namespace {cluster.namespace} deleted")

    with pytest.raises(NotFoundError):
        await litellm.client.team_info(team_id)
    with pytest.raises(NotFoundError):
        await litellm.client.user_info(user_id)
