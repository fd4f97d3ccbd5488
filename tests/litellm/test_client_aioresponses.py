"""LiteLLMClient with aioresponses at the HTTP boundary: every endpoint and every error class.

Response bodies come from the LiteLLM 1.108.7 transcripts in ``data/``. aioresponses returns
each response in-process, so nothing connects to ``BASE_URL``.
"""

from __future__ import annotations

import copy
import enum
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import attrs
import pytest
from aioresponses import aioresponses
from yarl import URL

from litellm_operator.litellm import (
    AlreadyExistsError,
    EnterpriseFeatureError,
    InvalidRequestError,
    LiteLLMClient,
    LiteLLMError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
    token_id,
)
from litellm_operator.litellm.models import (
    GeneratedKey,
    Key,
    KeyGenerateRequest,
    KeyList,
    KeyRegenerateRequest,
    KeyUpdateRequest,
    Member,
    NewUser,
    Team,
    TeamInfo,
    TeamList,
    TeamMemberAddRequest,
    TeamMemberAddResponse,
    TeamMemberDeleteRequest,
    TeamMemberUpdateRequest,
    TeamMemberUpdateResponse,
    TeamNewRequest,
    TeamUpdateRequest,
    User,
    UserInfo,
    UserList,
    UserNewRequest,
    UserUpdateRequest,
)

BASE_URL = "http://127.0.0.1:4000"
MASTER_KEY = "sk-master-aioresponses-1"
VIRTUAL_KEY = "sk-virtual-aioresponses-2"
NEW_VIRTUAL_KEY = "sk-new-aioresponses-3"
# The token id LiteLLM 1.108.7 returned for the recorded key "sk-REDACTED-3".
RECORDED_TOKEN = "59b8b8e20821746cf825e2fe45cf77bea59acc485cf2e9b0bae0918bdf92cabb"
# An id that only survives a query string when it is URL-encoded.
ODD_ID = "a b&c/d=é"
SECRET_TOKEN = re.compile(r"sk-[A-Za-z0-9_\-]+")

TRANSCRIPTS = Path(__file__).parent / "data" / "litellm-1.108.7-transcripts.json"
RECORDED = {entry["case"]: entry["response"] for entry in json.loads(TRANSCRIPTS.read_text())}


def recorded(case: str) -> Any:
    """Return a copy of the response body LiteLLM 1.108.7 sent in the named transcript case."""
    return copy.deepcopy(RECORDED[case]["body"])


def regenerated_key() -> dict[str, Any]:
    # /key/regenerate needs an Enterprise licence, so no success was recorded.
    # NOTE: this body assumes the /key/generate shape with the new key and its token id.
    body = recorded("key/generate")
    body.update(key=NEW_VIRTUAL_KEY, token=token_id(NEW_VIRTUAL_KEY), token_id=token_id(NEW_VIRTUAL_KEY))
    return body


Invoke = Callable[[LiteLLMClient], Awaitable[Any]]


@attrs.frozen
class Sent:
    """One request that reached aioresponses."""

    method: str
    url: URL
    kwargs: dict[str, Any]


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def litellm(mocked: aioresponses) -> AsyncIterator[LiteLLMClient]:
    async with aiohttp.ClientSession() as session:
        yield LiteLLMClient(BASE_URL, MASTER_KEY, session=session)


def any_query(path: str) -> re.Pattern[str]:
    """Match ``path`` with any query string, so the test can assert on the query itself."""
    return re.compile(re.escape(BASE_URL + path) + r"(\?.*)?$")


def only_request(mocked: aioresponses) -> Sent:
    sent = [
        Sent(method, url, call.kwargs)
        for (method, url), calls in mocked.requests.items()
        for call in calls
    ]
    assert len(sent) == 1, sent
    return sent[0]


def attribute(obj: Any, path: str) -> Any:
    """Follow a dotted path of attribute names, dict keys and list indexes, for example ``teams.0.team_id``."""
    for part in path.split("."):
        if part.isdigit():
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


# ---- endpoints -------------------------------------------------------------------------------


@attrs.frozen
class EndpointCase:
    """One client call, the request it must send and the result it must return.

    ``query`` is the decoded query of a GET, and ``body`` is the JSON body of a POST. ``fields``
    maps dotted attribute paths of the result to their expected values.
    """

    name: str
    invoke: Invoke
    method: str
    path: str
    response: Any
    result_type: type | None
    query: dict[str, str] = attrs.field(factory=dict)
    body: Any = None
    fields: dict[str, Any] = attrs.field(factory=dict)


