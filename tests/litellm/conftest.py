"""Shared fixtures: a running LiteLLM fake, an aiohttp session and a client bound to both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

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
