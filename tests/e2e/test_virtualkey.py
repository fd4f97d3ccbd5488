"""VirtualKey custom resources against a LiteLLM proxy, through the whole operator."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest

from litellm_operator import api
from litellm_operator.controllers.base import FINALIZER
from litellm_operator.litellm import models
from litellm_operator.litellm.client import token_id
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import SECRETS, NotFound
from litellm_operator.testing.cluster import Cluster

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually

WRITE_ENDPOINTS = ("/key/generate", "/key/update", "/key/delete", "/key/block", "/key/unblock")


@pytest.fixture
def sync_period() -> float:
    """Check drift every second, so out-of-band changes are repaired within a test."""
    return 1.0


def key_body(name: str, alias: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "VirtualKey",
        "metadata": {"name": name},
        "spec": {"connectionRef": {"secretRef": {"name": CONNECTION_SECRET}}, "keyAlias": alias, **spec},
    }


def alias_of(cluster: Cluster, name: str) -> str:
    return f"{cluster.namespace}-{name}"


def secret_name_of(cluster: Cluster, name: str) -> str:
    return f"litellm-key-{alias_of(cluster, name)}"


async def ready_key(cluster: Cluster, name: str, generation: int | None = None) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.VIRTUAL_KEYS, cluster.namespace, name)
        status = obj.get("status") or {}
        wanted = generation or obj["metadata"]["generation"]
        ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True"]
        return obj if ready and status.get("observedGeneration") == wanted else None

    return await eventually(check, what=f"VirtualKey {name} Ready")


async def secret_key(cluster: Cluster, secret_name: str) -> str:
    secret = await cluster.client.get(SECRETS, cluster.namespace, secret_name)
    return base64.b64decode(secret["data"]["key"]).decode()


async def authenticates(litellm: LiteLLMTarget, key: str) -> bool:
    """Return True when `key` itself is accepted as a bearer token by /key/info."""
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as session, session.get(f"{litellm.url}/key/info", headers=headers) as response:
        return response.status == 200


async def keys_with_alias(litellm: LiteLLMTarget, alias: str) -> list[models.Key]:
    return (await litellm.client.key_list(key_alias=alias)).keys


async def update_spec(cluster: Cluster, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return await cluster.client.patch(api.VIRTUAL_KEYS, cluster.namespace, name, {"spec": spec})


async def annotate(cluster: Cluster, name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return await cluster.client.patch(
        api.VIRTUAL_KEYS, cluster.namespace, name, {"metadata": {"annotations": annotations}}
    )


def secret_writes(server: Any, secret_name: str) -> int:
    return sum(
        1
        for record in server.request_log
        if record.method in ("POST", "PUT", "PATCH")
        and (record.path.endswith("/secrets") or record.path.endswith(f"/secrets/{secret_name}"))
    )


async def test_key_created(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    alias = alias_of(cluster, "sample")
    body = key_body(
        "sample",
        alias,
        models=["fake-model"],
        maxBudget="10",
        budgetDuration="30d",
        rpmLimit=10,
        tpmLimit=1000,
        maxParallelRequests=2,
        metadata={"owner": "platform"},
        modelRPMLimit={"fake-model": 5},
        modelTPMLimit={"fake-model": 500},
        enforcedParams=["user"],
        allowedRoutes=["/chat/completions", "/key/info"],
        aliases={"fast": "fake-model"},
    )
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)

    obj = await ready_key(cluster, "sample")
    status = obj["status"]
    value = await secret_key(cluster, secret_name_of(cluster, "sample"))
    assert value.startswith("sk-")
    assert status["tokenID"] == token_id(value)
    assert status["token"] == token_id(value)
    assert status["keySecretRef"] == secret_name_of(cluster, "sample")
    assert value not in str(obj)
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert await authenticates(litellm, value)

    key = await litellm.client.key_info(status["tokenID"])
    assert key.key_alias == alias
    assert key.models == ["fake-model"]
    assert key.max_budget == 10
    assert key.rpm_limit == 10
    assert key.max_parallel_requests == 2
    assert key.metadata["owner"] == "platform"
    assert key.metadata["model_rpm_limit"] == {"fake-model": 5}
    assert key.metadata["enforced_params"] == ["user"]
    assert sorted(key.allowed_routes) == ["/chat/completions", "/key/info"]
    assert status["maxBudget"] == "10"


async def test_key_secret_owned(cluster: Cluster, operator) -> None:
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("owned", alias_of(cluster, "owned")))
    obj = await ready_key(cluster, "owned")

    secret = await cluster.client.get(SECRETS, cluster.namespace, secret_name_of(cluster, "owned"))
    (reference,) = secret["metadata"]["ownerReferences"]
    assert reference["uid"] == obj["metadata"]["uid"]
    assert reference["controller"] is True
    assert reference["blockOwnerDeletion"] is True
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "litellm-operator"


async def test_key_given_value(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    value = f"sk-given-{cluster.namespace}"
    await cluster.client.create(
        api.VIRTUAL_KEYS, cluster.namespace, key_body("given", alias_of(cluster, "given"), key=value)
    )
    obj = await ready_key(cluster, "given")

    assert obj["status"]["tokenID"] == token_id(value)
    assert await secret_key(cluster, secret_name_of(cluster, "given")) == value
    assert await authenticates(litellm, value)


async def test_key_fields_updated_and_cleared(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = key_body(
        "edit",
        alias_of(cluster, "edit"),
        models=["fake-model"],
        maxBudget="5",
        rpmLimit=10,
        metadata={"team": "a"},
        modelRPMLimit={"fake-model": 5},
        enforcedParams=["user"],
        permissions={"allow": "yes"},
    )
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    token = (await ready_key(cluster, "edit"))["status"]["tokenID"]

    changed = await update_spec(
        cluster,
        "edit",
        {
            "models": ["fake-model", "other-model"],
            "maxBudget": "7.5",
            "rpmLimit": None,
            "metadata": {"team": "b"},
            "modelRPMLimit": None,
            "enforcedParams": None,
            "permissions": None,
            "config": {"x": "y"},
            "blocked": True,
        },
    )
    obj = await ready_key(cluster, "edit", changed["metadata"]["generation"])

    key = await litellm.client.key_info(token)
    assert sorted(key.models) == ["fake-model", "other-model"]
    assert key.max_budget == 7.5
    assert key.rpm_limit is None
    assert key.metadata["team"] == "b"
    assert not key.metadata.get("model_rpm_limit")
    assert not key.metadata.get("enforced_params")
    assert not key.permissions
    assert key.config == {"x": "y"}
    assert key.blocked is True
    assert obj["status"]["blocked"] is True

    changed = await update_spec(cluster, "edit", {"blocked": None})
    await ready_key(cluster, "edit", changed["metadata"]["generation"])
    assert not (await litellm.client.key_info(token)).blocked


async def test_key_drift_repaired(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = key_body("drift", alias_of(cluster, "drift"), maxBudget="3", metadata={"a": "1"})
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    token = (await ready_key(cluster, "drift"))["status"]["tokenID"]

    await litellm.client.key_update(
        models.KeyUpdateRequest(key=token, max_budget=99.0, metadata={"intruder": "x"}, rpm_limit=1)
    )

    async def repaired() -> bool:
        key = await litellm.client.key_info(token)
        return key.max_budget == 3 and key.rpm_limit is None and key.metadata.get("a") == "1" and (
            "intruder" not in key.metadata
        )

    await eventually(repaired, what="out-of-band key change repaired")


async def test_key_duration_applied_once(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = key_body("expiring", alias_of(cluster, "expiring"), duration="1h")
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    obj = await ready_key(cluster, "expiring")
    token = obj["status"]["tokenID"]
    expires = (await litellm.client.key_info(token)).expires
    assert expires

    # Change another field so the key is updated, and let several drift checks pass.
    changed = await update_spec(cluster, "expiring", {"maxBudget": "2"})
    await ready_key(cluster, "expiring", changed["metadata"]["generation"])
    checks = operator.litellm_calls("/key/info")
    await eventually(
        lambda: _at_least(operator.litellm_calls("/key/info"), checks + 3), what="three drift checks"
    )

    assert (await litellm.client.key_info(token)).expires == expires


async def _at_least(value: float, wanted: float) -> bool:
    return value >= wanted


async def test_key_steady_state(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = key_body(
        "steady",
        alias_of(cluster, "steady"),
        models=["fake-model"],
        maxBudget="1.5",
        softBudget="1",
        modelTPMLimit={"fake-model": 10},
        allowedCacheControls=["no-cache"],
        duration="1h",
    )
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, body)
    await ready_key(cluster, "steady")
    # Let the first drift check settle anything the creation left behind.
    infos = operator.litellm_calls("/key/info")
    await eventually(lambda: _at_least(operator.litellm_calls("/key/info"), infos + 1), what="a drift check")

    writes = sum(operator.litellm_calls(endpoint) for endpoint in WRITE_ENDPOINTS)
    api_writes = api_server_writes(cluster)
    infos = operator.litellm_calls("/key/info")
    await eventually(
        lambda: _at_least(operator.litellm_calls("/key/info"), infos + 3), what="three drift checks"
    )

    assert sum(operator.litellm_calls(endpoint) for endpoint in WRITE_ENDPOINTS) == writes
    if cluster.is_double:
        assert api_server_writes(cluster) == api_writes


def api_server_writes(cluster: Cluster) -> int:
    """Return the writes the double has served so far (0 on a real cluster, which has no log)."""
    if not cluster.is_double:
        return 0
    return sum(1 for r in cluster.server.request_log if r.method in ("POST", "PUT", "PATCH", "DELETE"))


async def test_key_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("gone", alias_of(cluster, "gone")))
    token = (await ready_key(cluster, "gone"))["status"]["tokenID"]

    await cluster.client.delete(api.VIRTUAL_KEYS, cluster.namespace, "gone")

    async def removed() -> bool:
        try:
            await cluster.client.get(api.VIRTUAL_KEYS, cluster.namespace, "gone")
        except NotFound:
            return True
        return False

    await eventually(removed, what="VirtualKey gone")
    with pytest.raises(NotFoundError):
        await litellm.client.key_info(token)
    with pytest.raises(NotFound):
        await cluster.client.get(SECRETS, cluster.namespace, secret_name_of(cluster, "gone"))


async def test_key_rejected_spec_not_retried(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    if litellm.fake is None:
        pytest.skip("needs the LiteLLM fake to answer 400")
    # LiteLLM keeps rejecting the request, as it would an invalid value.
    litellm.fake.fail_next("/key/generate", 400, times=1000)

    await cluster.client.create(api.VIRTUAL_KEYS, cluster.namespace, key_body("rejected", alias_of(cluster, "rejected")))

    async def invalid() -> bool:
        obj = await cluster.client.get(api.VIRTUAL_KEYS, cluster.namespace, "rejected")
        conditions = (obj.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Degraded" and c["reason"] == "InvalidSpec" for c in conditions)

    await eventually(invalid, what="VirtualKey reports InvalidSpec")
    assert operator.metric("controller_runtime_reconcile_errors_total", {"controller": "virtualkey"}) == 0
    # One attempt, plus at most one more when the new key Secret's event wakes the object.
    assert operator.litellm_calls("/key/generate") <= 2
