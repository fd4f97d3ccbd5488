"""Connection resolution from Secrets: names, defaults, and messages that never echo secrets."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.controllers.connection import ConnectionNotReady, ConnectionResolver
from litellm_operator.litellm.pool import ClientPool


def secret(**data: str) -> dict[str, Any]:
    return {"metadata": {"name": "conn"}, "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def ref(**spec: Any) -> api.ConnectionRef:
    return api.converter.structure(spec, api.ConnectionRef)


@pytest.fixture
async def pool() -> AsyncIterator[ClientPool]:
    clients = ClientPool()
    yield clients
    await clients.close()


@pytest.fixture
def resolver(pool: ClientPool) -> Callable[..., ConnectionResolver]:
    def build(secrets: dict[tuple[str, str], dict[str, Any]], **kwargs: Any) -> ConnectionResolver:
        return ConnectionResolver(get_secret=lambda ns, name: secrets.get((ns, name)), pool=pool, **kwargs)

    return build


async def test_secret_ref_defaults(resolver: Callable[..., ConnectionResolver]) -> None:
    found = resolver({("ns", "conn"): secret(masterKey=" sk-master-value \n", url="http://proxy:4000/")})

    connection = found.resolve("ns", ref(secretRef={"name": "conn"}))

    assert connection.url == "http://proxy:4000"
    assert (connection.secret_namespace, connection.secret_name) == ("ns", "conn")


async def test_instance_ref_convention(resolver: Callable[..., ConnectionResolver]) -> None:
    found = resolver({("other", "litellm-secrets"): secret(masterkey="sk-master-value")})

    connection = found.resolve("ns", ref(instanceRef={"name": "litellm", "namespace": "other"}))

    assert connection.url == "http://litellm-service.other.svc.cluster.local:4000"


async def test_url_override_applies(resolver: Callable[..., ConnectionResolver]) -> None:
    found = resolver({("ns", "conn"): secret(masterKey="sk-master-value", url="http://in-cluster:4000")}, url_override="http://127.0.0.1:4000")

    assert found.resolve("ns", ref(secretRef={"name": "conn"})).url == "http://127.0.0.1:4000"


@pytest.mark.parametrize(
    ("secrets", "reason"),
    [
        ({}, "SecretNotFound"),
        ({("ns", "conn"): secret(url="http://proxy:4000")}, "SecretKeyMissing"),
        ({("ns", "conn"): secret(masterKey="  ", url="http://proxy:4000")}, "SecretKeyMissing"),
        ({("ns", "conn"): {"metadata": {}, "data": {"masterKey": "%%%", "url": "aA=="}}}, "SecretKeyInvalid"),
    ],
)
async def test_unusable_secret_reasons(resolver: Callable[..., ConnectionResolver], secrets: dict[tuple[str, str], dict[str, Any]], reason: str) -> None:
    with pytest.raises(ConnectionNotReady) as caught:
        resolver(secrets).resolve("ns", ref(secretRef={"name": "conn"}))

    assert caught.value.reason == reason


async def test_invalid_url_not_echoed(resolver: Callable[..., ConnectionResolver]) -> None:
    # A swapped Secret puts the master key where the URL belongs; the message must not show it.
    found = resolver({("ns", "conn"): secret(masterKey="http://proxy:4000", url="sk-master-value-123")})

    with pytest.raises(ConnectionNotReady) as caught:
        found.resolve("ns", ref(secretRef={"name": "conn"}))

    assert caught.value.reason == "InvalidURL"
    assert "sk-master-value-123" not in caught.value.message
    assert "sk-master-value-123" not in str(caught.value)


async def test_deleted_secret_remembered_for_deletion(resolver: Callable[..., ConnectionResolver]) -> None:
    secrets = {("ns", "conn"): secret(masterKey="sk-master-value", url="http://proxy:4000")}
    found = resolver(secrets)
    first = found.resolve("ns", ref(secretRef={"name": "conn"}))
    secrets.clear()

    assert found.resolve("ns", ref(secretRef={"name": "conn"}), for_deletion=True) == first
    with pytest.raises(ConnectionNotReady):
        found.resolve("ns", ref(secretRef={"name": "conn"}))