ENDPOINT_CASES = [
    EndpointCase(
        "team_new",
        lambda c: c.team_new(TeamNewRequest(
            team_id="tr-a", team_alias="tr-alpha", max_budget=10.5, budget_duration="30d", rpm_limit=100,
            tpm_limit=1000, models=["fake-model"], metadata={"owner": "op", "n": 1}, organization_id=None,
        )),
        "POST", "/team/new", recorded("team/new"), Team,
        body={
            "team_id": "tr-a", "team_alias": "tr-alpha", "max_budget": 10.5, "budget_duration": "30d",
            "rpm_limit": 100, "tpm_limit": 1000, "models": ["fake-model"], "metadata": {"owner": "op", "n": 1},
            "organization_id": None,
        },
        fields={
            "team_id": "tr-a", "team_alias": "tr-alpha", "max_budget": 10.5, "rpm_limit": 100,
            "models": ["fake-model"], "metadata": {"n": 1, "owner": "op"}, "blocked": False,
            "members_with_roles.0.role": "admin", "budget_reset_at": "2027-01-01T00:00:00Z",
        },
    ),
    EndpointCase(
        "team_info",
        lambda c: c.team_info(ODD_ID),
        "GET", "/team/info", recorded("team/info"), TeamInfo,
        query={"team_id": ODD_ID},
        fields={
            "team_id": "tr-a", "team_info.team_id": "tr-a", "team_info.max_budget": 10.5, "keys": [],
            "team_memberships.0.user_id": "default_user_id", "team_memberships.0.litellm_budget_table": None,
        },
    ),
    EndpointCase(
        "team_update",
        lambda c: c.team_update(TeamUpdateRequest(
            team_id="tr-a", max_budget=20, rpm_limit=200, metadata={"owner": "op2"},
            models=["fake-model", "x"], budget_duration="1d", organization_id=None,
        )),
        "POST", "/team/update", recorded("team/update"), Team,
        body={
            "team_id": "tr-a", "organization_id": None, "models": ["fake-model", "x"],
            "metadata": {"owner": "op2"}, "max_budget": 20, "budget_duration": "1d", "rpm_limit": 200,
        },
        fields={"team_id": "tr-a", "max_budget": 20.0, "rpm_limit": 200, "models": ["fake-model", "x"],
                "metadata": {"owner": "op2"}},
    ),
    EndpointCase(
        "team_delete",
        lambda c: c.team_delete(["tr-a", "tr-b"]),
        "POST", "/team/delete", recorded("team/delete"), None,
        body={"team_ids": ["tr-a", "tr-b"]},
    ),
    EndpointCase(
        "team_block",
        lambda c: c.team_block("tr-a"),
        "POST", "/team/block", recorded("team/block"), Team,
        body={"team_id": "tr-a"},
        fields={"team_id": "tr-a", "blocked": True, "members_with_roles.1.user_id": "tr-u1"},
    ),
    EndpointCase(
        "team_unblock",
        lambda c: c.team_unblock("tr-a"),
        "POST", "/team/unblock", recorded("team/unblock"), Team,
        body={"team_id": "tr-a"},
        fields={"team_id": "tr-a", "blocked": False},
    ),
    EndpointCase(
        "team_permissions_update",
        lambda c: c.team_permissions_update("tr-a", ["/key/generate", "/key/info"]),
        "POST", "/team/permissions_update",
        # This response is not in the transcripts, and the client ignores it.
        {"team_id": "tr-a", "team_member_permissions": ["/key/generate", "/key/info"]},
        None,
        body={"team_id": "tr-a", "team_member_permissions": ["/key/generate", "/key/info"]},
    ),
    EndpointCase(
        "team_list filtered",
        lambda c: c.team_list(team_alias=ODD_ID, organization_id="org 1", page=1, page_size=10),
        "GET", "/v2/team/list", recorded("v2/team/list?team_alias= exact"), TeamList,
        query={"team_alias": ODD_ID, "organization_id": "org 1", "page": "1", "page_size": "10"},
        fields={"teams.0.team_id": "tr-b", "teams.1.team_id": "tr-a", "teams.1.max_budget": 20.0,
                "total": 2, "page": 1, "page_size": 10, "total_pages": 1},
    ),
    EndpointCase(
        "team_list unfiltered",
        lambda c: c.team_list(),
        "GET", "/v2/team/list", recorded("v2/team/list?team_alias= no match"), TeamList,
        fields={"teams": [], "total": 0},
    ),
    EndpointCase(
        "team_member_add one member",
        lambda c: c.team_member_add(TeamMemberAddRequest(team_id="tr-a", member=Member(user_id="tr-u1"))),
        "POST", "/team/member_add", recorded("team/member_add"), TeamMemberAddResponse,
        body={"team_id": "tr-a", "member": {"role": "user", "user_id": "tr-u1"}},
        fields={
            "team.team_id": "tr-a", "team.members_with_roles.1.user_id": "tr-u1",
            "updated_users.0.user_id": "tr-u1", "updated_users.0.max_budget": 6.0,
            "updated_team_memberships.0.team_id": "tr-a", "raw.team_id": "tr-a",
        },
    ),
    EndpointCase(
        "team_member_add member list",
        lambda c: c.team_member_add(TeamMemberAddRequest(
            team_id="tr-a", member=[Member(user_id="tr-u2"), Member(user_email="tr-u3@example.invalid")],
            max_budget_in_team=None,
        )),
        "POST", "/team/member_add", recorded("team/member_add list + by email"), TeamMemberAddResponse,
        body={
            "team_id": "tr-a",
            "member": [{"role": "user", "user_id": "tr-u2"}, {"role": "user", "user_email": "tr-u3@example.invalid"}],
            "max_budget_in_team": None,
        },
        fields={"team.members_with_roles.2.user_id": "tr-u2", "updated_users.0.user_id": "tr-u2"},
    ),
    EndpointCase(
        "team_member_update",
        lambda c: c.team_member_update(TeamMemberUpdateRequest(
            team_id="tr-a", user_id="tr-u1", max_budget_in_team=2.5, tpm_limit=500, rpm_limit=5,
            budget_duration="7d",
        )),
        "POST", "/team/member_update", recorded("team/member_update max_budget_in_team + limits"),
        TeamMemberUpdateResponse,
        body={"team_id": "tr-a", "user_id": "tr-u1", "max_budget_in_team": 2.5, "budget_duration": "7d",
              "tpm_limit": 500, "rpm_limit": 5},
        fields={"user_id": "tr-u1", "team_id": "tr-a", "max_budget_in_team": 2.5, "tpm_limit": 500,
                "rpm_limit": 5, "budget_duration": "7d"},
    ),
    EndpointCase(
        "team_member_delete",
        lambda c: c.team_member_delete(TeamMemberDeleteRequest(team_id="tr-a", user_id="tr-ghost")),
        "POST", "/team/member_delete", recorded("team/member_delete"), Team,
        body={"team_id": "tr-a", "user_id": "tr-ghost"},
        fields={"team_id": "tr-a", "members_with_roles.2.user_id": "tr-u2"},
    ),
    EndpointCase(
        "user_new",
        lambda c: c.user_new(UserNewRequest(
            user_id="tr-u1", user_email="tr-u1@example.invalid", max_budget=5, budget_duration="7d",
            rpm_limit=10, models=["fake-model"], metadata={"k": "v"}, user_role="internal_user",
            auto_create_key=False, user_alias=None,
        )),
        "POST", "/user/new", recorded("user/new"), NewUser,
        body={
            "user_id": "tr-u1", "user_email": "tr-u1@example.invalid", "user_alias": None,
            "user_role": "internal_user", "models": ["fake-model"], "metadata": {"k": "v"}, "max_budget": 5,
            "budget_duration": "7d", "rpm_limit": 10, "auto_create_key": False,
        },
        fields={"user_id": "tr-u1", "user_email": "tr-u1@example.invalid", "max_budget": 5.0,
                "teams": [], "key": "", "token_id": None},
    ),
    EndpointCase(
        "user_info",
        lambda c: c.user_info(ODD_ID),
        "GET", "/user/info", recorded("user/info"), UserInfo,
        query={"user_id": ODD_ID},
        fields={"user_id": "tr-u1", "user_info.user_id": "tr-u1", "user_info.max_budget": 5.0,
                "user_info.user_role": "internal_user", "keys": [], "teams": []},
    ),
    EndpointCase(
        "user_update",
        lambda c: c.user_update(UserUpdateRequest(user_id="tr-u1", max_budget=6, metadata={"k": "v2"}, user_alias=None)),
        "POST", "/user/update", recorded("user/update"), User,
        body={"user_id": "tr-u1", "user_alias": None, "metadata": {"k": "v2"}, "max_budget": 6},
        fields={"user_id": "tr-u1", "max_budget": 6.0, "metadata": {"k": "v2"}},
    ),
    EndpointCase(
        "user_delete",
        lambda c: c.user_delete(["tr-u1", "tr-u2"]),
        "POST", "/user/delete", recorded("user/delete"), None,
        body={"user_ids": ["tr-u1", "tr-u2"]},
    ),
    EndpointCase(
        "user_list by email",
        lambda c: c.user_list(user_email="tr-u1@example.invalid", page=1, page_size=25),
        "GET", "/user/list", recorded("user/list?user_email="), UserList,
        query={"user_email": "tr-u1@example.invalid", "page": "1", "page_size": "25"},
        fields={"users.0.user_id": "tr-u1", "users.0.teams": ["tr-a"], "total": 1, "page_size": 25},
    ),
    EndpointCase(
        "user_list by ids",
        lambda c: c.user_list(user_ids=["tr-u1", "tr-u2"]),
        "GET", "/user/list", recorded("user/list?user_ids="), UserList,
        query={"user_ids": "tr-u1,tr-u2"},
        fields={"users.0.user_id": "tr-u2", "users.1.user_id": "tr-u1", "total": 2},
    ),
    EndpointCase(
        "key_generate",
        lambda c: c.key_generate(KeyGenerateRequest(
            key_alias="tr-k-alpha", team_id="tr-a", user_id="tr-u1", max_budget=1.5, budget_duration="1d",
            rpm_limit=5, models=["fake-model"], metadata={"a": 1}, duration=None,
        )),
        "POST", "/key/generate", recorded("key/generate"), GeneratedKey,
        body={
            "key_alias": "tr-k-alpha", "user_id": "tr-u1", "team_id": "tr-a", "duration": None,
            "models": ["fake-model"], "metadata": {"a": 1}, "max_budget": 1.5, "budget_duration": "1d",
            "rpm_limit": 5,
        },
        fields={"key": "sk-REDACTED-3", "token": RECORDED_TOKEN, "token_id": RECORDED_TOKEN,
                "key_alias": "tr-k-alpha", "team_id": "tr-a", "max_budget": 1.5, "expires": None},
    ),
    EndpointCase(
        "key_generate caller key",
        lambda c: c.key_generate(KeyGenerateRequest(key=VIRTUAL_KEY, key_alias="tr-k-alpha")),
        "POST", "/key/generate", recorded("key/generate"), GeneratedKey,
        body={"key": VIRTUAL_KEY, "key_alias": "tr-k-alpha"},
        fields={"key_alias": "tr-k-alpha"},
    ),
    EndpointCase(
        "key_info plaintext key",
        lambda c: c.key_info(VIRTUAL_KEY),
        "GET", "/key/info", recorded("key/info"), Key,
        query={"key": token_id(VIRTUAL_KEY)},
        fields={"key_alias": "tr-k-alpha", "key_name": "sk-...Kg0A", "status": "active", "blocked": None,
                "max_budget": 1.5, "created_by": "default_user_id"},
    ),
    EndpointCase(
        "key_info token id",
        lambda c: c.key_info(RECORDED_TOKEN),
        "GET", "/key/info", recorded("key/info by hashed token"), Key,
        query={"key": RECORDED_TOKEN},
        fields={"key_alias": "tr-k-alpha", "status": "active"},
    ),
    EndpointCase(
        "key_info revoked key",
        lambda c: c.key_info(VIRTUAL_KEY),
        "GET", "/key/info", recorded("key/info after block"), Key,
        query={"key": token_id(VIRTUAL_KEY)},
        fields={"status": "revoked", "blocked": True},
    ),
    EndpointCase(
        "key_update",
        lambda c: c.key_update(KeyUpdateRequest(key=VIRTUAL_KEY, max_budget=3, metadata={"a": 2}, rpm_limit=7, key_alias=None)),
        "POST", "/key/update", recorded("key/update (key in body)"), Key,
        body={"key": VIRTUAL_KEY, "key_alias": None, "metadata": {"a": 2}, "max_budget": 3, "rpm_limit": 7},
        fields={"token": RECORDED_TOKEN, "key_alias": "tr-k-alpha", "max_budget": 3.0, "rpm_limit": 7,
                "metadata": {"a": 2}},
    ),
    EndpointCase(
        "key_delete by keys",
        lambda c: c.key_delete(keys=[VIRTUAL_KEY, RECORDED_TOKEN]),
        "POST", "/key/delete", recorded("key/delete by keys"), None,
        body={"keys": [token_id(VIRTUAL_KEY), RECORDED_TOKEN]},
    ),
    EndpointCase(
        "key_delete by aliases",
        lambda c: c.key_delete(key_aliases=["tr-k-x"]),
        "POST", "/key/delete", recorded("key/delete key of missing team"), None,
        body={"key_aliases": ["tr-k-x"]},
    ),
    EndpointCase(
        "key_block",
        lambda c: c.key_block(VIRTUAL_KEY),
        "POST", "/key/block", recorded("key/block"), Key,
        body={"key": token_id(VIRTUAL_KEY)},
        fields={"token": RECORDED_TOKEN, "blocked": True},
    ),
    EndpointCase(
        "key_unblock",
        lambda c: c.key_unblock(RECORDED_TOKEN),
        "POST", "/key/unblock", recorded("key/unblock"), Key,
        body={"key": RECORDED_TOKEN},
        fields={"token": RECORDED_TOKEN, "blocked": False},
    ),
    EndpointCase(
        "key_list filtered",
        lambda c: c.key_list(key_alias=ODD_ID, team_id="tr-a", user_id="tr-u1", page=2, size=10),
        "GET", "/key/list", recorded("key/list?key_alias=&return_full_object=true"), KeyList,
        query={"key_alias": ODD_ID, "team_id": "tr-a", "user_id": "tr-u1", "page": "2", "size": "10",
               "return_full_object": "true"},
        fields={"keys.0.token": RECORDED_TOKEN, "keys.0.key_alias": "tr-k-alpha", "keys.0.rpm_limit": 7,
                "total_count": 1, "current_page": 1, "total_pages": 1},
    ),
    EndpointCase(
        "key_list bare token ids",
        lambda c: c.key_list(),
        "GET", "/key/list", recorded("key/list?key_alias= without return_full_object"), KeyList,
        query={"return_full_object": "true"},
        fields={"keys.0.token": RECORDED_TOKEN, "keys.0.key_alias": None, "total_count": 1},
    ),
    EndpointCase(
        "key_regenerate",
        lambda c: c.key_regenerate(KeyRegenerateRequest(
            key=VIRTUAL_KEY, new_key=NEW_VIRTUAL_KEY, max_budget=2.0, key_alias=None,
        )),
        "POST", "/key/regenerate", regenerated_key(), GeneratedKey,
        body={"key": VIRTUAL_KEY, "new_key": NEW_VIRTUAL_KEY, "key_alias": None, "max_budget": 2.0},
        fields={"key": NEW_VIRTUAL_KEY, "token": token_id(NEW_VIRTUAL_KEY), "key_alias": "tr-k-alpha"},
    ),
]


