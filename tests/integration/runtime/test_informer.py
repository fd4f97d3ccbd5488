"""Informer, reflector and store against the API server double."""

from __future__ import annotations

import asyncio
import contextlib

from litellm_operator.runtime.informer import Informer
from litellm_operator.runtime.kube import NAMESPACES
from litellm_operator.testing.clock import FakeClock
from litellm_operator.testing.cluster import Cluster, create_namespace, delete_namespace
from tests.integration.runtime.helpers import TEAMS, RecordingHandler, running, team_body


def count_requests(server, verb: str) -> int:
    """Count the double's Team requests with an RBAC verb ("list" or "watch")."""
    return sum(1 for record in server.request_log if record.resource == "teams" and record.verb == verb)


async def test_list_then_watch_delivers_changes(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("first"))
    informer = Informer(client, TEAMS, namespace=namespace)
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        assert handler.kinds("first") == ["add"]

        await client.create(TEAMS, namespace, team_body("second"))
        await handler.wait_for(lambda: handler.kinds("second") == ["add"])

        await client.patch(TEAMS, namespace, "second", {"spec": {"teamAlias": "renamed"}})
        await handler.wait_for(lambda: handler.kinds("second") == ["add", "update"])

        await client.delete(TEAMS, namespace, "first")
        await handler.wait_for(lambda: handler.kinds("first") == ["add", "delete"])

    update = handler.events[-2]
    assert update.old["spec"]["teamAlias"] == "second"
    assert update.new["spec"]["teamAlias"] == "renamed"
    assert informer.store.get(f"{namespace}/first") is None
    assert informer.store.get(f"{namespace}/second")["spec"]["teamAlias"] == "renamed"


async def test_has_synced_after_first_list(cluster: Cluster) -> None:
    informer = Informer(cluster.client, TEAMS, namespace=cluster.namespace)
    assert not informer.has_synced()

    async with running(informer):
        assert informer.has_synced()


async def test_watch_resumes_without_relist(cluster: Cluster, double) -> None:
    client, namespace = cluster.client, cluster.namespace
    informer = Informer(client, TEAMS, namespace=namespace, backoff_initial=0.01)
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        lists_before = count_requests(double, "list")
        watches_before = count_requests(double, "watch")

        double.close_watches()
        await client.create(TEAMS, namespace, team_body("after-close"))
        await handler.wait_for(lambda: handler.kinds("after-close") == ["add"])

        assert count_requests(double, "list") == lists_before
        assert count_requests(double, "watch") > watches_before


async def test_expired_watch_relists_with_deletions(cluster: Cluster, double) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("kept"))
    await client.create(TEAMS, namespace, team_body("removed"))
    informer = Informer(client, TEAMS, namespace=namespace, backoff_initial=0.01)
    handler = RecordingHandler()
    informer.add_event_handler(handler)
    async with running(informer):
        pass

    # While the informer is stopped: one creation, one deletion, then history is compacted,
    # so watching from the remembered resourceVersion returns 410 Gone.
    await client.create(TEAMS, namespace, team_body("created"))
    await client.delete(TEAMS, namespace, "removed")
    double.compact()
    lists_before = count_requests(double, "list")

    task = asyncio.create_task(informer.run())
    try:
        await handler.wait_for(lambda: "delete" in handler.kinds("removed") and "add" in handler.kinds("created"))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert count_requests(double, "list") == lists_before + 1
    assert handler.kinds("kept") == ["add"]
    assert handler.kinds("removed") == ["add", "delete"]
    assert handler.kinds("created") == ["add"]
    assert sorted(key.split("/")[1] for key in informer.store.list_keys()) == ["created", "kept"]


async def test_resync_replays_cache(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("one"))
    clock = FakeClock()
    informer = Informer(client, TEAMS, namespace=namespace, resync_period=30, clock=clock)
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        await clock.wait_for_sleepers(1)
        assert handler.kinds("one") == ["add"]

        await clock.advance(30)
        await handler.wait_for(lambda: handler.kinds("one") == ["add", "update"])

    resync = handler.events[-1]
    assert resync.old is resync.new


async def test_indexes(cluster: Cluster) -> None:
    client, namespace = cluster.client, cluster.namespace
    await client.create(TEAMS, namespace, team_body("a", alias="shared"))
    await client.create(TEAMS, namespace, team_body("b", alias="shared"))
    await client.create(TEAMS, namespace, team_body("c", alias="alone"))
    informer = Informer(client, TEAMS, namespace=namespace)
    informer.add_indexers({"alias": lambda obj: [obj["spec"]["teamAlias"]]})
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        shared = [obj["metadata"]["name"] for obj in informer.store.by_index("alias", "shared")]
        assert shared == ["a", "b"]

        await client.patch(TEAMS, namespace, "b", {"spec": {"teamAlias": "alone"}})
        await handler.wait_for(lambda: handler.kinds("b") == ["add", "update"])

    assert [obj["metadata"]["name"] for obj in informer.store.by_index("alias", "shared")] == ["a"]
    assert [obj["metadata"]["name"] for obj in informer.store.by_index("alias", "alone")] == ["b", "c"]


async def test_namespace_set_watched(cluster: Cluster) -> None:
    client = cluster.client
    second = await create_namespace(client)
    ignored = await create_namespace(client)
    try:
        await client.create(TEAMS, cluster.namespace, team_body("in-first"))
        await client.create(TEAMS, second, team_body("in-second"))
        await client.create(TEAMS, ignored, team_body("in-ignored"))
        informer = Informer(client, TEAMS, namespaces=[cluster.namespace, second])
        handler = RecordingHandler()
        informer.add_event_handler(handler)

        async with running(informer):
            assert len(informer.reflectors) == 2
            await client.create(TEAMS, second, team_body("later"))
            await handler.wait_for(lambda: handler.kinds("later") == ["add"])

        assert sorted(informer.store.list_keys()) == sorted(
            [f"{cluster.namespace}/in-first", f"{second}/in-second", f"{second}/later"]
        )
        assert handler.kinds("in-ignored") == []
    finally:
        for namespace in (second, ignored):
            await delete_namespace(client, namespace, [TEAMS])


async def test_cluster_scoped_resource(cluster: Cluster) -> None:
    informer = Informer(cluster.client, NAMESPACES, namespaces=["ignored-for-cluster-scope"])

    async with running(informer):
        assert cluster.namespace in informer.store.list_keys()
