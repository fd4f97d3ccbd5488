"""FakeLiteLLM driven through LiteLLMClient: auth, quirks, call log and fault injection."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import aiohttp
import pytest

from litellm_operator.litellm import (
    AlreadyExistsError,
    EnterpriseFeatureError,
    InvalidRequestError,
    LiteLLMClient,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
    token_id,
)
from litellm_operator.litellm.models import (
    KeyGenerateRequest,
    KeyRegenerateRequest,
    KeyUpdateRequest,
    Member,
    TeamMemberAddRequest,
    TeamMemberDeleteRequest,
    TeamNewRequest,
    TeamUpdateRequest,
    UserNewRequest,
)
from litellm_operator.testing.litellm_fake import FakeLiteLLM

KEY = "sk-test-virtual-0001"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_wrong_master_key_unauthorized(fake: FakeLiteLLM, session: aiohttp.ClientSession) -> None:
    client = LiteLLMClient(fake.url, "sk-wrong", session=session)

    with pytest.raises(UnauthorizedError):
        await client.team_list()


async def test_virtual_key_reads_own_info(
    fake: FakeLiteLLM, client: LiteLLMClient, session: aiohttp.ClientSession
) -> None:
    await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1"))
    headers = {"Authorization": f"Bearer {KEY}"}

    async with session.get(f"{fake.url}/key/info", headers=headers) as own:
        own_body = await own.json()
    async with session.get(f"{fake.url}/team/info", params={"team_id": "t"}, headers=headers) as other:
        other_status = other.status

    assert own.status == 200
    assert own_body["info"]["key_alias"] == "k1"
    assert other_status == 403


async def test_generated_key_token_is_sha256(client: LiteLLMClient) -> None:
    generated = await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1"))

    assert generated.key == KEY
    assert generated.token == token_id(KEY)
    assert (await client.key_info(generated.token)).key_alias == "k1"


async def test_key_must_start_with_sk(client: LiteLLMClient) -> None:
    with pytest.raises(InvalidRequestError):
        await client.key_generate(KeyGenerateRequest(key="plain-value", key_alias="k1"))


async def test_duplicate_alias_rejected(client: LiteLLMClient) -> None:
    await client.key_generate(KeyGenerateRequest(key_alias="k1"))

    with pytest.raises(AlreadyExistsError) as caught:
        await client.key_generate(KeyGenerateRequest(key_alias="k1"))

    assert caught.value.param == "key_alias"


async def test_duration_sets_expires(client: LiteLLMClient) -> None:
    before = datetime.now(UTC)

    generated = await client.key_generate(
        KeyGenerateRequest(key_alias="k1", duration="1h", budget_duration="1d")
    )

    expires = parse_time(generated.expires)
    assert 3590 <= (expires - before).total_seconds() <= 3610
    assert generated.budget_reset_at is not None


async def test_block_reports_revoked(client: LiteLLMClient) -> None:
    await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1"))

    await client.key_block(KEY)
    blocked = await client.key_info(KEY)
    await client.key_unblock(KEY)
    unblocked = await client.key_info(KEY)

    assert blocked.status == "revoked"
    assert blocked.blocked is True
    assert unblocked.status == "active"


async def test_deleted_key_not_found(client: LiteLLMClient) -> None:
    await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1"))

    await client.key_delete(keys=[KEY])

    with pytest.raises(NotFoundError):
        await client.key_info(KEY)
    with pytest.raises(NotFoundError):
        await client.key_delete(keys=[KEY])


async def test_member_delete_deletes_member_keys(client: LiteLLMClient) -> None:
    await client.team_new(TeamNewRequest(team_id="t1", team_alias="alpha"))
    added = await client.team_member_add(
        TeamMemberAddRequest(team_id="t1", member=Member(user_id="ghost"))
    )
    await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1", team_id="t1", user_id="ghost"))

    await client.team_member_delete(TeamMemberDeleteRequest(team_id="t1", user_id="ghost"))

    assert added.updated_users[0].user_id == "ghost"
    with pytest.raises(NotFoundError):
        await client.key_info(KEY)
    assert (await client.user_info("ghost")).user_info.teams == []


async def test_admin_member_needs_enterprise(client: LiteLLMClient) -> None:
    await client.team_new(TeamNewRequest(team_id="t1", team_alias="alpha"))

    with pytest.raises(EnterpriseFeatureError):
        await client.team_member_add(
            TeamMemberAddRequest(team_id="t1", member=Member(role="admin", user_id="u1"))
        )


async def test_tags_and_regenerate_need_enterprise(client: LiteLLMClient) -> None:
    with pytest.raises(EnterpriseFeatureError):
        await client.team_new(TeamNewRequest(team_id="t1", tags=["a"]))
    with pytest.raises(EnterpriseFeatureError):
        await client.key_regenerate(KeyRegenerateRequest(key=KEY))


async def test_team_update_replaces_and_clears(client: LiteLLMClient) -> None:
    await client.team_new(
        TeamNewRequest(team_id="t1", team_alias="alpha", metadata={"a": 1, "b": 2}, max_budget=5)
    )

    updated = await client.team_update(
        TeamUpdateRequest(team_id="t1", metadata={"c": 3}, max_budget=None)
    )

    assert updated.metadata == {"c": 3}
    assert updated.max_budget is None
    assert updated.team_alias == "alpha"


async def test_team_list_alias_partial_case_insensitive(client: LiteLLMClient) -> None:
    await client.team_new(TeamNewRequest(team_id="t1", team_alias="tr-alpha"))
    await client.team_new(TeamNewRequest(team_id="t2", team_alias="tr-ALPHA-beta"))
    await client.team_new(TeamNewRequest(team_id="t3", team_alias="gamma"))

    listed = await client.team_list(team_alias="alpha")

    assert sorted(team.team_id for team in listed.teams) == ["t1", "t2"]


async def test_user_new_creates_key_by_default(client: LiteLLMClient) -> None:
    with_key = await client.user_new(UserNewRequest(user_id="u1", user_email="u1@example.invalid"))
    without_key = await client.user_new(UserNewRequest(user_id="u2", auto_create_key=False))

    assert with_key.key.startswith("sk-")
    assert (await client.key_info(with_key.key)).user_id == "u1"
    assert without_key.key == ""


async def test_user_delete_unknown_id_deletes_none(client: LiteLLMClient) -> None:
    await client.user_new(UserNewRequest(user_id="u1", auto_create_key=False))

    with pytest.raises(NotFoundError):
        await client.user_delete(["u1", "nobody"])

    assert (await client.user_info("u1")).user_id == "u1"


async def test_calls_log_has_no_secrets(fake: FakeLiteLLM, client: LiteLLMClient) -> None:
    await client.key_generate(KeyGenerateRequest(key=KEY, key_alias="k1"))
    await client.key_update(KeyUpdateRequest(key=KEY, rpm_limit=3))

    assert [(call.path, call.status) for call in fake.calls] == [
        ("/key/generate", 200), ("/key/update", 200),
    ]
    assert KEY not in repr(fake.calls)
    assert fake.calls[1].body == {"key": "<redacted>", "rpm_limit": 3}


async def test_fail_next_then_recovers(fake: FakeLiteLLM, client: LiteLLMClient) -> None:
    fake.fail_next("/v2/team/list", 503, times=2)

    for _ in range(2):
        with pytest.raises(UnavailableError):
            await client.team_list()
    listed = await client.team_list()

    assert listed.total == 0


async def test_down_answers_503(fake: FakeLiteLLM, client: LiteLLMClient) -> None:
    fake.down = True
    with pytest.raises(UnavailableError) as caught:
        await client.team_list()
    fake.down = False

    assert caught.value.status == 503
    assert (await client.team_list()).total == 0


async def test_latency_delays_response(fake: FakeLiteLLM, client: LiteLLMClient) -> None:
    fake.latency = 0.2

    task = asyncio.create_task(client.team_list())
    done, _ = await asyncio.wait({task}, timeout=0.05)

    assert not done
    assert (await task).total == 0


async def test_standalone_module_serves() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "litellm_operator.testing.litellm_fake",
        "--port", "0", "--master-key", "sk-standalone",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        url = line.decode().strip().removeprefix("LITELLM_URL=")
        async with aiohttp.ClientSession() as session:
            listed = await LiteLLMClient(url, "sk-standalone", session=session).team_list()
    finally:
        process.terminate()
        await process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert listed.total == 0