def test_endpoint_table_covers_every_client_method() -> None:
    public = {name for name in vars(LiteLLMClient) if not name.startswith("_")} - {"base_url"}
    covered = {case.name.split()[0] for case in ENDPOINT_CASES}

    assert covered == public


@pytest.mark.parametrize("case", ENDPOINT_CASES, ids=lambda case: case.name)
async def test_endpoint_request_and_result(
    case: EndpointCase, litellm: LiteLLMClient, mocked: aioresponses
) -> None:
    mocked.add(any_query(case.path), method=case.method, payload=case.response)

    result = await case.invoke(litellm)

    sent = only_request(mocked)
    assert sent.method == case.method
    assert sent.url.path == case.path
    assert sent.kwargs["headers"] == {"Authorization": f"Bearer {MASTER_KEY}"}
    # Parsing the raw query splits on every unencoded "&" and "=", so a value only comes back
    # whole when the client let aiohttp encode it.
    assert dict(parse_qsl(sent.url.raw_query_string, strict_parsing=bool(case.query))) == case.query
    assert SECRET_TOKEN.search(str(sent.url)) is None
    assert sent.kwargs.get("json") == case.body

    if case.result_type is None:
        assert result is None
    else:
        assert type(result) is case.result_type
    for path, expected in case.fields.items():
        assert attribute(result, path) == expected, path


