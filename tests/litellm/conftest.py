"""Shared fixtures: a running LiteLLM fake, an aiohttp session and a client bound to both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from litellm_operator.litellm import LiteLLMClient
from litellm_operator.testing.litellm_fake import FakeLiteLLM

MASTER_KEY = "sk-fake-master"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLiteLLM]:
    server = FakeLiteLLM(MASTER_KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(fake: FakeLiteLLM, session: aiohttp.ClientSession) -> LiteLLMClient:
    return LiteLLMClient(fake.url, MASTER_KEY, session=session)


@attrs.frozen
class Received:
    """One request the scripted server received."""

    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


class ScriptedServer:
    """HTTP server on 127.0.0.1 that returns a scripted response for each (method, path).

    Unlike aioresponses (used in test_client_aioresponses.py), the client's requests cross a real
    socket here, so timeouts, released bodies and connection handling are exercised too.
    Unscripted paths return 599.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._responses: dict[tuple[str, str], tuple[int, Any, str | None]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    def get(self, path: str, *, status: int = 200, payload: Any = None, body: str | None = None) -> None:
        self._responses[("GET", path)] = (status, payload, body)

    def post(self, path: str, *, status: int = 200, payload: Any = None, body: str | None = None) -> None:
        self._responses[("POST", path)] = (status, payload, body)

    def sent(self, method: str, path: str) -> list[Received]:
        return [r for r in self.requests if r.method == method and r.path == path]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            Received(
                request.method, request.path, request.raw_path.partition("?")[2],
                dict(request.query), dict(request.headers), json.loads(raw) if raw else None,
            )
        )
        status, payload, body = self._responses.get((request.method, request.path), (599, None, "unscripted"))
        if body is not None:
            return web.Response(status=status, text=body)
        return web.json_response(payload, status=status)


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    await server.start()
    yield server
    await server.stop()
