"""Lease renewal gives up at the renew deadline even when the API server never responds."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from litellm_operator.runtime.kube import NotFound
from litellm_operator.runtime.leaderelection import LeaderElector


class StallingLeaseClient:
    """Serves one Lease in memory; once `stall` is set, every call waits forever."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.stall = False
        self._never = asyncio.Event()

    async def _wait_if_stalled(self) -> None:
        if self.stall:
            await self._never.wait()

    async def get(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        await self._wait_if_stalled()
        if self.lease is None:
            raise NotFound(404, "NotFound", "lease not found")
        return copy.deepcopy(self.lease)

    async def create(self, resource: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        await self._wait_if_stalled()
        self.lease = copy.deepcopy(body)
        return copy.deepcopy(body)

    async def replace(self, resource: Any, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        await self._wait_if_stalled()
        self.lease = copy.deepcopy(body)
        return copy.deepcopy(body)


async def test_stalled_renewal_loses_leadership() -> None:
    client = StallingLeaseClient()
    elector = LeaderElector(
        client, namespace="ns", name="lease", identity="me", lease_duration=1.5, renew_deadline=0.6, retry_period=0.1
    )
    stop = asyncio.Event()
    assert await elector.acquire(stop)
    assert client.lease["spec"]["leaseDurationSeconds"] == 2

    client.stall = True
    started = asyncio.get_running_loop().time()
    kept = await asyncio.wait_for(elector.renew_until_lost(stop), timeout=5)
    elapsed = asyncio.get_running_loop().time() - started

    assert kept is False
    assert not elector.is_leader()
    # Lost within the renew deadline plus one retry period, not after the request timeout.
    assert elapsed < 0.6 + 0.1 + 0.3