async def test_odd_id_is_percent_encoded(litellm: LiteLLMClient, mocked: aioresponses) -> None:
    mocked.add(any_query("/team/info"), method="GET", payload=recorded("team/info"))

    await litellm.team_info(ODD_ID)

    raw_query = only_request(mocked).url.raw_query_string
    assert "%26" in raw_query
    assert "%3D" in raw_query
    assert " " not in raw_query


async def test_generated_key_repr_hides_plaintext(litellm: LiteLLMClient, mocked: aioresponses) -> None:
    mocked.add(any_query("/key/regenerate"), method="POST", payload=regenerated_key())

    result = await litellm.key_regenerate(KeyRegenerateRequest(key=VIRTUAL_KEY, new_key=NEW_VIRTUAL_KEY))

    assert result.key == NEW_VIRTUAL_KEY
    assert NEW_VIRTUAL_KEY not in repr(result)
    assert VIRTUAL_KEY not in repr(litellm)
    assert MASTER_KEY not in repr(litellm)


# ---- error classes ---------------------------------------------------------------------------


@attrs.frozen
class Call:
    """A client call used by the error tables, with the endpoint it reaches."""

    method: str
    path: str
    invoke: Invoke


def admin(user_id: str) -> Member:
    return Member(role="admin", user_id=user_id)


