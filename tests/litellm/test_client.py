"""LiteLLMClient against mocked HTTP: request shapes, response parsing and error classes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from litellm_operator.litellm import (
    AlreadyExistsError,
    ClientPool,
    EnterpriseFeatureError,
    InvalidRequestError,
    LiteLLMClient,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
    token_id,
)
from litellm_operator.litellm.models import (
    UNSET,
    KeyGenerateRequest,
    KeyRegenerateRequest,
    KeyUpdateRequest,
    Member,
    TeamMemberAddRequest,
    TeamMemberDeleteRequest,
    TeamMemberUpdateRequest,
    TeamNewRequest,
    TeamUpdateRequest,
    UserNewRequest,
    UserUpdateRequest,
)

from .conftest import ScriptedServer

BASE = "http://127.0.0.1:4000"  # only for pool keys; nothing connects to it
MASTER = "sk-master-secret-123"
VIRTUAL = "sk-virtual-secret-456"


class RecordingMetrics:
    def __init__(self) -> None:
        self.observations: list[tuple[str, str]] = []

    def observe_litellm_call(self, endpoint: str, code: str, seconds: float) -> None:
        self.observations.append((endpoint, code))


@pytest.fixture
def mocked(scripted: ScriptedServer) -> ScriptedServer:
    return scripted


@pytest.fixture
def closed_port_url() -> str:
    # A port that was free a moment ago: connecting to it is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
async def litellm(scripted: ScriptedServer, metrics: RecordingMetrics) -> AsyncIterator[LiteLLMClient]:
    async with aiohttp.ClientSession() as session:
        yield LiteLLMClient(scripted.url, MASTER, session=session, metrics=metrics)


def only_body(mocked: ScriptedServer, path: str) -> dict[str, Any]:
    (call,) = mocked.sent("POST", path)
    return call.json


def team_body(**fields: Any) -> dict[str, Any]:
    return {"team_id": "t1", "team_alias": "alpha", "members_with_roles": [], **fields}


# ---- request shapes and parsing ------------------------------------------------------------


async def test_team_new_sends_set_fields_only(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/new", payload=team_body(max_budget=10, rpm_limit=5))

    team = await litellm.team_new(
        TeamNewRequest(team_id="t1", team_alias="alpha", max_budget=10.5, organization_id=None)
    )

    assert only_body(mocked, "/team/new") == {
        "team_alias": "alpha", "team_id": "t1", "organization_id": None, "max_budget": 10.5,
    }
    assert team.max_budget == 10.0
    assert isinstance(team.max_budget, float)
    assert team.raw["rpm_limit"] == 5


async def test_requests_authenticate_with_master_key(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/block", payload=team_body(blocked=True))

    team = await litellm.team_block("t1")

    (call,) = mocked.sent("POST", "/team/block")
    assert call.headers["Authorization"] == f"Bearer {MASTER}"
    assert team.blocked is True


async def test_team_info_query_is_url_encoded(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    team_id = "a b&c=d/é"
    mocked.get(
        "/team/info",
        payload={"team_id": team_id, "team_info": team_body(team_id=team_id), "keys": [],
                 "team_memberships": [{"user_id": "u1", "team_id": team_id,
                                       "litellm_budget_table": {"max_budget": 2}}]},
    )

    info = await litellm.team_info(team_id)

    (call,) = mocked.sent("GET", "/team/info")
    assert call.raw_query.startswith("team_id=a")
    assert "%26c%3Dd" in call.raw_query
    assert call.query == {"team_id": team_id}
    assert info.team_info.team_id == team_id
    assert info.team_memberships[0].litellm_budget_table.max_budget == 2.0


async def test_team_update_returns_data(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/update", payload={"team_id": "t1", "data": team_body(metadata=None)})

    team = await litellm.team_update(TeamUpdateRequest(team_id="t1", metadata=None, models=[]))

    assert only_body(mocked, "/team/update") == {"team_id": "t1", "metadata": None, "models": []}
    assert team.metadata is None


async def test_team_delete_and_unblock(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/delete", payload={"deleted_teams": ["t1"]})
    mocked.post("/team/unblock", payload=team_body(blocked=False))

    await litellm.team_delete(["t1"])
    team = await litellm.team_unblock("t1")

    assert only_body(mocked, "/team/delete") == {"team_ids": ["t1"]}
    assert only_body(mocked, "/team/unblock") == {"team_id": "t1"}
    assert team.blocked is False


async def test_team_list_query(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.get(
        "/v2/team/list",
        payload={"teams": [team_body()], "total": 1, "page": 1, "page_size": 5, "total_pages": 1},
    )

    result = await litellm.team_list(team_alias="Alpha Team", page_size=5)

    assert [team.team_id for team in result.teams] == ["t1"]
    assert result.total == 1


async def test_member_add_body_and_response(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/team/member_add",
        payload=team_body(
            members_with_roles=[{"user_id": "u1", "role": "user"}],
            updated_users=[{"user_id": "u1", "teams": None}],
            updated_team_memberships=[{"user_id": "u1", "team_id": "t1"}],
        ),
    )

    result = await litellm.team_member_add(
        TeamMemberAddRequest(team_id="t1", member=Member(role="user", user_id="u1"))
    )

    assert only_body(mocked, "/team/member_add") == {
        "team_id": "t1", "member": {"role": "user", "user_id": "u1"},
    }
    assert result.team.members_with_roles[0].user_id == "u1"
    assert result.updated_users[0].teams == []
    assert result.updated_team_memberships[0].team_id == "t1"


async def test_member_update_and_delete(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/team/member_update",
        payload={"user_id": "u1", "team_id": "t1", "max_budget_in_team": 3, "rpm_limit": 5},
    )
    mocked.post("/team/member_delete", payload=team_body())

    updated = await litellm.team_member_update(
        TeamMemberUpdateRequest(team_id="t1", user_id="u1", max_budget_in_team=3.0)
    )
    await litellm.team_member_delete(TeamMemberDeleteRequest(team_id="t1", user_id="u1"))

    assert only_body(mocked, "/team/member_update") == {
        "team_id": "t1", "user_id": "u1", "max_budget_in_team": 3.0,
    }
    assert updated.max_budget_in_team == 3.0
    assert only_body(mocked, "/team/member_delete") == {"team_id": "t1", "user_id": "u1"}


async def test_user_new_auto_create_key_false(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/user/new", payload={"user_id": "u1", "key": "", "teams": None, "max_budget": 5})

    user = await litellm.user_new(
        UserNewRequest(user_id="u1", user_email="u1@example.invalid", auto_create_key=False)
    )

    assert only_body(mocked, "/user/new") == {
        "user_id": "u1", "user_email": "u1@example.invalid", "auto_create_key": False,
    }
    assert user.max_budget == 5.0
    assert user.teams == []


async def test_user_info_update_list_delete(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.get(
        "/user/info",
        payload={"user_id": "u1", "user_info": {"user_id": "u1", "spend": 1}, "keys": [], "teams": []},
    )
    mocked.post("/user/update", payload={"user_id": "u1", "data": {"user_id": "u1", "rpm_limit": 3}})
    mocked.get(
        "/user/list",
        payload={"users": [{"user_id": "u1"}], "total": 1, "page": 1, "page_size": 25, "total_pages": 1},
    )
    mocked.post("/user/delete", payload=1)

    info = await litellm.user_info("u1")
    updated = await litellm.user_update(UserUpdateRequest(user_id="u1", rpm_limit=3))
    listed = await litellm.user_list(user_ids=["u1", "u2"])
    await litellm.user_delete(["u1"])

    assert info.user_info.spend == 1.0
    assert updated.rpm_limit == 3
    assert [user.user_id for user in listed.users] == ["u1"]
    assert only_body(mocked, "/user/delete") == {"user_ids": ["u1"]}


async def test_key_generate_keeps_plaintext_out_of_repr(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/key/generate",
        payload={"key": VIRTUAL, "token": token_id(VIRTUAL), "token_id": token_id(VIRTUAL), "key_alias": "k1"},
    )
    request = KeyGenerateRequest(key=VIRTUAL, key_alias="k1", duration="30d")

    generated = await litellm.key_generate(request)

    assert only_body(mocked, "/key/generate") == {"key": VIRTUAL, "key_alias": "k1", "duration": "30d"}
    assert generated.key == VIRTUAL
    assert generated.token == token_id(VIRTUAL)
    assert VIRTUAL not in repr(generated)
    assert VIRTUAL not in repr(request)


async def test_key_info_queries_token_id(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    token = token_id(VIRTUAL)
    mocked.get(
        "/key/info",
        payload={"key": token, "info": {"token": token, "status": "active", "max_budget": 1}},
    )

    key = await litellm.key_info(VIRTUAL)

    (call,) = mocked.sent("GET", "/key/info")
    assert call.query == {"key": token}
    assert key.max_budget == 1.0
    assert key.status == "active"


async def test_key_info_deleted_is_not_found(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    token = token_id(VIRTUAL)
    mocked.get(
        "/key/info",
        payload={"key": token, "info": {"token": token, "status": "deleted"}},
    )

    with pytest.raises(NotFoundError) as caught:
        await litellm.key_info(token)

    assert caught.value.status == 200


async def test_key_info_revoked_is_blocked(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    token = token_id(VIRTUAL)
    mocked.get(
        "/key/info",
        payload={"key": token, "info": {"token": token, "status": "revoked", "blocked": None}},
    )

    key = await litellm.key_info(token)

    assert key.blocked is True


async def test_key_update_block_unblock_delete(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    token = token_id(VIRTUAL)
    mocked.post("/key/update", payload={"key": VIRTUAL, "token": token, "rpm_limit": 7})
    mocked.post("/key/block", payload={"token": token, "blocked": True})
    mocked.post("/key/unblock", payload={"token": token, "blocked": False})
    mocked.post("/key/delete", payload={"deleted_keys": [token]})

    updated = await litellm.key_update(KeyUpdateRequest(key=VIRTUAL, rpm_limit=7, max_budget=None))
    blocked = await litellm.key_block(VIRTUAL)
    unblocked = await litellm.key_unblock(token)
    await litellm.key_delete(keys=[VIRTUAL])

    assert only_body(mocked, "/key/update") == {"key": VIRTUAL, "rpm_limit": 7, "max_budget": None}
    assert updated.rpm_limit == 7
    assert only_body(mocked, "/key/block") == {"key": token}
    assert blocked.blocked is True
    assert unblocked.blocked is False
    assert only_body(mocked, "/key/delete") == {"keys": [token]}


async def test_key_list_asks_full_objects(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.get(
        "/key/list",
        payload={"keys": [{"token": "abc", "key_alias": "k 1"}, "def"], "total_count": 2},
    )

    result = await litellm.key_list(key_alias="k 1")

    assert [key.token for key in result.keys] == ["abc", "def"]
    assert result.keys[0].key_alias == "k 1"


async def test_unset_is_falsy_and_named() -> None:
    assert not UNSET
    assert repr(UNSET) == "UNSET"


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "body", "request_kwargs", "expected"),
    [
        ("/team/new", 400, {"error": {"message": "{'error': 'Team id = t1 already exists.'}", "type": "internal_server_error", "param": None, "code": "400"}}, {"team_id": "t1"}, AlreadyExistsError),
        ("/team/new", 400, {"error": {"message": "bad", "type": "internal_server_error", "param": None, "code": "400"}}, {"team_alias": "no-id"}, InvalidRequestError),
        ("/team/new", 403, {"error": {"message": "only for Enterprise users: tags", "type": "internal_server_error", "param": None, "code": "403"}}, {"team_id": "t1", "tags": ["a"]}, EnterpriseFeatureError),
        ("/team/new", 422, {"detail": [{"type": "float_parsing", "loc": ["body", "max_budget"], "msg": "Input should be a valid number"}]}, {"team_id": "t1"}, InvalidRequestError),
        ("/team/new", 401, {"error": {"message": "Authentication Error", "type": "auth_error", "param": "None", "code": "401"}}, {"team_id": "t1"}, UnauthorizedError),
        ("/team/new", 403, {"error": {"message": "not allowed", "type": "auth_error", "param": "None", "code": "403"}}, {"team_id": "t1"}, UnauthorizedError),
        ("/team/new", 503, {"detail": "down"}, {"team_id": "t1"}, UnavailableError),
    ],
)
async def test_team_new_error_classes(
    litellm: LiteLLMClient, mocked: ScriptedServer, path: str, status: int, body: Any,
    request_kwargs: dict[str, Any], expected: type,
) -> None:
    mocked.post(path, status=status, payload=body)

    with pytest.raises(expected) as caught:
        await litellm.team_new(TeamNewRequest(**request_kwargs))

    assert type(caught.value) is expected
    assert caught.value.status == status
    assert caught.value.endpoint == path


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (409, {"error": {"message": "User with id u1 already exists", "type": "internal_server_error", "param": None, "code": "409"}}),
        (400, {"error": {"message": "User with id u1 already exists", "type": "internal_server_error", "param": None, "code": "400"}}),
    ],
    ids=["current-409", "older-400"],
)
async def test_user_new_duplicate_versions(litellm: LiteLLMClient, mocked: ScriptedServer, status: int, body: Any) -> None:
    mocked.post("/user/new", status=status, payload=body)

    with pytest.raises(AlreadyExistsError):
        await litellm.user_new(UserNewRequest(user_id="u1"))


async def test_user_info_missing_404(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.get(
        "/user/info",
        status=404,
        payload={"error": {"message": "User u9 not found", "type": "internal_server_error", "param": None, "code": "404"}},
    )

    with pytest.raises(NotFoundError) as caught:
        await litellm.user_info("u9")

    assert caught.value.status == 404


@pytest.mark.parametrize("empty", [None, {}])
async def test_user_info_missing_older_200(litellm: LiteLLMClient, mocked: ScriptedServer, empty: Any) -> None:
    mocked.get(
        "/user/info",
        payload={"user_id": "u9", "user_info": empty, "keys": [], "teams": []},
    )

    with pytest.raises(NotFoundError) as caught:
        await litellm.user_info("u9")

    assert caught.value.status == 200


async def test_key_alias_taken_is_already_exists(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/key/generate",
        status=400,
        payload={"error": {"message": "Key with alias 'k1' already exists.", "type": "bad_request_error", "param": "key_alias", "code": "400"}},
    )

    with pytest.raises(AlreadyExistsError) as caught:
        await litellm.key_generate(KeyGenerateRequest(key_alias="k1"))

    assert caught.value.param == "key_alias"


async def test_invalid_key_format_is_invalid(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/key/generate",
        status=400,
        payload={"error": {"message": "Invalid key format.", "type": "internal_server_error", "param": None, "code": "400"}},
    )

    with pytest.raises(InvalidRequestError):
        await litellm.key_generate(KeyGenerateRequest(key="bad", key_alias="k1"))


async def test_member_already_in_team(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/team/member_add",
        status=400,
        payload={"error": {"message": f"User already in team. Member: key={VIRTUAL}", "type": "team_member_already_in_team", "param": "member", "code": "400"}},
    )

    with pytest.raises(AlreadyExistsError) as caught:
        await litellm.team_member_add(TeamMemberAddRequest(team_id="t1", member=Member(user_id="u1")))

    assert VIRTUAL not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/team/member_add", {"detail": {"error": "Assigning team admins is a premium feature."}}),
        ("/team/member_update", {"detail": "Assigning team admins is a premium feature."}),
    ],
)
async def test_admin_member_is_enterprise(litellm: LiteLLMClient, mocked: ScriptedServer, path: str, body: Any) -> None:
    mocked.post(path, status=400, payload=body)

    with pytest.raises(EnterpriseFeatureError) as caught:
        if path == "/team/member_add":
            await litellm.team_member_add(
                TeamMemberAddRequest(team_id="t1", member=[Member(role="admin", user_id="u1")])
            )
        else:
            await litellm.team_member_update(TeamMemberUpdateRequest(team_id="t1", user_id="u1", role="admin"))

    assert "premium feature" in caught.value.message


async def test_member_delete_not_member_is_invalid(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/member_delete", status=400, payload={"detail": {"error": "User not found in team"}})

    with pytest.raises(InvalidRequestError) as caught:
        await litellm.team_member_delete(TeamMemberDeleteRequest(team_id="t1", user_id="u1"))

    assert caught.value.message == "User not found in team"


async def test_regenerate_500_is_enterprise(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/key/regenerate",
        status=500,
        payload={"error": {"message": "Regenerating Virtual Keys is an Enterprise feature", "type": "internal_server_error", "param": None, "code": "500"}},
    )

    with pytest.raises(EnterpriseFeatureError):
        await litellm.key_regenerate(KeyRegenerateRequest(key=VIRTUAL))


async def test_model_max_budget_500_is_enterprise(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    message = "Invalid model_max_budget: You must have an enterprise license to set model_max_budget."
    mocked.post(
        "/key/generate",
        status=500,
        payload={"error": {"message": message, "type": "internal_server_error", "param": None, "code": "500"}},
    )

    with pytest.raises(EnterpriseFeatureError):
        await litellm.key_generate(KeyGenerateRequest(key_alias="a", model_max_budget={"m": {"budget_limit": 1}}))


async def test_key_generate_500_without_budget_is_unavailable(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    payload = {"error": {"message": "database down", "type": "internal_server_error", "param": None, "code": "500"}}
    mocked.post("/key/generate", status=500, payload=payload)

    with pytest.raises(UnavailableError):
        await litellm.key_generate(KeyGenerateRequest(key_alias="a"))


async def test_regenerate_gateway_502_is_unavailable(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/key/regenerate", status=502, body="Bad Gateway")

    with pytest.raises(UnavailableError) as caught:
        await litellm.key_regenerate(KeyRegenerateRequest(key=VIRTUAL))

    assert caught.value.message == "Bad Gateway"


async def test_not_found_envelopes(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/delete", status=404, payload={"detail": {"error": "Team not found, passed team_id=t9"}})
    mocked.post("/key/delete", status=404, payload={"error": {"message": "{'error': 'No keys found'}", "type": "internal_server_error", "param": None, "code": "404"}})

    with pytest.raises(NotFoundError) as team_error:
        await litellm.team_delete(["t9"])
    with pytest.raises(NotFoundError) as key_error:
        await litellm.key_delete(key_aliases=["k9"])

    assert team_error.value.message == "Team not found, passed team_id=t9"
    assert key_error.value.message == "{'error': 'No keys found'}"


async def test_validation_list_message(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/team/member_update",
        status=422,
        payload={"detail": [{"type": "literal_error", "loc": ["body", "role"], "msg": "Input should be 'admin' or 'user'"}]},
    )

    with pytest.raises(InvalidRequestError) as caught:
        await litellm.team_member_update(TeamMemberUpdateRequest(team_id="t1", user_id="u1", role="owner"))

    assert caught.value.param == "role"
    assert "body.role: Input should be 'admin' or 'user'" in caught.value.message


# ---- secrets -------------------------------------------------------------------------------


async def test_error_text_scrubs_keys(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post(
        "/key/update",
        status=400,
        payload={"detail": {"error": f"bad key {VIRTUAL} for master {MASTER}"}},
    )

    with pytest.raises(InvalidRequestError) as caught:
        await litellm.key_update(KeyUpdateRequest(key=VIRTUAL, rpm_limit=1))

    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert VIRTUAL not in text
        assert MASTER not in text


async def test_master_key_without_prefix_scrubbed(mocked: ScriptedServer) -> None:
    master = "plain-master-key-without-prefix"
    mocked.get(
        "/team/info",
        status=401,
        payload={"error": {"message": f"Invalid key {master}", "type": "auth_error", "param": "None", "code": "401"}},
    )

    async with aiohttp.ClientSession() as session:
        client = LiteLLMClient(mocked.url, master, session=session)
        with pytest.raises(UnauthorizedError) as caught:
            await client.team_info("t1")

    assert master not in str(caught.value)
    assert master not in repr(client)


async def test_client_repr_hides_master_key(litellm: LiteLLMClient) -> None:
    assert MASTER not in repr(litellm)
    assert "http://127.0.0.1:" in repr(litellm)


async def test_connection_refused_is_unavailable(closed_port_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        client = LiteLLMClient(closed_port_url, MASTER, session=session)
        with pytest.raises(UnavailableError) as caught:
            await client.key_info(VIRTUAL)

    assert caught.value.status is None
    assert MASTER not in str(caught.value)
    assert VIRTUAL not in str(caught.value)
    assert caught.value.__cause__ is None


# ---- transport -----------------------------------------------------------------------------


async def test_metrics_observe_each_call(litellm: LiteLLMClient, mocked: ScriptedServer, metrics: RecordingMetrics) -> None:
    mocked.post("/team/block", payload=team_body())
    mocked.post("/team/unblock", status=404, payload={"detail": {"error": "missing"}})

    await litellm.team_block("t1")
    with pytest.raises(NotFoundError):
        await litellm.team_unblock("t1")
    await mocked.stop()
    with pytest.raises(UnavailableError):
        await litellm.team_delete(["t1"])

    assert metrics.observations == [
        ("/team/block", "200"), ("/team/unblock", "404"), ("/team/delete", "error"),
    ]


async def test_non_json_success_is_error(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/block", status=200, body="<html>")

    with pytest.raises(Exception) as caught:
        await litellm.team_block("t1")

    assert "not JSON" in str(caught.value)


async def test_timeout_is_unavailable(fake: Any) -> None:
    # A real server that responds after the client's total timeout.
    fake.latency = 0.5
    async with aiohttp.ClientSession() as session:
        client = LiteLLMClient(
            fake.url, "sk-fake-master", session=session,
            timeout=aiohttp.ClientTimeout(total=0.05, connect=0.05),
        )
        with pytest.raises(UnavailableError) as caught:
            await client.team_info("t1")

    assert caught.value.status is None
    assert "timed out" in caught.value.message


async def test_response_released_after_call(fake: Any) -> None:
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = LiteLLMClient(fake.url, "sk-fake-master", session=session)
        # With one connection in the pool, a leaked response would block the next call.
        for _ in range(3):
            with pytest.raises(NotFoundError):
                await client.team_info("missing")
        await asyncio.wait_for(client.team_list(), timeout=5)

        assert connector._acquired == set()


# ---- pool ----------------------------------------------------------------------------------


async def test_pool_caches_by_url_and_key() -> None:
    pool = ClientPool()
    try:
        first = pool.get(BASE + "/", MASTER)
        same = pool.get(BASE, MASTER)
        rotated = pool.get(BASE, MASTER + "-rotated")
        other = pool.get("http://127.0.0.1:4001", MASTER)
    finally:
        await pool.close()

    assert first is same
    assert rotated is not first
    assert other is not first
    assert MASTER not in repr(pool)


async def test_pool_shares_one_session(fake: Any) -> None:
    pool = ClientPool()
    try:
        first = pool.get(fake.url, "sk-fake-master")
        second = pool.get(fake.url, "sk-other")
        listed = await first.team_list()
        with pytest.raises(UnauthorizedError):
            await second.team_list()
    finally:
        await pool.close()

    assert first._session is second._session
    assert first._session.closed
    assert listed.total == 0


async def test_team_permissions_update(litellm: LiteLLMClient, mocked: ScriptedServer) -> None:
    mocked.post("/team/permissions_update", payload={"team_id": "t1", "team_member_permissions": ["/key/info"]})

    await litellm.team_permissions_update("t1", ["/key/info"])

    assert mocked.sent("POST", "/team/permissions_update")[-1].json == {"team_id": "t1", "team_member_permissions": ["/key/info"]}
