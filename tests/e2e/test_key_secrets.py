"""Key Secrets of VirtualKeys: crash safety, a deleted or edited Secret, and rotation."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.litellm.client import token_id
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import CORE_EVENTS, SECRETS, NotFound
from litellm_operator.testing.cluster import Cluster

from .conftest import LiteLLMTarget, eventually
from .test_virtualkey import (
    alias_of,
    annotate,
    authenticates,
    key_body,
    keys_with_alias,
    ready_key,
    secret_key,
    secret_name_of,
    secret_writes,
    update_spec,
)

ROTATE = "litellm-operator.litellm.ai/rotate"
GRACE = "litellm-operator.litellm.ai/rotation-grace-period"


async def has_event(cluster: Cluster, name: str, reason: str) -> bool:
    events = await cluster.client.list(CORE_EVENTS, cluster.namespace)
    return any(
        e.get("reason") == reason and (e.get("involvedObject") or {}).get("name") == name
        for e in events.get("items") or []
    )


async def token_changed(cluster: Cluster, name: str, old: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        obj = await ready_key(cluster, name)
        return obj if obj["status"].get("tokenID") not in (None, old) else None

    return await eventually(check, what=f"VirtualKey {name} on a new key")


@pytest.mark.parametrize("step", ["secret-create", "key-generate", "status-patch"])
async def test_key_creation_survives_failure(
    cluster: Cluster, litellm: LiteLLMTarget, double, operator, step: str
) -> None:
    if step == "secret-create":
        double.fail_next("POST", ".*/secrets$")
    elif step == "key-generate" and litellm.fake is not None:
        litellm.fake.fail_next("/key/generate", 500)
    else:
        # The real proxy has no fault injection. Failing the status patch stops the operator
        # after both the Secret and LiteLLM contain the key, which is the later crash point.
        double.fail_next("PATCH", ".*/virtualkeys/.*/status")
    name = f"crash-{step}"
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body(name, alias_of(cluster, name)))

    obj = await ready_key(cluster, name)
    value = await secret_key(cluster, secret_name_of(cluster, name))
    keys = await keys_with_alias(litellm, alias_of(cluster, name))
    assert [k.token for k in keys] == [token_id(value)]
    assert obj["status"]["tokenID"] == token_id(value)
    assert await authenticates(litellm, value)


async def test_key_secret_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("lost", alias_of(cluster, "lost")))
    old = (await ready_key(cluster, "lost"))["status"]["tokenID"]

    await cluster.client.delete(SECRETS, cluster.namespace, secret_name_of(cluster, "lost"))

    obj = await token_changed(cluster, "lost", old)
    value = await secret_key(cluster, secret_name_of(cluster, "lost"))
    assert obj["status"]["tokenID"] == token_id(value)
    assert await authenticates(litellm, value)
    with pytest.raises(NotFoundError):
        await litellm.client.key_info(old)
    assert [k.token for k in await keys_with_alias(litellm, alias_of(cluster, "lost"))] == [token_id(value)]
    await eventually(lambda: has_event(cluster, "lost", "KeySecretDeleted"), what="KeySecretDeleted Event")


async def test_key_secret_edited(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("edited", alias_of(cluster, "edited")))
    old = (await ready_key(cluster, "edited"))["status"]["tokenID"]
    tampered = f"sk-tampered-{cluster.namespace}"

    await cluster.client.patch(
        SECRETS,
        cluster.namespace,
        secret_name_of(cluster, "edited"),
        {"data": {"key": base64.b64encode(tampered.encode()).decode()}},
    )

    obj = await token_changed(cluster, "edited", old)
    value = await secret_key(cluster, secret_name_of(cluster, "edited"))
    assert value != tampered
    assert obj["status"]["tokenID"] == token_id(value)
    assert await authenticates(litellm, value)
    assert not await authenticates(litellm, tampered)
    with pytest.raises(NotFoundError):
        await litellm.client.key_info(old)
    await eventually(lambda: has_event(cluster, "edited", "KeySecretChanged"), what="KeySecretChanged Event")


async def test_key_rotated(cluster: Cluster, litellm: LiteLLMTarget, double, operator) -> None:
    alias = alias_of(cluster, "rotated")
    secret_name = secret_name_of(cluster, "rotated")
    body = key_body("rotated", alias, maxBudget="4")
    body["metadata"]["annotations"] = {GRACE: "3s"}
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    old_obj = await ready_key(cluster, "rotated")
    old_token = old_obj["status"]["tokenID"]
    old_value = await secret_key(cluster, secret_name)
    writes = secret_writes(double, secret_name)

    await annotate(cluster, "rotated", {ROTATE: "first"})

    obj = await token_changed(cluster, "rotated", old_token)
    new_value = await secret_key(cluster, secret_name)
    status = obj["status"]
    assert status["tokenID"] == token_id(new_value)
    assert status["lastRotationRequest"] == "first"
    assert status["lastRotatedAt"]
    assert await authenticates(litellm, new_value)
    assert (await litellm.client.key_info(status["tokenID"])).key_alias == alias
    assert (await litellm.client.key_info(status["tokenID"])).max_budget == 4

    async def old_revoked() -> bool:
        current = await ready_key(cluster, "rotated")
        return "previousTokenID" not in current["status"] and not await authenticates(litellm, old_value)

    await eventually(old_revoked, what="previous key revoked after the grace period")
    with pytest.raises(NotFoundError):
        await litellm.client.key_info(old_token)
    assert await authenticates(litellm, new_value)
    assert secret_writes(double, secret_name) == writes + 1
    assert [k.token for k in await keys_with_alias(litellm, alias)] == [token_id(new_value)]


async def test_key_rotation_grace(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = key_body("graceful", alias_of(cluster, "graceful"))
    body["metadata"]["annotations"] = {GRACE: "10m"}
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    old_token = (await ready_key(cluster, "graceful"))["status"]["tokenID"]
    old_value = await secret_key(cluster, secret_name_of(cluster, "graceful"))

    await annotate(cluster, "graceful", {ROTATE: "2024-01-01"})

    obj = await token_changed(cluster, "graceful", old_token)
    assert obj["status"]["previousTokenID"] == old_token
    assert obj["status"]["previousKeyRevokeAt"]
    assert await authenticates(litellm, old_value)
    assert await authenticates(litellm, await secret_key(cluster, secret_name_of(cluster, "graceful")))


async def test_key_secret_name_conflict(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    # Two VirtualKeys with one keyAlias map to one Secret. The second must not take the first
    # one's key, because deleting it would then delete that key in LiteLLM.
    alias = alias_of(cluster, "shared")
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("first", alias))
    first = await ready_key(cluster, "first")
    value = await secret_key(cluster, secret_name_of(cluster, "shared"))

    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("second", alias))

    async def conflict() -> bool:
        obj = await cluster.client.get(api.VIRTUAL_KEYS, cluster.namespace, "second")
        conditions = (obj.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Degraded" and c["reason"] == "KeySecretConflict" for c in conditions)

    await eventually(conflict, what="second VirtualKey reports KeySecretConflict")
    await cluster.client.delete(api.VIRTUAL_KEYS, cluster.namespace, "second")

    async def second_gone() -> bool:
        listed = await cluster.client.list(api.VIRTUAL_KEYS, cluster.namespace)
        return [o["metadata"]["name"] for o in listed["items"]] == ["first"]

    await eventually(second_gone, what="second VirtualKey deleted")
    assert await secret_key(cluster, secret_name_of(cluster, "shared")) == value
    assert await authenticates(litellm, value)
    assert (await litellm.client.key_info(first["status"]["tokenID"])).key_alias == alias


async def test_key_alias_change_moves_secret(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("moving", alias_of(cluster, "one")))
    before = await ready_key(cluster, "moving")
    value = await secret_key(cluster, secret_name_of(cluster, "one"))

    await update_spec(cluster, "moving", {"keyAlias": alias_of(cluster, "two")})

    obj = await ready_key(cluster, "moving", generation=2)
    assert obj["status"]["keySecretRef"] == secret_name_of(cluster, "two")
    assert obj["status"]["tokenID"] == before["status"]["tokenID"]
    assert await secret_key(cluster, secret_name_of(cluster, "two")) == value
    with pytest.raises(NotFound):
        await cluster.client.get(SECRETS, cluster.namespace, secret_name_of(cluster, "one"))
    assert (await litellm.client.key_info(obj["status"]["tokenID"])).key_alias == alias_of(cluster, "two")
    assert await authenticates(litellm, value)
    assert await has_event(cluster, "moving", "KeySecretRenamed")
    assert not await has_event(cluster, "moving", "KeySecretDeleted")