CALLS = {
    "team_new": Call("POST", "/team/new", lambda c: c.team_new(TeamNewRequest(team_id="tr-a", team_alias="tr-alpha"))),
    "team_new without id": Call("POST", "/team/new", lambda c: c.team_new(TeamNewRequest(team_alias="tr-alpha"))),
    "team_new with tags": Call("POST", "/team/new", lambda c: c.team_new(TeamNewRequest(team_id="tr-a", tags=["prod"]))),
    "team_new with empty tags": Call("POST", "/team/new", lambda c: c.team_new(TeamNewRequest(team_id="tr-a", tags=[]))),
    "team_info": Call("GET", "/team/info", lambda c: c.team_info("tr-nope")),
    "team_update": Call("POST", "/team/update", lambda c: c.team_update(TeamUpdateRequest(team_id="tr-nope", max_budget=1))),
    "team_update with guardrails": Call(
        "POST", "/team/update", lambda c: c.team_update(TeamUpdateRequest(team_id="tr-a", guardrails=["pii"]))
    ),
    "team_delete": Call("POST", "/team/delete", lambda c: c.team_delete(["tr-nope"])),
    "team_block": Call("POST", "/team/block", lambda c: c.team_block("tr-nope")),
    "team_unblock": Call("POST", "/team/unblock", lambda c: c.team_unblock("tr-nope")),
    "team_permissions_update": Call(
        "POST", "/team/permissions_update", lambda c: c.team_permissions_update("tr-nope", ["/key/info"])
    ),
    "team_list": Call("GET", "/v2/team/list", lambda c: c.team_list(team_alias="alpha")),
    "team_member_add": Call(
        "POST", "/team/member_add",
        lambda c: c.team_member_add(TeamMemberAddRequest(team_id="tr-a", member=Member(user_id="tr-u1"))),
    ),
    "team_member_add admin": Call(
        "POST", "/team/member_add",
        lambda c: c.team_member_add(TeamMemberAddRequest(team_id="tr-a", member=admin("tr-u3"))),
    ),
    "team_member_add list with admin": Call(
        "POST", "/team/member_add",
        lambda c: c.team_member_add(
            TeamMemberAddRequest(team_id="tr-a", member=[Member(user_id="tr-u2"), admin("tr-u3")])
        ),
    ),
    "team_member_update": Call(
        "POST", "/team/member_update",
        lambda c: c.team_member_update(TeamMemberUpdateRequest(team_id="tr-a", user_id="tr-u1", role="user")),
    ),
    "team_member_update admin": Call(
        "POST", "/team/member_update",
        lambda c: c.team_member_update(TeamMemberUpdateRequest(team_id="tr-a", user_id="tr-u1", role="admin")),
    ),
    "team_member_delete": Call(
        "POST", "/team/member_delete",
        lambda c: c.team_member_delete(TeamMemberDeleteRequest(team_id="tr-a", user_id="tr-ghost")),
    ),
    "user_new": Call("POST", "/user/new", lambda c: c.user_new(UserNewRequest(user_id="tr-u1", auto_create_key=False))),
    "user_new without id": Call("POST", "/user/new", lambda c: c.user_new(UserNewRequest(user_email="a@example.invalid"))),
    "user_new with tags": Call("POST", "/user/new", lambda c: c.user_new(UserNewRequest(user_id="tr-u1", tags=["prod"]))),
    "user_new with model_max_budget": Call(
        "POST", "/user/new", lambda c: c.user_new(UserNewRequest(model_max_budget={"fake-model": {"max_budget": 1}}))
    ),
    "user_info": Call("GET", "/user/info", lambda c: c.user_info("tr-nouser")),
    "user_update": Call("POST", "/user/update", lambda c: c.user_update(UserUpdateRequest(user_id="tr-u1", max_budget=1))),
    "user_delete": Call("POST", "/user/delete", lambda c: c.user_delete(["tr-nouser"])),
    "user_list": Call("GET", "/user/list", lambda c: c.user_list(user_email="tr-u")),
    "key_generate": Call(
        "POST", "/key/generate", lambda c: c.key_generate(KeyGenerateRequest(key_alias="tr-k-alpha", team_id="tr-a"))
    ),
    "key_generate with tags": Call(
        "POST", "/key/generate", lambda c: c.key_generate(KeyGenerateRequest(key_alias="tr-k-alpha", tags=["prod"]))
    ),
    "key_generate with model_max_budget": Call(
        "POST", "/key/generate",
        lambda c: c.key_generate(KeyGenerateRequest(model_max_budget={"fake-model": {"max_budget": 1}})),
    ),
    "key_info": Call("GET", "/key/info", lambda c: c.key_info(VIRTUAL_KEY)),
    "key_update": Call("POST", "/key/update", lambda c: c.key_update(KeyUpdateRequest(key=VIRTUAL_KEY, max_budget=3))),
    "key_update with guardrails": Call(
        "POST", "/key/update", lambda c: c.key_update(KeyUpdateRequest(key=VIRTUAL_KEY, guardrails=["pii"]))
    ),
    "key_update with model_max_budget": Call(
        "POST", "/key/update",
        lambda c: c.key_update(KeyUpdateRequest(key=VIRTUAL_KEY, model_max_budget={"fake-model": {"max_budget": 1}})),
    ),
    "key_delete": Call("POST", "/key/delete", lambda c: c.key_delete(keys=[VIRTUAL_KEY])),
    "key_block": Call("POST", "/key/block", lambda c: c.key_block(VIRTUAL_KEY)),
    "key_unblock": Call("POST", "/key/unblock", lambda c: c.key_unblock(VIRTUAL_KEY)),
    "key_list": Call("GET", "/key/list", lambda c: c.key_list(team_id="tr-a")),
    "key_regenerate": Call(
        "POST", "/key/regenerate", lambda c: c.key_regenerate(KeyRegenerateRequest(key=VIRTUAL_KEY))
    ),
}


def envelope(message: str, status: int, *, error_type: str = "internal_server_error", param: Any = None) -> dict[str, Any]:
    """LiteLLM's own error body, with ``type`` and ``param``."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": str(status)}}


def detail_object(message: str, status: int) -> dict[str, Any]:
    """FastAPI's HTTPException body with a dict detail."""
    return {"detail": {"error": message}}


def detail_string(message: str, status: int) -> dict[str, Any]:
    """FastAPI's HTTPException body with a string detail."""
    return {"detail": message}


SHAPES = [envelope, detail_object, detail_string]


