"""Reflector request sequence against a scripted server, and error backoff against the double."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from litellm_operator.runtime.informer import Informer
from litellm_operator.runtime.kube import KubeClient
from litellm_operator.runtime.reflector import Backoff
from litellm_operator.testing.clock import FakeClock
from litellm_operator.testing.cluster import Cluster
from tests.integration.runtime.helpers import TEAMS, WAIT_TIMEOUT, RecordingHandler, running, team_body


def team_item(name: str, resource_version: str) -> dict:
    body = team_body(name)
    body["metadata"].update(namespace="a", resourceVersion=resource_version, uid=f"uid-{name}")
    return body


class ScriptedServer:
    """Serves a two-page LIST, then watches that end after one scripted line each."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.watch_lines = [
            {"type": "ADDED", "object": team_item("c", "12")},
            {
                "type": "BOOKMARK",
                "object": {"kind": "Team", "apiVersion": TEAMS.api_version, "metadata": {"resourceVersion": "20"}},
            },
        ]
        self.third_watch = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.requests.append(query)
        if query.get("watch") != "true":
            if "continue" not in query:
                return web.json_response(
                    {
                        "kind": "TeamList",
                        "metadata": {"resourceVersion": "10", "continue": "page2"},
                        "items": [team_item("a", "5")],
                    }
                )
            return web.json_response(
                {"kind": "TeamList", "metadata": {"resourceVersion": "10"}, "items": [team_item("b", "6")]}
            )

        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        if self.watch_lines:
            await response.write(json.dumps(self.watch_lines.pop(0)).encode() + b"\n")
            await response.write_eof()
        else:
            # Stay open, as a real watch does, until the test ends.
            self.third_watch.set()
            await asyncio.Event().wait()
        return response


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[ScriptedServer, KubeClient]]:
    server = ScriptedServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    client = KubeClient.from_config(f"http://127.0.0.1:{runner.addresses[0][1]}", timeout=5)
    yield server, client
    await client.close()
    await runner.cleanup()


async def test_watch_resumes_from_last_seen_version(scripted) -> None:
    server, client = scripted
    informer = Informer(client, TEAMS, namespace="a", min_watch_timeout=300)
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        await asyncio.wait_for(server.third_watch.wait(), WAIT_TIMEOUT)

    lists = [query for query in server.requests if query.get("watch") != "true"]
    watches = [query for query in server.requests if query.get("watch") == "true"]
    assert [query.get("limit") for query in lists] == ["500", "500"]
    assert lists[1]["continue"] == "page2"
    # First watch from the list's version, then from the ADDED event's, then from the bookmark's.
    assert [query["resourceVersion"] for query in watches] == ["10", "12", "20"]
    assert all(query["allowWatchBookmarks"] == "true" for query in watches)
    assert all(300 <= int(query["timeoutSeconds"]) <= 600 for query in watches)
    assert [event.name for event in handler.events] == ["a", "b", "c"]


async def test_list_failure_backs_off(cluster: Cluster, double) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    double.fail_next("GET", r"/teams$", 500, times=2)
    clock = FakeClock()
    informer = Informer(cluster.client, TEAMS, namespace=cluster.namespace, clock=clock)
    task = asyncio.create_task(informer.run())
    try:
        await clock.wait_for_sleepers(1)
        assert not informer.has_synced()
        await clock.advance(1.6)
        await clock.wait_for_sleepers(1)
        assert not informer.has_synced()
        await clock.advance(3.2)
        await asyncio.wait_for(informer.wait_for_sync(), WAIT_TIMEOUT)
    finally:
        task.cancel()

    assert informer.store.list_keys() == [f"{cluster.namespace}/t"]


async def test_backoff_doubles_and_resets() -> None:
    clock = FakeClock()
    backoff = Backoff(clock, initial=1, maximum=4, jitter=0, reset_after=60)

    delays = [backoff.next_delay() for _ in range(4)]

    assert delays == [1, 2, 4, 4]
    await clock.advance(61)
    assert backoff.next_delay() == 1


async def test_repeated_gone_backs_off(cluster: Cluster, double) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    double.fail_next("GET", r"/teams$", 410, times=50)
    clock = FakeClock()
    informer = Informer(cluster.client, TEAMS, namespace=cluster.namespace, clock=clock)
    task = asyncio.create_task(informer.run())
    try:
        # The first 410 re-lists at once, the second waits for the backoff.
        await clock.wait_for_sleepers(1)
        lists = [r for r in double.request_log if r.method == "GET" and r.path.endswith("/teams")]
        assert len(lists) == 2
    finally:
        task.cancel()


class FailingOnceClient:
    """Delegates to a KubeClient, but its first LIST raises an error no handler expects."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self.failed = False

    async def list(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise RuntimeError("token file rotated mid-read")
        return await self._client.list(*args, **kwargs)

    def watch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self._client.watch(*args, **kwargs)


async def test_unexpected_error_retried(cluster: Cluster) -> None:
    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    clock = FakeClock()
    informer = Informer(FailingOnceClient(cluster.client), TEAMS, namespace=cluster.namespace, clock=clock)
    task = asyncio.create_task(informer.run())
    try:
        await clock.wait_for_sleepers(1)
        assert not task.done()
        await clock.advance(2)
        await asyncio.wait_for(informer.wait_for_sync(), WAIT_TIMEOUT)
    finally:
        task.cancel()

    assert informer.store.list_keys() == [f"{cluster.namespace}/t"]


async def test_failing_indexer_keeps_object(cluster: Cluster) -> None:
    def broken(obj: dict) -> list[str]:
        raise ValueError("bad index")

    await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    informer = Informer(cluster.client, TEAMS, namespace=cluster.namespace)
    informer.add_indexers({"broken": broken})
    handler = RecordingHandler()
    informer.add_event_handler(handler)

    async with running(informer):
        await asyncio.wait_for(informer.wait_for_sync(), WAIT_TIMEOUT)

    assert informer.store.list_keys() == [f"{cluster.namespace}/t"]
    assert informer.store.by_index("broken", "anything") == []
    assert [event.name for event in handler.events] == ["t"]
