"""User custom resources against a LiteLLM proxy, through the whole operator."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from litellm_operator import api
from litellm_operator.controllers.base import FINALIZER
from litellm_operator.controllers.keys import ROTATE_ANNOTATION
from litellm_operator.controllers.metadata import OWNER_KEY
from litellm_operator.litellm import models
from litellm_operator.litellm.client import token_id
from litellm_operator.litellm.errors import NotFoundError
from litellm_operator.runtime.kube import CORE_EVENTS, SECRETS, NotFound
from litellm_operator.testing.cluster import Cluster

from .conftest import CONNECTION_SECRET, LiteLLMTarget, eventually

SAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "samples"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
LITELLM_WRITES = (
    "/user/new",
    "/user/update",
    "/user/delete",
    "/key/generate",
    "/key/update",
    "/key/delete",
    "/key/block",
    "/key/unblock",
)


@pytest.fixture
def sync_period() -> float:
    """A short drift period, so repairs and the steady state show within a test."""
    return 0.5


def user_body(name: str, email: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "User",
        "metadata": {"name": name},
        "spec": {"connectionRef": {"secretRef": {"name": CONNECTION_SECRET}}, "userEmail": email, **spec},
    }


def sample(file_name: str, namespace: str) -> dict[str, Any]:
    """Return a sample User with its email and key alias made unique to the test's namespace."""
    body = yaml.safe_load((SAMPLES / file_name).read_text())
    body["spec"]["userEmail"] = f"{namespace}-{body['spec']['userEmail']}"
    if "keyAlias" in body["spec"]:
        body["spec"]["keyAlias"] = f"{namespace}-{body['spec']['keyAlias']}"
    return body


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item["type"] == type_:
            return item
    return None


async def ready_user(cluster: Cluster, name: str) -> dict[str, Any]:
    """Wait until the User is Ready for its current generation and return it."""

    async def check() -> dict[str, Any] | None:
        obj = await cluster.client.get(api.USERS, cluster.namespace, name)
        ready = condition(obj, "Ready")
        current = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
        return obj if ready and ready["status"] == "True" and current else None

    return await eventually(check, what=f"User {name} Ready")


async def edit_spec(cluster: Cluster, name: str, spec: dict[str, Any]) -> None:
    await cluster.client.patch(api.USERS, cluster.namespace, name, {"spec": spec})


async def key_secret_value(cluster: Cluster, name: str) -> str:
    secret = await cluster.client.get(SECRETS, cluster.namespace, name)
    return base64.b64decode(secret["data"]["key"]).decode()


