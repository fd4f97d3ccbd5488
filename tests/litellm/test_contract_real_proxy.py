"""Contract test: the client against a real LiteLLM proxy, when LITELLM_URL is set.

Objects are created with a unique prefix and deleted at the end, so the test can share a
proxy with other runs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest

from litellm_operator.litellm import (
    AlreadyExistsError,
    LiteLLMClient,
    NotFoundError,
    token_id,
)
from litellm_operator.litellm.models import (
    KeyGenerateRequest,
    KeyUpdateRequest,
    TeamNewRequest,
    TeamUpdateRequest,
    UserNewRequest,
    UserUpdateRequest,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (os.environ.get("LITELLM_URL") and os.environ.get("LITELLM_MASTER_KEY")),
        reason="needs a real LiteLLM proxy: set LITELLM_URL and LITELLM_MASTER_KEY",
    ),
]


@pytest.fixture
async def real() -> AsyncIterator[LiteLLMClient]:
    async with aiohttp.ClientSession() as session:
        yield LiteLLMClient(
            os.environ["LITELLM_URL"], os.environ["LITELLM_MASTER_KEY"], session=session
        )


@pytest.fixture
def prefix() -> str:
    return f"contract-{secrets.token_hex(4)}"


async def test_team_lifecycle(real: LiteLLMClient, prefix: str) -> None:
    team_id = f"{prefix}-team"
    created = await real.team_new(
        TeamNewRequest(team_id=team_id, team_alias=team_id, max_budget=10, metadata={"a": "1"})
    )
    try:
        with pytest.raises(AlreadyExistsError):
            await real.team_new(TeamNewRequest(team_id=team_id, team_alias=team_id))
        updated = await real.team_update(
            TeamUpdateRequest(team_id=team_id, metadata={"b": "2"}, max_budget=None, rpm_limit=5)
        )
        info = await real.team_info(team_id)
        blocked = await real.team_block(team_id)
    finally:
        await real.team_delete([team_id])

    assert created.max_budget == 10.0
    assert updated.metadata == {"b": "2"}
    assert updated.max_budget is None
    assert info.team_info.rpm_limit == 5
    assert blocked.blocked is True
    with pytest.raises(NotFoundError):
        await real.team_info(team_id)


async def test_user_lifecycle(real: LiteLLMClient, prefix: str) -> None:
    user_id = f"{prefix}-user"
    created = await real.user_new(
        UserNewRequest(user_id=user_id, user_email=f"{user_id}@example.invalid", auto_create_key=False)
    )
    try:
        with pytest.raises(AlreadyExistsError):
            await real.user_new(UserNewRequest(user_id=user_id, auto_create_key=False))
        updated = await real.user_update(UserUpdateRequest(user_id=user_id, max_budget=3))
        info = await real.user_info(user_id)
    finally:
        await real.user_delete([user_id])

    assert created.key == ""
    assert updated.max_budget == 3.0
    assert info.user_info.user_email == f"{user_id}@example.invalid"
    with pytest.raises(NotFoundError):
        await real.user_info(user_id)


async def test_key_lifecycle(real: LiteLLMClient, prefix: str) -> None:
    key = f"sk-{prefix}-{secrets.token_hex(8)}"
    generated = await real.key_generate(KeyGenerateRequest(key=key, key_alias=f"{prefix}-key"))
    try:
        with pytest.raises(AlreadyExistsError):
            await real.key_generate(KeyGenerateRequest(key_alias=f"{prefix}-key"))
        updated = await real.key_update(KeyUpdateRequest(key=key, rpm_limit=7, metadata={"m": "1"}))
        await real.key_block(key)
        blocked = await real.key_info(key)
    finally:
        await real.key_delete(keys=[key])

    assert generated.token == token_id(key)
    assert updated.rpm_limit == 7
    assert blocked.blocked is True
    with pytest.raises(NotFoundError):
        await real.key_info(key)