async def raised_error(
    litellm: LiteLLMClient,
    mocked: aioresponses,
    call_name: str,
    *,
    status: int = 200,
    payload: Any = None,
    body: str = "",
    exception: Exception | None = None,
) -> LiteLLMError:
    call = CALLS[call_name]
    mocked.add(any_query(call.path), method=call.method, status=status, payload=payload, body=body, exception=exception)

    with pytest.raises(LiteLLMError) as caught:
        await call.invoke(litellm)

    assert caught.value.endpoint == call.path
    return caught.value


# Each row is (call name, status). Every row runs with each body shape and must raise the class
# it is listed under.
STATUS_ROWS = {
    NotFoundError: [
        ("team_info", 404), ("team_update", 404), ("team_delete", 404), ("team_block", 404),
        ("team_unblock", 404), ("team_permissions_update", 404), ("team_member_add", 404),
        ("team_member_update", 404), ("user_info", 404), ("user_delete", 404), ("key_info", 404),
        ("key_update", 404), ("key_delete", 404), ("key_block", 404), ("key_unblock", 404),
    ],
    AlreadyExistsError: [
        ("user_new", 409), ("team_new", 409), ("key_generate", 409),
        # Duplicate ids: /team/new in 1.108.7 and /user/new before its 409 return 400 naming no field.
        ("team_new", 400), ("user_new", 400),
    ],
    InvalidRequestError: [
        ("team_new without id", 400), ("user_new without id", 400), ("key_generate", 400),
        ("team_member_add", 400), ("team_member_update", 400), ("team_member_delete", 400),
        ("user_update", 422), ("key_list", 422), ("team_list", 400),
    ],
    UnauthorizedError: [
        ("team_info", 401), ("team_new", 401), ("key_generate", 401), ("user_list", 401),
        ("team_info", 403), ("team_new", 403), ("key_update", 403), ("user_list", 403),
        ("team_new with empty tags", 403),
    ],
    EnterpriseFeatureError: [
        ("team_new with tags", 403), ("team_update with guardrails", 403), ("user_new with tags", 403),
        ("key_generate with tags", 403), ("key_update with guardrails", 403),
        ("team_member_add admin", 400), ("team_member_add list with admin", 400),
        ("team_member_update admin", 400),
    ],
    UnavailableError: [
        ("team_info", 500), ("team_new", 502), ("user_list", 503), ("key_generate", 500),
        ("key_info", 502), ("team_member_add", 503), ("user_new with model_max_budget", 500),
    ],
}
STATUS_CASES = [
    pytest.param(error_class, call_name, status, shape, id=f"{error_class.__name__}-{call_name}-{status}-{shape.__name__}")
    for error_class, rows in STATUS_ROWS.items()
    for call_name, status in rows
    for shape in SHAPES
]


@pytest.mark.parametrize(("error_class", "call_name", "status", "shape"), STATUS_CASES)
async def test_error_class_by_status(
    error_class: type[LiteLLMError],
    call_name: str,
    status: int,
    shape: Callable[[str, int], Any],
    litellm: LiteLLMClient,
    mocked: aioresponses,
) -> None:
    message = f"LiteLLM says {status} for {call_name}"

    error = await raised_error(litellm, mocked, call_name, status=status, payload=shape(message, status))

    assert type(error) is error_class
    assert error.status == status
    assert error.message == message


class Unchecked(enum.Enum):
    """Type of ``UNCHECKED``: a field of the error that a case does not assert on."""

    UNCHECKED = "UNCHECKED"


UNCHECKED = Unchecked.UNCHECKED


@attrs.frozen
class RecordedErrorCase:
    """An error body LiteLLM returned, or one whose ``type``/``param`` decide the class."""

    name: str
    call_name: str
    status: int
    payload: Any
    error_class: type[LiteLLMError]
    message_part: str = ""
    error_type: str | Unchecked | None = UNCHECKED
    param: str | Unchecked | None = UNCHECKED


