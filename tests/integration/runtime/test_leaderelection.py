"""LeaderElector against the API server double, with time driven by a FakeClock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from litellm_operator.runtime.kube import LEASES
from litellm_operator.runtime.leaderelection import LeaderElector, format_micro_time
from litellm_operator.testing.clock import FakeClock
from litellm_operator.testing.cluster import Cluster


def elector(cluster: Cluster, identity: str, clock: FakeClock) -> LeaderElector:
    return LeaderElector(cluster.client, namespace=cluster.namespace, name="lease", identity=identity, clock=clock)


def test_micro_time_has_six_digits() -> None:
    value = datetime(2026, 12, 4, 19, 40, 0, 120000, tzinfo=UTC)
    assert format_micro_time(value) == "2026-12-04T19:40:00.120000Z"


def test_deadline_order_checked(cluster: Cluster) -> None:
    with pytest.raises(ValueError, match="lease_duration"):
        LeaderElector(cluster.client, namespace="a", name="b", identity="c", lease_duration=5, renew_deadline=10)


async def test_acquire_creates_lease(cluster: Cluster) -> None:
    clock = FakeClock()
    first = elector(cluster, "first", clock)

    assert await first.acquire(asyncio.Event())

    lease = await cluster.client.get(LEASES, cluster.namespace, "lease")
    assert lease["spec"]["holderIdentity"] == "first"
    assert lease["spec"]["leaseDurationSeconds"] == 15
    assert lease["spec"]["renewTime"] == "2025-01-01T00:00:00.000000Z"
    assert first.is_leader()


async def test_expiry_judged_by_observation(cluster: Cluster) -> None:
    clock = FakeClock()
    first, second = elector(cluster, "first", clock), elector(cluster, "second", clock)
    assert await first.acquire(asyncio.Event())

    # The first elector never renews. The second must wait a full lease duration from the
    # moment it first saw the record, measured on its own clock.
    attempt = asyncio.create_task(second.acquire(asyncio.Event()))
    await clock.wait_for_sleepers(1)
    await clock.advance(14)
    assert not attempt.done()

    await clock.advance(6)
    assert await asyncio.wait_for(attempt, 5)
    lease = await cluster.client.get(LEASES, cluster.namespace, "lease")
    assert lease["spec"]["holderIdentity"] == "second"
    assert lease["spec"]["leaseTransitions"] == 1


async def test_renewal_keeps_follower_out(cluster: Cluster) -> None:
    clock = FakeClock()
    first, second = elector(cluster, "first", clock), elector(cluster, "second", clock)
    stop = asyncio.Event()
    assert await first.acquire(stop)
    renewing = asyncio.create_task(first.renew_until_lost(stop))
    attempt = asyncio.create_task(second.acquire(stop))

    await clock.wait_for_sleepers(2)
    await clock.advance(60)

    assert not attempt.done()
    assert first.is_leader()
    stop.set()
    assert await asyncio.wait_for(renewing, 5)
    assert not await asyncio.wait_for(attempt, 5)


async def test_release_clears_holder(cluster: Cluster) -> None:
    clock = FakeClock()
    first, second = elector(cluster, "first", clock), elector(cluster, "second", clock)
    assert await first.acquire(asyncio.Event())

    await first.release()
    lease = await cluster.client.get(LEASES, cluster.namespace, "lease")

    assert lease["spec"]["holderIdentity"] == ""
    assert lease["spec"]["leaseDurationSeconds"] == 1
    assert not first.is_leader()
    assert await second.acquire(asyncio.Event())
