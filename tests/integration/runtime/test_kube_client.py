"""KubeClient against a small scripted HTTP server on 127.0.0.1: framing, errors, headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from litellm_operator import __version__
from litellm_operator.runtime.kube import (
    SECRETS,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    KubeClient,
    NotFound,
    Resource,
    Unauthorized,
)

TEAMS = Resource("auth.litellm.ai", "v1alpha1", "teams", "Team")
TOKEN = "secret-bearer-token-value"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[KubeClient]]]:
    """Start a one-route-for-everything server and return a client of it."""
    runners: list[web.AppRunner] = []
    clients: list[KubeClient] = []

    async def start(handler: Handler) -> KubeClient:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        client = KubeClient.from_config(f"http://127.0.0.1:{port}", token=TOKEN, timeout=5)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
    for runner in runners:
        await runner.cleanup()


def status_body(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


async def test_resource_paths() -> None:
    assert TEAMS.path("a", "b", "status") == "/apis/auth.litellm.ai/v1alpha1/namespaces/a/teams/b/status"
    assert TEAMS.path() == "/apis/auth.litellm.ai/v1alpha1/teams"
    assert SECRETS.path("ns") == "/api/v1/namespaces/ns/secrets"
    assert SECRETS.api_version == "v1"


async def test_request_headers(serve) -> None:
    seen: dict[str, str] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(request.headers)
        seen["content-type-sent"] = request.headers.get("Content-Type", "")
        return web.json_response({"metadata": {"name": "x"}})

    client = await serve(handler)
    await client.patch(TEAMS, "a", "x", {"spec": {}}, subresource="status")

    assert seen["User-Agent"] == f"litellm-operator/{__version__}"
    assert seen["Authorization"] == f"Bearer {TOKEN}"
    assert seen["content-type-sent"] == "application/merge-patch+json"


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (401, "Unauthorized", Unauthorized),
        (404, "NotFound", NotFound),
        (409, "AlreadyExists", AlreadyExists),
        (409, "Conflict", Conflict),
        (410, "Expired", Gone),
        (422, "Invalid", Invalid),
    ],
)
async def test_error_mapping(serve, code: int, reason: str, expected: type) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(status_body(code, reason, "failed"), status=code)

    client = await serve(handler)
    with pytest.raises(expected) as caught:
        await client.get(TEAMS, "a", "x")

    assert caught.value.status == code
    assert caught.value.reason == reason
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.body)


async def test_plain_text_404(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=404, text="404 page not found")

    client = await serve(handler)
    with pytest.raises(NotFound) as caught:
        await client.list(TEAMS)

    assert caught.value.message == "404 page not found"


async def test_throttled_request_retried(serve) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.json_response(
                status_body(429, "TooManyRequests", "storage is (re)initializing"),
                status=429,
                headers={"Retry-After": "0"},
            )
        return web.json_response({"kind": "TeamList", "items": [], "metadata": {"resourceVersion": "5"}})

    client = await serve(handler)
    listed = await client.list(TEAMS, "a")

    assert listed["metadata"]["resourceVersion"] == "5"
    assert calls == 2


async def test_watch_joins_split_lines(serve) -> None:
    events = [
        {"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "2"}}},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "3"}}},
    ]
    payload = b"".join(json.dumps(event).encode() + b"\n" for event in events)

    async def handler(request: web.Request) -> web.StreamResponse:
        assert request.query["watch"] == "true"
        assert request.query["resourceVersion"] == "1"
        assert request.query["allowWatchBookmarks"] == "true"
        assert request.query["timeoutSeconds"] == "7"
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        # Send the events in 7-byte pieces so lines straddle chunk boundaries.
        for start in range(0, len(payload), 7):
            await response.write(payload[start : start + 7])
        await response.write_eof()
        return response

    client = await serve(handler)
    received = [event async for event in client.watch(TEAMS, "a", resource_version="1", timeout_seconds=7)]

    assert received == events


async def test_watch_error_event_raises_gone(serve) -> None:
    error = status_body(410, "Expired", "too old resource version: 1 (50)")

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(json.dumps({"type": "ERROR", "object": error}).encode() + b"\n")
        await response.write_eof()
        return response

    client = await serve(handler)
    with pytest.raises(Gone) as caught:
        async for _ in client.watch(TEAMS, None, resource_version="1"):
            pass

    assert caught.value.message == "too old resource version: 1 (50)"


async def test_call_timeout(serve) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    client = await serve(handler)
    client._timeout = 0.2
    with pytest.raises(TimeoutError) as caught:
        await client.get(TEAMS, "a", "x")
    release.set()

    assert "timed out" in str(caught.value)


async def test_delete_sends_preconditions(serve) -> None:
    seen: dict = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(await request.json())
        return web.json_response({"kind": "Status", "status": "Success"})

    client = await serve(handler)
    await client.delete(TEAMS, "a", "x", preconditions={"uid": "u1"})

    assert seen["preconditions"] == {"uid": "u1"}