RECORDED_ERROR_CASES = [
    # NotFoundError
    RecordedErrorCase("team_info 404", "team_info", 404, recorded("team/info missing"), NotFoundError,
                      "Team not found", "auth_error", None),
    RecordedErrorCase("team_update 404", "team_update", 404, recorded("team/update missing"), NotFoundError,
                      "Team not found"),
    RecordedErrorCase("team_delete 404", "team_delete", 404, recorded("team/delete missing"), NotFoundError,
                      "Team not found"),
    RecordedErrorCase("team_member_add 404", "team_member_add", 404, recorded("team/member_add missing team"),
                      NotFoundError, "Team doesn't exist"),
    RecordedErrorCase("team_member_update 404", "team_member_update", 404,
                      recorded("team/member_update member not in team"), NotFoundError, "not a member"),
    RecordedErrorCase("user_info 404", "user_info", 404, recorded("user/info missing"), NotFoundError,
                      "User tr-nouser not found"),
    RecordedErrorCase("user_delete 404", "user_delete", 404, recorded("user/delete missing"), NotFoundError,
                      "User not found"),
    RecordedErrorCase("key_info 404", "key_info", 404, recorded("key/info missing"), NotFoundError,
                      "Key not found", "not_found_error", "key"),
    RecordedErrorCase("key_delete 404", "key_delete", 404, recorded("key/delete missing"), NotFoundError,
                      "No keys found"),
    # AlreadyExistsError
    RecordedErrorCase("user_new 409", "user_new", 409, recorded("user/new duplicate"), AlreadyExistsError,
                      "already exists"),
    RecordedErrorCase("team_new 400 duplicate id", "team_new", 400, recorded("team/new duplicate"),
                      AlreadyExistsError, "already exists", "internal_server_error", None),
    RecordedErrorCase("user_new 400 duplicate id", "user_new", 400,
                      envelope("{'error': 'User with id tr-u1 already exists'}", 400), AlreadyExistsError,
                      "already exists"),
    RecordedErrorCase("key_generate 400 alias taken", "key_generate", 400, recorded("key/generate dup alias"),
                      AlreadyExistsError, "alias 'tr-k-alpha' already exists", "bad_request_error", "key_alias"),
    RecordedErrorCase("team_member_add 400 already member", "team_member_add", 400,
                      recorded("team/member_add duplicate member"), AlreadyExistsError, "User already in team",
                      "team_member_already_in_team", "member"),
    # InvalidRequestError
    RecordedErrorCase("team_new 400 naming a field", "team_new", 400,
                      envelope("Invalid budget_duration", 400, error_type="bad_request_error", param="budget_duration"),
                      InvalidRequestError, "Invalid budget_duration", "bad_request_error", "budget_duration"),
    RecordedErrorCase("key_generate 400 naming another field", "key_generate", 400,
                      envelope("Invalid models", 400, error_type="bad_request_error", param="models"),
                      InvalidRequestError, "Invalid models", "bad_request_error", "models"),
    RecordedErrorCase("team_member_add 400 other type", "team_member_add", 400,
                      envelope("Invalid member", 400, error_type="bad_request_error", param="member"),
                      InvalidRequestError, "Invalid member"),
    RecordedErrorCase("team_member_delete 400 not a member", "team_member_delete", 400,
                      recorded("team/member_delete not a member"), InvalidRequestError, "User not found in team"),
    RecordedErrorCase("team_member_update 400 missing team", "team_member_update", 400,
                      recorded("team/member_update missing team"), InvalidRequestError, "does not exist"),
    RecordedErrorCase("team_member_update 422 invalid role", "team_member_update", 422,
                      recorded("team/member_update invalid role"), InvalidRequestError,
                      "body.role: Input should be 'admin' or 'user'", "validation_error", "role"),
    RecordedErrorCase("team_member_update 422 no user", "team_member_update", 422,
                      recorded("team/member_update no user_id/user_email"), InvalidRequestError,
                      "Either user id or user email must be provided", "validation_error", None),
    RecordedErrorCase("key_generate 422 two fields", "key_generate", 422,
                      {"detail": [{"type": "float_parsing", "loc": ["body", "max_budget"], "msg": "Input should be a valid number"},
                                  {"type": "list_type", "loc": ["body", "models"], "msg": "Input should be a valid list"}]},
                      InvalidRequestError, "body.max_budget: Input should be a valid number; body.models:",
                      "validation_error", "max_budget"),
    # EnterpriseFeatureError
    RecordedErrorCase("team_member_add 400 admin", "team_member_add admin", 400,
                      recorded("team/member_add role admin"), EnterpriseFeatureError, "premium feature"),
    RecordedErrorCase("team_member_update 400 admin", "team_member_update admin", 400,
                      recorded("team/member_update role user->admin"), EnterpriseFeatureError, "premium feature"),
    RecordedErrorCase("key_regenerate 500", "key_regenerate", 500, recorded("key/regenerate (body)"),
                      EnterpriseFeatureError, "Enterprise feature", "internal_server_error", None),
    RecordedErrorCase("key_generate 500 model_max_budget", "key_generate with model_max_budget", 500,
                      envelope("model_max_budget is an Enterprise feature", 500), EnterpriseFeatureError,
                      "Enterprise feature"),
    RecordedErrorCase("key_update 500 model_max_budget", "key_update with model_max_budget", 500,
                      envelope("model_max_budget is an Enterprise feature", 500), EnterpriseFeatureError,
                      "Enterprise feature"),
    # UnavailableError: a 5xx outside LiteLLM's envelope, or without the field that needs a licence.
    RecordedErrorCase("key_regenerate 500 detail", "key_regenerate", 500, {"detail": "Internal Server Error"},
                      UnavailableError, "Internal Server Error"),
    RecordedErrorCase("key_regenerate 502 envelope", "key_regenerate", 502, envelope("upstream failed", 502),
                      UnavailableError, "upstream failed"),
    RecordedErrorCase("key_generate 500 plain", "key_generate", 500, envelope("database is locked", 500),
                      UnavailableError, "database is locked"),
    RecordedErrorCase("key_update 500 model_max_budget detail", "key_update with model_max_budget", 500,
                      {"detail": {"error": "db write failed"}}, UnavailableError, "db write failed"),
]


@pytest.mark.parametrize("case", RECORDED_ERROR_CASES, ids=lambda case: case.name)
async def test_error_class_by_body(case: RecordedErrorCase, litellm: LiteLLMClient, mocked: aioresponses) -> None:
    error = await raised_error(litellm, mocked, case.call_name, status=case.status, payload=case.payload)

    assert type(error) is case.error_class
    assert error.status == case.status
    assert case.message_part in error.message
    if case.error_type is not UNCHECKED:
        assert error.error_type == case.error_type
    if case.param is not UNCHECKED:
        assert error.param == case.param


NOT_FOUND_AT_200 = [
    pytest.param("user_info", {"user_id": "tr-nouser", "user_info": {}, "keys": [], "teams": []}, id="user_info empty"),
    pytest.param("user_info", {"user_id": "tr-nouser", "user_info": None, "keys": [], "teams": []}, id="user_info null"),
    pytest.param("user_info", {"user_id": "tr-nouser"}, id="user_info absent"),
    pytest.param("key_info", recorded("key/info after key/delete"), id="key_info deleted"),
    pytest.param("key_info", recorded("key/info of team key after team/delete"), id="key_info team deleted"),
]


@pytest.mark.parametrize(("call_name", "payload"), NOT_FOUND_AT_200)
async def test_not_found_at_200(call_name: str, payload: Any, litellm: LiteLLMClient, mocked: aioresponses) -> None:
    error = await raised_error(litellm, mocked, call_name, status=200, payload=payload)

    assert type(error) is NotFoundError
    assert error.status == 200


