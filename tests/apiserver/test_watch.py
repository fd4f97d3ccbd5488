"""Watch streams of the API server double: start points, selectors, bookmarks, timeouts, 410."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from litellm_operator.testing.apiserver import KubeApiServer

from .conftest import TEAMS, Client


async def _open_watch(client: Client, query: str, namespace: str = "team-w") -> aiohttp.ClientResponse:
    response = await client.session.get(
        client.server.url + TEAMS.format(ns=namespace) + "?watch=1&" + query,
        headers={"Authorization": f"Bearer {client.server.token}"},
    )
    assert response.status == 200
    return response


async def _events(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    async for line in response.content:
        yield json.loads(line)


async def _take(response: aiohttp.ClientResponse, count: int) -> list[dict[str, Any]]:
    events = []
    async for event in _events(response):
        events.append(event)
        if len(events) == count:
            break
    return events


async def _list_rv(client: Client) -> str:
    _, listing, _ = await client.request("GET", TEAMS.format(ns="team-w"))
    return listing["metadata"]["resourceVersion"]


async def test_watch_from_list_rv_sends_only_later_changes(client: Client) -> None:
    await client.create_team("team-w", "before")
    rv = await _list_rv(client)
    response = await _open_watch(client, f"resourceVersion={rv}")
    await client.create_team("team-w", "w1")
    await client.request("PATCH", TEAMS.format(ns="team-w") + "/w1", {"spec": {"maxBudget": "1"}},
                         content_type="application/merge-patch+json")
    await client.request("DELETE", TEAMS.format(ns="team-w") + "/w1")
    events = await asyncio.wait_for(_take(response, 3), 5)
    response.close()
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert all(e["object"]["metadata"]["name"] == "w1" for e in events)
    assert events[0]["object"]["kind"] == "Team"
    assert int(events[2]["object"]["metadata"]["resourceVersion"]) > int(events[1]["object"]["metadata"]["resourceVersion"])


async def test_watch_without_rv_sends_synthetic_added(client: Client) -> None:
    await client.create_team("team-w", "w0")
    for query in ("", "resourceVersion=0"):
        response = await _open_watch(client, query)
        events = await asyncio.wait_for(_take(response, 1), 5)
        response.close()
        assert events[0]["type"] == "ADDED"
        assert events[0]["object"]["metadata"]["name"] == "w0"


async def test_watch_framing_is_one_json_line_per_event(client: Client) -> None:
    rv = await _list_rv(client)
    response = await _open_watch(client, f"resourceVersion={rv}")
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Transfer-Encoding"] == "chunked"
    await client.create_team("team-w", "framed")
    line = await asyncio.wait_for(response.content.readline(), 5)
    response.close()
    assert line.endswith(b"}\n")
    assert line.startswith(b'{"type":"ADDED","object":{')


async def test_watch_selector_transitions(client: Client) -> None:
    rv = await _list_rv(client)
    response = await _open_watch(client, f"labelSelector=watch%3Dyes&resourceVersion={rv}")
    path = TEAMS.format(ns="team-w") + "/w2"
    body = {"apiVersion": "auth.litellm.ai/v1alpha1", "kind": "Team",
            "metadata": {"name": "w2", "labels": {"watch": "no"}}, "spec": {"teamAlias": "w2"}}
    await client.request("POST", TEAMS.format(ns="team-w"), body)
    for labels in ({"watch": "yes"}, None, {"watch": "no"}):
        patch = {"metadata": {"labels": labels}} if labels else {"spec": {"maxBudget": "3"}}
        await client.request("PATCH", path, patch, content_type="application/merge-patch+json")
    await client.request("DELETE", path)
    await client.create_team("team-w", "end-marker")
    await client.request("PATCH", TEAMS.format(ns="team-w") + "/end-marker", {"metadata": {"labels": {"watch": "yes"}}},
                         content_type="application/merge-patch+json")
    events = await asyncio.wait_for(_take(response, 4), 5)
    response.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "w2"), ("MODIFIED", "w2"), ("DELETED", "w2"), ("ADDED", "end-marker"),
    ]
    assert events[2]["object"]["metadata"]["labels"] == {"watch": "no"}


async def test_watch_timeout_ends_stream_cleanly(client: Client) -> None:
    response = await _open_watch(client, "timeoutSeconds=1&resourceVersion=" + await _list_rv(client))
    body = await asyncio.wait_for(response.read(), 5)
    assert body == b""


async def test_watch_bookmark_before_timeout(server: KubeApiServer, client: Client) -> None:
    server.watch_settings.bookmark_lead = 0.5
    rv = await _list_rv(client)
    response = await _open_watch(client, f"allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion={rv}")
    events = [json.loads(line) for line in (await asyncio.wait_for(response.read(), 5)).splitlines()]
    assert [e["type"] for e in events] == ["BOOKMARK"]
    assert events[0]["object"] == {"apiVersion": "auth.litellm.ai/v1alpha1", "kind": "Team",
                                   "metadata": {"resourceVersion": str(server.storage.revision)}}


async def test_watch_periodic_bookmarks(server: KubeApiServer, client: Client) -> None:
    server.watch_settings.bookmark_interval = 0.05
    response = await _open_watch(client, "allowWatchBookmarks=true&resourceVersion=" + await _list_rv(client))
    events = await asyncio.wait_for(_take(response, 2), 5)
    response.close()
    assert [e["type"] for e in events] == ["BOOKMARK", "BOOKMARK"]


async def test_watch_too_old_rv_gives_error_event(server: KubeApiServer, client: Client) -> None:
    old = await _list_rv(client)
    await client.create_team("team-w", "after")
    server.compact()
    response = await _open_watch(client, f"resourceVersion={old}")
    events = [json.loads(line) for line in (await asyncio.wait_for(response.read(), 5)).splitlines()]
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"
    assert events[0]["object"]["message"].startswith(f"too old resource version: {old} (")


async def test_close_watches_ends_streams(server: KubeApiServer, client: Client) -> None:
    response = await _open_watch(client, "resourceVersion=" + await _list_rv(client))
    await asyncio.sleep(0)
    server.close_watches()
    assert await asyncio.wait_for(response.read(), 5) == b""


async def test_send_initial_events_ends_with_annotated_bookmark(client: Client) -> None:
    await client.create_team("team-w", "w0")
    response = await client.session.get(
        client.server.url + "/apis/auth.litellm.ai/v1alpha1/teams?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        headers={"Authorization": f"Bearer {client.server.token}"},
    )
    events = await asyncio.wait_for(_take(response, 2), 5)
    response.close()
    assert events[0]["type"] == "ADDED"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_send_initial_events_requires_rv_match(client: Client) -> None:
    status, body, _ = await client.request("GET", "/apis/auth.litellm.ai/v1alpha1/teams?watch=1&sendInitialEvents=true")
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "resourceVersionMatch"


async def test_watch_bad_timeout_is_400(client: Client) -> None:
    status, body, _ = await client.request("GET", TEAMS.format(ns="team-a") + "?watch=1&timeoutSeconds=abc")
    assert status == 400
    assert body["message"] == 'strconv.ParseInt: parsing "abc": invalid syntax'