async def key_info_as(litellm: LiteLLMTarget, key: str) -> tuple[int, dict[str, Any]]:
    """Call /key/info with the key itself as the bearer, the way a workload would use it."""
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as session, session.get(f"{litellm.url}/key/info", headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def gone(cluster: Cluster, resource: Any, name: str) -> bool:
    try:
        await cluster.client.get(resource, cluster.namespace, name)
    except NotFound:
        return True
    return False


async def test_sample_user_with_key(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = sample("user.yaml", cluster.namespace)
    await cluster.client.create(api.USERS, cluster.namespace, body)

    obj = await ready_user(cluster, "example-user")
    status = obj["status"]
    assert status["userID"] == obj["metadata"]["uid"]
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert status["keySecretRef"] == f"litellm-key-{cluster.namespace}-alice-default"
    assert status["keyAlias"] == f"{cluster.namespace}-alice-default"
    assert status["maxBudget"] == "25"

    info = await litellm.client.user_info(status["userID"])
    user = info.user_info
    assert user.user_email == body["spec"]["userEmail"]
    assert user.user_alias == "alice"
    assert user.user_role == "internal_user"
    assert user.models == ["fake-model"]
    assert user.max_budget == 25
    assert user.budget_duration == "30d"
    assert user.metadata[OWNER_KEY] == f"User/{cluster.namespace}/example-user"

    key = await key_secret_value(cluster, status["keySecretRef"])
    assert key.startswith("sk-")
    assert status["token"] == token_id(key)
    assert [k.token for k in info.keys] == [token_id(key)]
    code, answer = await key_info_as(litellm, key)
    assert code == 200
    assert answer["info"]["user_id"] == status["userID"]

    secret = await cluster.client.get(SECRETS, cluster.namespace, status["keySecretRef"])
    (owner,) = secret["metadata"]["ownerReferences"]
    assert owner["uid"] == obj["metadata"]["uid"]
    assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "litellm-operator"
    assert operator.litellm_calls("/key/generate") == 1
    assert operator.litellm_calls("/user/new") == 1


async def test_sample_user_without_key(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(api.USERS, cluster.namespace, sample("user-without-key.yaml", cluster.namespace))

    obj = await ready_user(cluster, "example-user-without-key")
    user_id = obj["status"]["userID"]
    info = await litellm.client.user_info(user_id)
    assert info.user_info.user_alias == "bob"
    assert info.keys == []
    assert (await litellm.client.key_list(user_id=user_id)).keys == []
    assert "keySecretRef" not in obj["status"]
    assert "token" not in obj["status"]
    secrets = await cluster.client.list(SECRETS, cluster.namespace)
    assert [s["metadata"]["name"] for s in secrets["items"]] == [CONNECTION_SECRET]
    assert operator.litellm_calls("/key/generate") == 0


async def test_user_fields_pushed(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    email = f"{cluster.namespace}-carol@example.com"
    await cluster.client.create(api.USERS, cluster.namespace, user_body("carol", email, autoCreateKey=False))
    obj = await ready_user(cluster, "carol")
    user_id = obj["status"]["userID"]

    await edit_spec(
        cluster,
        "carol",
        {
            "userEmail": f"{cluster.namespace}-carol2@example.com",
            "userAlias": "carol",
            "userRole": "internal_user_viewer",
            "models": ["fake-model", "other-model"],
            "maxBudget": "12.5",
            "budgetDuration": "7d",
            "tpmLimit": 1000,
            "rpmLimit": 10,
            "maxParallelRequests": 4,
            "allowedCacheControls": ["no-cache"],
            "modelMaxBudget": {"fake-model": "2.5"},
            "modelRPMLimit": {"fake-model": "5"},
            "modelTPMLimit": {"fake-model": "500"},
            "metadata": {"team": "core"},
        },
    )
    obj = await ready_user(cluster, "carol")

    user = (await litellm.client.user_info(user_id)).user_info
    assert user.user_email == f"{cluster.namespace}-carol2@example.com"
    assert user.user_alias == "carol"
    assert user.user_role == "internal_user_viewer"
    assert sorted(user.models) == ["fake-model", "other-model"]
    assert user.max_budget == 12.5
    assert user.budget_duration == "7d"
    assert user.tpm_limit == 1000
    assert user.rpm_limit == 10
    assert user.max_parallel_requests == 4
    assert user.allowed_cache_controls == ["no-cache"]
    assert user.model_max_budget == {"fake-model": 2.5}
    assert user.metadata["model_rpm_limit"] == {"fake-model": 5}
    assert user.metadata["model_tpm_limit"] == {"fake-model": 500}
    assert user.metadata["team"] == "core"
    status = obj["status"]
    assert status["maxBudget"] == "12.5"
    assert status["modelMaxBudget"] == {"fake-model": "2.5"}
    assert status["modelRPMLimit"] == {"fake-model": "5"}
    assert status["userRole"] == "internal_user_viewer"


async def test_user_removed_fields_cleared(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    spec = {
        "autoCreateKey": False,
        "userAlias": "dave",
        "maxBudget": "3",
        "budgetDuration": "30d",
        "tpmLimit": 100,
        "rpmLimit": 5,
        "modelRPMLimit": {"fake-model": "5"},
        "metadata": {"team": "core"},
    }
    await cluster.client.create(
        api.USERS, cluster.namespace, user_body("dave", f"{cluster.namespace}-dave@example.com", **spec)
    )
    obj = await ready_user(cluster, "dave")
    user_id = obj["status"]["userID"]
    user = (await litellm.client.user_info(user_id)).user_info
    assert user.max_budget == 3

    # A merge patch with null removes the field from the spec.
    removed = {name: None for name in spec if name != "autoCreateKey"}
    await edit_spec(cluster, "dave", removed)
    obj = await ready_user(cluster, "dave")

    user = (await litellm.client.user_info(user_id)).user_info
    assert not user.user_alias
    assert user.max_budget is None
    assert user.budget_duration is None
    assert user.tpm_limit is None
    assert user.rpm_limit is None
    assert "model_rpm_limit" not in user.metadata
    assert "team" not in user.metadata
    assert user.metadata[OWNER_KEY] == f"User/{cluster.namespace}/dave"
    assert "maxBudget" not in obj["status"]


async def test_user_drift_repaired(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = user_body(
        "erin", f"{cluster.namespace}-erin@example.com", autoCreateKey=False, maxBudget="5", metadata={"a": "b"}
    )
    await cluster.client.create(api.USERS, cluster.namespace, body)
    obj = await ready_user(cluster, "erin")
    user_id = obj["status"]["userID"]

    await litellm.client.user_update(
        models.UserUpdateRequest(user_id=user_id, max_budget=99, metadata={"a": "changed"})
    )

    async def repaired() -> bool:
        user = (await litellm.client.user_info(user_id)).user_info
        return user.max_budget == 5 and user.metadata.get("a") == "b"

    await eventually(repaired, what="out-of-band edit repaired")


async def test_user_key_recreated_when_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = user_body("frank", f"{cluster.namespace}-frank@example.com", keyAlias=f"{cluster.namespace}-frank")
    await cluster.client.create(api.USERS, cluster.namespace, body)
    obj = await ready_user(cluster, "frank")
    key = await key_secret_value(cluster, obj["status"]["keySecretRef"])

    await litellm.client.key_delete(keys=[key])

    async def restored() -> bool:
        return (await litellm.client.key_info(key)).user_id == obj["status"]["userID"]

    # The value in the Secret is created again, so workloads keep their key.
    await eventually(restored, what="deleted key created again with the same value")
    assert await key_secret_value(cluster, obj["status"]["keySecretRef"]) == key


async def test_user_blocked_blocks_key(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(
        api.USERS, cluster.namespace, user_body("gina", f"{cluster.namespace}-gina@example.com")
    )
    obj = await ready_user(cluster, "gina")
    token = obj["status"]["token"]

    await edit_spec(cluster, "gina", {"blocked": True})
    obj = await ready_user(cluster, "gina")
    assert (await litellm.client.key_info(token)).blocked
    assert obj["status"]["blocked"] is True

    await edit_spec(cluster, "gina", {"blocked": False})
    obj = await ready_user(cluster, "gina")
    assert not (await litellm.client.key_info(token)).blocked
    assert obj["status"]["blocked"] is False


async def test_user_auto_key_turned_off(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    await cluster.client.create(
        api.USERS, cluster.namespace, user_body("hank", f"{cluster.namespace}-hank@example.com")
    )
    obj = await ready_user(cluster, "hank")
    secret_name = obj["status"]["keySecretRef"]

    await edit_spec(cluster, "hank", {"autoCreateKey": False})
    obj = await ready_user(cluster, "hank")

    assert (await litellm.client.user_info(obj["status"]["userID"])).keys == []
    assert await gone(cluster, SECRETS, secret_name)
    assert "token" not in obj["status"]


async def test_user_duplicate_email_degraded(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    email = f"{cluster.namespace}-ivy@example.com"
    other_id = f"{cluster.namespace}-other"
    await litellm.client.user_new(models.UserNewRequest(user_id=other_id, user_email=email, auto_create_key=False))
    try:
        await cluster.client.create(api.USERS, cluster.namespace, user_body("ivy", email))

        async def degraded() -> dict[str, Any] | None:
            obj = await cluster.client.get(api.USERS, cluster.namespace, "ivy")
            found = condition(obj, "Degraded")
            return found if found and found["status"] == "True" else None

        found = await eventually(degraded, what="Degraded condition")
        assert found["reason"] == "UserAlreadyExists"
        assert "spec.userEmail" in found["message"]
        assert other_id in found["message"]
        assert "spec.userID" in found["message"]
        secrets = await cluster.client.list(SECRETS, cluster.namespace)
        assert [s["metadata"]["name"] for s in secrets["items"]] == [CONNECTION_SECRET]
    finally:
        await litellm.client.user_delete([other_id])


async def test_user_adopted_by_user_id(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    email = f"{cluster.namespace}-jack@example.com"
    user_id = f"{cluster.namespace}-jack"
    await litellm.client.user_new(
        models.UserNewRequest(user_id=user_id, user_email=email, max_budget=1, auto_create_key=False)
    )
    body = user_body("jack", email, userID=user_id, maxBudget="8", autoCreateKey=False)
    await cluster.client.create(api.USERS, cluster.namespace, body)

    obj = await ready_user(cluster, "jack")
    assert obj["status"]["userID"] == user_id
    user = (await litellm.client.user_info(user_id)).user_info
    assert user.max_budget == 8
    assert user.metadata[OWNER_KEY] == f"User/{cluster.namespace}/jack"
    assert operator.litellm_calls("/user/new") == 0


async def test_user_steady_state_no_writes(cluster: Cluster, litellm: LiteLLMTarget, double, operator) -> None:
    body = user_body(
        "kim",
        f"{cluster.namespace}-kim@example.com",
        keyAlias=f"{cluster.namespace}-kim",
        userAlias="kim",
        models=["fake-model"],
        maxBudget="10",
        modelRPMLimit={"fake-model": "5"},
        metadata={"team": "core"},
    )
    await cluster.client.create(api.USERS, cluster.namespace, body)
    await ready_user(cluster, "kim")

    def reconciles() -> float:
        return operator.metric("controller_runtime_reconcile_total", {"controller": "user", "result": "requeue_after"})

    # Let the wake-ups of the object's own writes (finalizer, status, Secret) settle first.
    settled = reconciles()
    await eventually(lambda: _at_least(reconciles, settled + 1), what="one drift check")
    litellm_writes = sum(operator.litellm_calls(endpoint) for endpoint in LITELLM_WRITES)
    api_writes = sum(1 for r in double.request_log if r.method in WRITE_METHODS)
    start = reconciles()

    await eventually(lambda: _at_least(reconciles, start + 3), timeout=30, what="three drift checks")

    assert sum(operator.litellm_calls(endpoint) for endpoint in LITELLM_WRITES) == litellm_writes
    assert sum(1 for r in double.request_log if r.method in WRITE_METHODS) == api_writes


async def _at_least(read: Any, value: float) -> bool:
    return read() >= value


async def test_user_deleted(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = user_body("leo", f"{cluster.namespace}-leo@example.com", keyAlias=f"{cluster.namespace}-leo")
    await cluster.client.create(api.USERS, cluster.namespace, body)
    obj = await ready_user(cluster, "leo")
    user_id = obj["status"]["userID"]
    secret_name = obj["status"]["keySecretRef"]
    token = obj["status"]["token"]

    await cluster.client.delete(api.USERS, cluster.namespace, "leo")

    await eventually(lambda: gone(cluster, api.USERS, "leo"), what="User object removed")
    assert await gone(cluster, SECRETS, secret_name)
    with pytest.raises(NotFoundError):
        await litellm.client.user_info(user_id)
    with pytest.raises(NotFoundError):
        await litellm.client.key_info(token)


async def test_user_secrets_never_exposed(
    cluster: Cluster, litellm: LiteLLMTarget, operator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = user_body("mia", f"{cluster.namespace}-mia@example.com", keyAlias=f"{cluster.namespace}-mia")
    await cluster.client.create(api.USERS, cluster.namespace, body)
    obj = await ready_user(cluster, "mia")
    key = await key_secret_value(cluster, obj["status"]["keySecretRef"])
    # A failure path too: an email that another user has.
    await cluster.client.create(
        api.USERS, cluster.namespace, user_body("mia-twin", f"{cluster.namespace}-mia@example.com")
    )

    async def twin_degraded() -> bool:
        twin = await cluster.client.get(api.USERS, cluster.namespace, "mia-twin")
        found = condition(twin, "Degraded")
        return bool(found and found["status"] == "True")

    await eventually(twin_degraded, what="duplicate email reported")
    await cluster.client.delete(api.USERS, cluster.namespace, "mia")
    await eventually(lambda: gone(cluster, api.USERS, "mia"), what="User object removed")

    texts = [record.getMessage() for record in caplog.records]
    texts += [repr(record.exc_info) for record in caplog.records if record.exc_info]
    events = await cluster.client.list(CORE_EVENTS, cluster.namespace)
    texts += [str(event) for event in events["items"]]
    users = await cluster.client.list(api.USERS, cluster.namespace)
    texts += [str(user.get("status")) for user in users["items"]]
    assert texts
    for text in texts:
        assert key not in text
        assert litellm.master_key not in text


async def test_user_key_rotated(cluster: Cluster, litellm: LiteLLMTarget, operator) -> None:
    body = user_body("gina", f"{cluster.namespace}-gina@example.com", keyAlias=f"{cluster.namespace}-gina")
    body["metadata"]["annotations"] = {"litellm-operator.litellm.ai/rotation-grace-period": "1s"}
    await cluster.client.create(api.USERS, cluster.namespace, body)
    obj = await ready_user(cluster, "gina")
    secret_name = obj["status"]["keySecretRef"]
    old_key = await key_secret_value(cluster, secret_name)

    patch = {"metadata": {"annotations": {ROTATE_ANNOTATION: "now"}}}
    await cluster.client.patch(api.USERS, cluster.namespace, "gina", patch)

    async def rotated() -> bool:
        current = await cluster.client.get(api.USERS, cluster.namespace, "gina")
        status = current.get("status") or {}
        return status.get("lastRotationRequest") == "now" and "previousTokenID" not in status

    await eventually(rotated, what="user key rotated and the old key revoked")
    new_key = await key_secret_value(cluster, secret_name)
    assert new_key != old_key
    assert (await key_info_as(litellm, new_key))[0] == 200
    assert (await key_info_as(litellm, old_key))[0] != 200
    assert (await litellm.client.key_info(token_id(new_key))).user_id == obj["status"]["userID"]