UNAVAILABLE_WITHOUT_JSON = [
    pytest.param("team_info", 502, "<html><body>502 Bad Gateway</body></html>", id="502 html"),
    pytest.param("key_generate", 503, "", id="503 empty"),
    pytest.param("user_new", 500, "Internal Server Error", id="500 text"),
    pytest.param("key_regenerate", 500, "Internal Server Error", id="key_regenerate 500 text"),
]


@pytest.mark.parametrize(("call_name", "status", "body"), UNAVAILABLE_WITHOUT_JSON)
async def test_unavailable_without_json_body(
    call_name: str, status: int, body: str, litellm: LiteLLMClient, mocked: aioresponses
) -> None:
    error = await raised_error(litellm, mocked, call_name, status=status, body=body)

    assert type(error) is UnavailableError
    assert error.status == status
    assert error.message == body


NO_RESPONSE = [
    pytest.param("team_info", aiohttp.ClientConnectionError(), "ClientConnectionError", id="team_info connection"),
    pytest.param("key_generate", aiohttp.ClientConnectionError(), "ClientConnectionError", id="key_generate connection"),
    pytest.param("user_list", aiohttp.ServerDisconnectedError(), "ServerDisconnectedError", id="user_list disconnect"),
    # asyncio.TimeoutError is the builtin TimeoutError since Python 3.11.
    pytest.param("team_info", TimeoutError(), "timed out", id="team_info timeout"),
    pytest.param("key_update", TimeoutError(), "timed out", id="key_update timeout"),
]


@pytest.mark.parametrize(("call_name", "exception", "message_part"), NO_RESPONSE)
async def test_unavailable_without_response(
    call_name: str, exception: Exception, message_part: str, litellm: LiteLLMClient, mocked: aioresponses
) -> None:
    error = await raised_error(litellm, mocked, call_name, exception=exception)

    assert type(error) is UnavailableError
    assert error.status is None
    assert message_part in error.message
    assert "no response" in str(error)
    assert error.__cause__ is None


# ---- secrets in errors -----------------------------------------------------------------------


def assert_no_secret(error: LiteLLMError, *secrets: str) -> None:
    texts = [str(error), repr(error), error.message, *(str(arg) for arg in error.args)]
    for text in texts:
        for secret in (MASTER_KEY, VIRTUAL_KEY, NEW_VIRTUAL_KEY, *secrets):
            assert secret not in text
        assert SECRET_TOKEN.search(text) is None, text


ECHOED = f"Authorization: Bearer {MASTER_KEY}, key={VIRTUAL_KEY}"
SECRET_CASES = [
    pytest.param("key_info", 404, envelope(f"Key not found: {ECHOED}", 404, param="key"), id="key_info 404 envelope"),
    pytest.param("team_member_add", 400,
                 envelope(f"User already in team. Existing keys=[{VIRTUAL_KEY}]", 400,
                          error_type="team_member_already_in_team", param="member"), id="team_member_add duplicate"),
    pytest.param("key_update", 400, {"detail": {"error": f"invalid key {ECHOED}"}}, id="key_update detail object"),
    pytest.param("key_regenerate", 500, envelope(f"Enterprise feature, new_key={NEW_VIRTUAL_KEY}", 500),
                 id="key_regenerate enterprise"),
    pytest.param("key_generate", 422,
                 {"detail": [{"loc": ["body", "key"], "msg": f"bad value {VIRTUAL_KEY}", "input": VIRTUAL_KEY}]},
                 id="key_generate 422 list"),
    pytest.param("team_info", 401, {"detail": ECHOED}, id="team_info 401 detail string"),
    pytest.param("user_list", 502, ECHOED, id="user_list 502 text"),
]


@pytest.mark.parametrize(("call_name", "status", "payload"), SECRET_CASES)
async def test_error_hides_keys(
    call_name: str, status: int, payload: Any, litellm: LiteLLMClient, mocked: aioresponses
) -> None:
    if isinstance(payload, str):
        error = await raised_error(litellm, mocked, call_name, status=status, body=payload)
    else:
        error = await raised_error(litellm, mocked, call_name, status=status, payload=payload)

    assert_no_secret(error)
    assert "sk-<redacted>" in error.message


async def test_connection_error_hides_keys(litellm: LiteLLMClient, mocked: aioresponses) -> None:
    exception = aiohttp.ClientConnectionError(f"cannot connect with {ECHOED}")

    error = await raised_error(litellm, mocked, "key_info", exception=exception)

    assert_no_secret(error)
    assert error.__cause__ is None
    assert error.__suppress_context__ is True


async def test_caller_key_hidden_in_error(litellm: LiteLLMClient, mocked: aioresponses) -> None:
    # A caller-chosen key that the sk- pattern does not catch is removed as a known secret.
    caller_key = "sk-caller.chosen.key"
    mocked.add(any_query("/key/generate"), method="POST", status=400,
               payload=envelope(f"Key {caller_key} is invalid", 400, param="key"))

    with pytest.raises(InvalidRequestError) as caught:
        await litellm.key_generate(KeyGenerateRequest(key=caller_key))

    assert ".chosen.key" not in str(caught.value)
    assert ".chosen.key" not in repr(caught.value)


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        pytest.param(401, envelope("Authentication Error, token=plain-master-key-7", 401, error_type="auth_error"), id="401 envelope"),
        pytest.param(403, {"detail": "master key plain-master-key-7 may not call this route"}, id="403 detail"),
        pytest.param(500, {"detail": {"error": "plain-master-key-7"}}, id="500 detail object"),
    ],
)
async def test_unprefixed_master_key_hidden(status: int, payload: Any, mocked: aioresponses) -> None:
    master_key = "plain-master-key-7"
    mocked.add(any_query("/team/info"), method="GET", status=status, payload=payload)

    async with aiohttp.ClientSession() as session:
        client = LiteLLMClient(BASE_URL, master_key, session=session)
        with pytest.raises(LiteLLMError) as caught:
            await client.team_info("tr-a")

    assert master_key not in str(caught.value)
    assert master_key not in repr(caught.value)
    assert master_key not in caught.value.message
