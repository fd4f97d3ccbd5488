"""Manager against the API server double: sync, reconciles, probes, metrics, leader election, drain."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from litellm_operator.runtime.controller import Controller, Request, Result
from litellm_operator.runtime.kube import LEASES, NotFound
from litellm_operator.runtime.manager import LeaderElectionLost, Manager, parse_bind_address
from litellm_operator.testing.clock import FakeClock
from litellm_operator.testing.cluster import Cluster
from tests.integration.runtime.helpers import TEAMS, WAIT_TIMEOUT, RecordingHandler, team_body

LOCAL = "127.0.0.1:0"
# Short leader election settings so that a handover takes about a second of real time.
FAST_LEASE = {"lease_duration": 1.5, "renew_deadline": 1.0, "retry_period": 0.2}


class TeamReconciler:
    """Records each reconcile and writes status.observedGeneration, like a real reconciler."""

    def __init__(self, cluster: Cluster, *, failures: int = 0) -> None:
        self.client = cluster.client
        self.calls: list[tuple[str, int]] = []
        self.failures = failures
        self.gate: asyncio.Event | None = None
        self.finished: list[str] = []
        self.status_resource_versions: dict[str, str] = {}
        self._changed = asyncio.Condition()

    async def reconcile(self, request: Request) -> Result:
        try:
            team = await self.client.get(TEAMS, request.namespace, request.name)
        except NotFound:
            return Result()
        generation = team["metadata"]["generation"]
        self.calls.append((request.name, generation))
        await self._notify()

        if self.gate is not None:
            await self.gate.wait()
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("simulated LiteLLM outage")

        if (team.get("status") or {}).get("observedGeneration") != generation:
            patched = await self.client.patch(
                TEAMS,
                request.namespace,
                request.name,
                {"status": {"observedGeneration": generation}},
                subresource="status",
            )
            self.status_resource_versions[request.name] = patched["metadata"]["resourceVersion"]
        self.finished.append(request.name)
        await self._notify()
        return Result()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(wait(), WAIT_TIMEOUT)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def build_manager(cluster: Cluster, reconciler: TeamReconciler, **options: Any) -> tuple[Manager, Controller]:
    options.setdefault("metrics_bind_address", LOCAL)
    options.setdefault("health_probe_bind_address", LOCAL)
    manager = Manager(cluster.client, namespaces=[cluster.namespace], **options)
    controller = Controller("team", reconciler, max_concurrent_reconciles=1, metrics=manager.metrics)
    controller.watch_own(manager.informer(TEAMS))
    manager.add_controller(controller)
    return manager, controller


@contextlib.asynccontextmanager
async def started(manager: Manager) -> AsyncIterator[asyncio.Event]:
    """Run the manager in a task; on exit set its stop event and wait for it to finish."""
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        with contextlib.suppress(LeaderElectionLost):
            await asyncio.wait_for(task, WAIT_TIMEOUT)


async def fetch(port: int | None, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def test_parse_bind_address() -> None:
    assert parse_bind_address(":8080") == ("0.0.0.0", 8080)
    assert parse_bind_address("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_bind_address("0") is None
    with pytest.raises(ValueError, match="invalid bind address"):
        parse_bind_address("localhost")


async def test_one_reconcile_per_change(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("t"))
    reconciler = TeamReconciler(cluster)
    manager, _ = build_manager(cluster, reconciler)
    handler = RecordingHandler()
    manager.informer(TEAMS).add_event_handler(handler)

    async def status_seen(name: str) -> None:
        # Once the informer has delivered our own status patch, any reconcile it would wrongly
        # trigger is already queued ahead of the next spec change.
        expected = reconciler.status_resource_versions[name]
        await handler.wait_for(
            lambda: any(event.new["metadata"]["resourceVersion"] == expected for event in handler.events)
        )

    async with started(manager):
        await reconciler.wait_for(lambda: reconciler.finished == ["t"])
        await status_seen("t")

        await client.patch(TEAMS, namespace, "t", {"spec": {"teamAlias": "second"}})
        await reconciler.wait_for(lambda: reconciler.finished == ["t", "t"])
        await status_seen("t")

        await client.patch(TEAMS, namespace, "t", {"spec": {"teamAlias": "third"}})
        await reconciler.wait_for(lambda: reconciler.finished == ["t", "t", "t"])

    assert reconciler.calls == [("t", 1), ("t", 2), ("t", 3)]


async def test_error_retried_with_backoff(cluster: Cluster) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    reconciler = TeamReconciler(cluster, failures=3)
    manager, controller = build_manager(cluster, reconciler)

    async with started(manager):
        await reconciler.wait_for(lambda: reconciler.finished == ["t"])
        status, metrics = await fetch(manager.metrics_port, "/metrics")

    assert len(reconciler.calls) == 4
    assert controller.queue.num_requeues(Request(cluster.namespace, "t")) == 0
    assert status == 200
    assert re.search(r'controller_runtime_reconcile_errors_total\{controller="team"\} 3\.0', metrics)
    assert re.search(r'controller_runtime_reconcile_total\{controller="team",result="success"\} 1\.0', metrics)
    assert re.search(r'workqueue_retries_total\{name="team"\} 3\.0', metrics)


async def test_probes(cluster: Cluster) -> None:
    reconciler = TeamReconciler(cluster)
    manager, _ = build_manager(cluster, reconciler)

    async with started(manager):
        await asyncio.wait_for(manager.serving.wait(), WAIT_TIMEOUT)
        port = manager.health_probe_port
        assert await fetch(port, "/healthz") == (200, "ok")
        await asyncio.wait_for(manager.informer(TEAMS).wait_for_sync(), WAIT_TIMEOUT)
        assert await fetch(port, "/readyz") == (200, "ok")


async def test_readyz_waits_for_sync(cluster: Cluster, double) -> None:
    double.fail_next("GET", r"/teams$", 500)
    clock = FakeClock()
    manager, _ = build_manager(cluster, TeamReconciler(cluster), clock=clock)

    async with started(manager):
        # The first LIST fails, so the informer waits out its backoff on the fake clock.
        await clock.wait_for_sleepers(1)
        assert manager.health_probe_port is not None
        assert (await fetch(manager.health_probe_port, "/readyz"))[0] == 503
        assert await fetch(manager.health_probe_port, "/healthz") == (200, "ok")

        await clock.advance(2)
        await asyncio.wait_for(manager.informer(TEAMS).wait_for_sync(), WAIT_TIMEOUT)
        assert await fetch(manager.health_probe_port, "/readyz") == (200, "ok")


async def test_metrics_disabled_with_zero(cluster: Cluster) -> None:
    manager, _ = build_manager(cluster, TeamReconciler(cluster), metrics_bind_address="0")

    async with started(manager):
        await asyncio.wait_for(manager.controllers_started.wait(), WAIT_TIMEOUT)
        assert manager.metrics_port is None
        assert manager.health_probe_port is not None


async def test_stop_drains_inflight_reconcile(cluster: Cluster) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    reconciler = TeamReconciler(cluster)
    reconciler.gate = asyncio.Event()
    manager, _ = build_manager(cluster, reconciler, graceful_shutdown_timeout=WAIT_TIMEOUT)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))

    await reconciler.wait_for(lambda: len(reconciler.calls) == 1)
    stop.set()
    # The manager must wait for the reconcile that is running, so release it only now.
    await asyncio.sleep(0)
    assert not task.done()
    reconciler.gate.set()
    await asyncio.wait_for(task, WAIT_TIMEOUT)

    assert reconciler.finished == ["t"]
    team = await cluster.client.get(TEAMS, cluster.namespace, "t")
    assert team["status"]["observedGeneration"] == 1


async def test_drain_deadline_cancels_reconcile(cluster: Cluster) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    reconciler = TeamReconciler(cluster)
    reconciler.gate = asyncio.Event()
    manager, _ = build_manager(cluster, reconciler, graceful_shutdown_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))

    await reconciler.wait_for(lambda: len(reconciler.calls) == 1)
    stop.set()
    await asyncio.wait_for(task, WAIT_TIMEOUT)

    assert reconciler.finished == []


async def test_leader_election_hands_over(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("t"))
    election = dict(
        leader_election=True, leader_election_id="test-leader", leader_election_namespace=namespace, **FAST_LEASE
    )
    first, second = TeamReconciler(cluster), TeamReconciler(cluster)
    first_manager, _ = build_manager(cluster, first, leader_election_identity="first", **election)
    second_manager, _ = build_manager(cluster, second, leader_election_identity="second", **election)

    async with started(first_manager) as stop_first:
        await first.wait_for(lambda: first.finished == ["t"])
        async with started(second_manager):
            await asyncio.wait_for(second_manager.informer(TEAMS).wait_for_sync(), WAIT_TIMEOUT)
            lease = await client.get(LEASES, namespace, "test-leader")
            assert lease["spec"]["holderIdentity"] == "first"
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", lease["spec"]["renewTime"])
            assert not second_manager.controllers_started.is_set()

            # A clean stop releases the Lease, so the follower need not wait for it to expire.
            loop = asyncio.get_running_loop()
            stopped_at = loop.time()
            stop_first.set()
            await asyncio.wait_for(second_manager.controllers_started.wait(), WAIT_TIMEOUT)
            assert loop.time() - stopped_at < FAST_LEASE["lease_duration"]

            await second.wait_for(lambda: second.finished == ["t"])
            await client.patch(TEAMS, namespace, "t", {"spec": {"teamAlias": "changed"}})
            await second.wait_for(lambda: second.finished == ["t", "t"])

    assert second.calls == [("t", 1), ("t", 2)]
    assert first.calls == [("t", 1)]
    lease = await client.get(LEASES, namespace, "test-leader")
    assert lease["spec"]["holderIdentity"] == ""
    assert lease["spec"]["leaseDurationSeconds"] == 1


async def test_lost_lease_stops_manager(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    reconciler = TeamReconciler(cluster)
    manager, _ = build_manager(
        cluster,
        reconciler,
        leader_election=True,
        leader_election_id="stolen",
        leader_election_namespace=namespace,
        leader_election_identity="victim",
        **FAST_LEASE,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    await asyncio.wait_for(manager.controllers_started.wait(), WAIT_TIMEOUT)

    lease = await client.get(LEASES, namespace, "stolen")
    lease["spec"]["holderIdentity"] = "thief"
    lease["spec"]["leaseDurationSeconds"] = 60
    await client.replace(LEASES, namespace, "stolen", lease)

    with pytest.raises(LeaderElectionLost):
        await asyncio.wait_for(task, WAIT_TIMEOUT)
    lease = await client.get(LEASES, namespace, "stolen")
    assert lease["spec"]["holderIdentity"] == "thief"


async def test_lease_held_while_draining(cluster: Cluster) -> None:
    # The stopping leader still has a reconcile in flight. The follower must not take over
    # before it has finished, however far the drain runs past the lease duration.
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("t"))
    election = dict(
        leader_election=True, leader_election_id="drain-leader", leader_election_namespace=namespace, **FAST_LEASE
    )
    first, second = TeamReconciler(cluster), TeamReconciler(cluster)
    first.gate = asyncio.Event()
    first_manager, _ = build_manager(cluster, first, leader_election_identity="first", **election)
    second_manager, _ = build_manager(cluster, second, leader_election_identity="second", **election)

    async with started(first_manager) as stop_first:
        await first.wait_for(lambda: first.calls == [("t", 1)])
        async with started(second_manager):
            await asyncio.wait_for(second_manager.informer(TEAMS).wait_for_sync(), WAIT_TIMEOUT)
            stop_first.set()
            # Twice the lease duration: without renewal during the drain the Lease would expire.
            await asyncio.sleep(2 * FAST_LEASE["lease_duration"])
            assert not second_manager.controllers_started.is_set()
            assert second.calls == []

            first.gate.set()
            await asyncio.wait_for(second_manager.controllers_started.wait(), WAIT_TIMEOUT)
            await second.wait_for(lambda: second.finished == ["t"])

    assert first.finished == ["t"]
