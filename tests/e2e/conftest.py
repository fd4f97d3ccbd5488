"""Fixtures for tests that run the whole operator against a LiteLLM proxy.

`litellm` is the real proxy when LITELLM_URL and LITELLM_MASTER_KEY are set, and the in-process
LiteLLM fake otherwise, so these tests run everywhere and prove the real thing in CI.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest

from litellm_operator import api
from litellm_operator.litellm.client import LiteLLMClient
from litellm_operator.runtime.kube import CORE_EVENTS, SECRETS
from litellm_operator.testing.cluster import Cluster
from litellm_operator.testing.litellm_fake import FakeLiteLLM
from litellm_operator.testing.operator import RunningOperator, running_operator

CONNECTION_SECRET = "litellm-connection"
# A plaintext master or virtual key; LiteLLM's redacted form "sk-...abcd" and "sk-<redacted>"
# do not match.
PLAINTEXT_KEY = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@attrs.define
class LiteLLMTarget:
    """The proxy under test: its URL, master key, a client for assertions, and the fake if any."""

    url: str
    master_key: str
    client: LiteLLMClient
    fake: FakeLiteLLM | None

    @property
    def is_real(self) -> bool:
        return self.fake is None


@pytest.fixture
async def litellm() -> AsyncIterator[LiteLLMTarget]:
    url = os.environ.get("LITELLM_URL")
    key = os.environ.get("LITELLM_MASTER_KEY")
    async with aiohttp.ClientSession() as session:
        if url and key:
            yield LiteLLMTarget(url.rstrip("/"), key, LiteLLMClient(url, key, session=session), None)
            return
        async with FakeLiteLLM() as fake:
            client = LiteLLMClient(fake.url, fake.master_key, session=session)
            yield LiteLLMTarget(fake.url, fake.master_key, client, fake)


def secret_body(name: str, data: dict[str, str], **metadata: Any) -> dict[str, Any]:
    """Return a Secret manifest with `data` base64-encoded."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, **metadata},
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


@pytest.fixture
async def connection(cluster: Cluster, litellm: LiteLLMTarget) -> str:
    """Create the connection Secret in the test's namespace and return its name."""
    body = secret_body(CONNECTION_SECRET, {"masterKey": litellm.master_key, "url": litellm.url})
    await cluster.client.create(SECRETS, cluster.namespace, body)
    return CONNECTION_SECRET


@pytest.fixture(autouse=True)
async def no_plaintext_keys(cluster: Cluster, caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Fail a test whose logs, Events or custom resources contain a plaintext key."""
    caplog.set_level(logging.INFO)
    yield

    # At teardown caplog.text holds only the teardown phase; the test's own lines are the call's.
    formatter = logging.Formatter("%(name)s %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    logged = "\n".join(formatter.format(record) for record in records)
    assert PLAINTEXT_KEY.findall(logged) == [], "a plaintext key appeared in the logs"
    events = await cluster.client.list(CORE_EVENTS, cluster.namespace)
    for event in events.get("items") or []:
        assert not PLAINTEXT_KEY.search(event.get("message") or ""), f"plaintext key in Event {event['reason']}"
    for resource in (api.TEAMS, api.USERS, api.VIRTUAL_KEYS, api.TEAM_MEMBER_ASSOCIATIONS):
        listed = await cluster.client.list(resource, cluster.namespace)
        for obj in listed.get("items") or []:
            text = json.dumps({"status": obj.get("status"), "annotations": obj["metadata"].get("annotations")})
            assert not PLAINTEXT_KEY.search(text), f"plaintext key in {obj['kind']} {obj['metadata']['name']}"


@pytest.fixture
def sync_period() -> float:
    """Drift-check period of the operator under test; override in a module to change it."""
    return 300.0


@pytest.fixture
async def operator(cluster: Cluster, connection: str, sync_period: float) -> AsyncIterator[RunningOperator]:
    async with running_operator(
        cluster.client, namespaces=[cluster.namespace], sync_period=sync_period
    ) as running:
        yield running


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll `check` until it returns a truthy value without raising; return that value.

    Polling is what a client of the API server does too: there is no event to await for
    "LiteLLM and the status now agree".
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = await check()
            if value:
                return value
        except (AssertionError, LookupError, ValueError) as error:
            last_error = error
        except Exception as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_error!r}")
        await asyncio.sleep(interval)
