"""Typed async client for LiteLLM's management API (teams, users, virtual keys, members).

One method per endpoint. Every call authenticates with the master key, has connect and total
timeouts, reads and releases the response body, and maps failures to ``litellm.errors``.
Neither the master key nor a plaintext virtual key appears in an exception, a log line or the
client's ``repr()``. Methods that look a key up send its SHA-256 token id instead of the
plaintext key, so no plaintext key is put in a URL either.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, Protocol, TypeVar

import aiohttp

from .errors import (
    LiteLLMError,
    NotFoundError,
    UnavailableError,
    classify_error,
    scrub,
)
from .models import (
    GeneratedKey,
    Key,
    KeyGenerateRequest,
    KeyList,
    KeyRegenerateRequest,
    KeyUpdateRequest,
    NewUser,
    Team,
    TeamInfo,
    TeamList,
    TeamMemberAddRequest,
    TeamMemberAddResponse,
    TeamMemberDeleteRequest,
    TeamMembership,
    TeamMemberUpdateRequest,
    TeamMemberUpdateResponse,
    TeamNewRequest,
    TeamUpdateRequest,
    User,
    UserInfo,
    UserList,
    UserNewRequest,
    UserUpdateRequest,
    parse,
    request_body,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)

R = TypeVar("R")


class CallMetrics(Protocol):
    """Receiver of one observation per LiteLLM call.

    ``code`` is the HTTP status as a string, or ``"error"`` when no response arrived.
    """

    def observe_litellm_call(self, endpoint: str, code: str, seconds: float) -> None: ...


def token_id(key: str) -> str:
    """Return LiteLLM's token id for a plaintext key: the SHA-256 hex digest."""
    return hashlib.sha256(key.encode()).hexdigest()


def _token_or_hash(key: str) -> str:
    # LiteLLM accepts either form wherever a key is looked up; plaintext keys start with "sk-".
    return token_id(key) if key.startswith("sk-") else key


class LiteLLMClient:
    """Client for one LiteLLM proxy and master key, sharing the caller's aiohttp session."""

    def __init__(
        self,
        base_url: str,
        master_key: str,
        *,
        session: aiohttp.ClientSession,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        metrics: CallMetrics | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._master_key = master_key
        self._session = session
        self._timeout = timeout
        self._metrics = metrics

    def __repr__(self) -> str:
        return f"LiteLLMClient(base_url={self.base_url!r})"

    # ---- teams -------------------------------------------------------------------------------

    async def team_new(self, request: TeamNewRequest) -> Team:
        """Create a team. Raises ``AlreadyExistsError`` when ``team_id`` is taken."""
        return parse(await self._post("/team/new", request_body(request)), Team)

    async def team_info(self, team_id: str) -> TeamInfo:
        """Read a team with its keys and memberships. Raises ``NotFoundError``."""
        return parse(await self._get("/team/info", {"team_id": team_id}), TeamInfo)

    async def team_update(self, request: TeamUpdateRequest) -> Team:
        """Change the given fields of a team and return the team. Raises ``NotFoundError``."""
        body = await self._post("/team/update", request_body(request))
        return parse(_field(body, "data"), Team)

    async def team_delete(self, team_ids: list[str]) -> None:
        """Delete teams. Raises ``NotFoundError`` when one of them does not exist."""
        await self._post("/team/delete", {"team_ids": list(team_ids)})

    async def team_block(self, team_id: str) -> Team:
        """Block a team, so every key of the team is rejected."""
        return parse(await self._post("/team/block", {"team_id": team_id}), Team)

    async def team_unblock(self, team_id: str) -> Team:
        """Unblock a team."""
        return parse(await self._post("/team/unblock", {"team_id": team_id}), Team)

    async def team_permissions_update(self, team_id: str, permissions: list[str]) -> None:
        """Replace the routes that team members without the admin role may call.

        ``/team/update`` ignores ``team_member_permissions`` in LiteLLM 1.108.7; only this
        endpoint changes them. Raises ``NotFoundError`` when the team does not exist.
        """
        await self._post(
            "/team/permissions_update", {"team_id": team_id, "team_member_permissions": list(permissions)}
        )

    async def team_list(
        self,
        *,
        team_alias: str | None = None,
        team_id: str | None = None,
        organization_id: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> TeamList:
        """List teams. ``team_alias`` matches partially and case-insensitively."""
        params = _query(
            team_alias=team_alias,
            team_id=team_id,
            organization_id=organization_id,
            page=page,
            page_size=page_size,
        )
        return parse(await self._get("/v2/team/list", params), TeamList)

    # ---- team members ------------------------------------------------------------------------

    async def team_member_add(self, request: TeamMemberAddRequest) -> TeamMemberAddResponse:
        """Add members to a team; LiteLLM creates users that do not exist yet.

        Raises ``AlreadyExistsError`` for a member already in the team, and
        ``EnterpriseFeatureError`` for ``role: admin`` without a licence.
        """
        body = await self._post("/team/member_add", request_body(request))
        return TeamMemberAddResponse(
            team=parse(body, Team),
            updated_users=parse(body.get("updated_users") or [], list[User]),
            updated_team_memberships=parse(
                body.get("updated_team_memberships") or [], list[TeamMembership]
            ),
            raw=body,
        )

    async def team_member_update(
        self, request: TeamMemberUpdateRequest
    ) -> TeamMemberUpdateResponse:
        """Change a member's role or budget. Raises ``NotFoundError`` for a non-member."""
        body = await self._post("/team/member_update", request_body(request))
        return parse(body, TeamMemberUpdateResponse)

    async def team_member_delete(self, request: TeamMemberDeleteRequest) -> Team:
        """Remove a member from a team; LiteLLM also deletes the member's keys in the team.

        LiteLLM returns 400 (``InvalidRequestError``) when the user is not a member.
        """
        return parse(await self._post("/team/member_delete", request_body(request)), Team)

    # ---- users -------------------------------------------------------------------------------

    async def user_new(self, request: UserNewRequest) -> NewUser:
        """Create a user. Raises ``AlreadyExistsError`` when ``user_id`` is taken."""
        return parse(await self._post("/user/new", request_body(request)), NewUser)

    async def user_info(self, user_id: str) -> UserInfo:
        """Read a user with its keys and teams. Raises ``NotFoundError``.

        Releases before LiteLLM's 404 returned 200 with an empty ``user_info``; that is
        reported as ``NotFoundError`` too.
        """
        body = await self._get("/user/info", {"user_id": user_id})
        if not _field(body, "user_info"):
            raise NotFoundError(200, "/user/info", f"user {user_id!r} not found (empty user_info)")
        return parse(body, UserInfo)

    async def user_update(self, request: UserUpdateRequest) -> User:
        """Change the given fields of a user and return the user.

        LiteLLM 1.108.7 creates a user that does not exist instead of returning 404.
        """
        body = await self._post("/user/update", request_body(request))
        return parse(_field(body, "data"), User)

    async def user_delete(self, user_ids: list[str]) -> None:
        """Delete users. Raises ``NotFoundError`` and deletes none when one id is unknown."""
        await self._post("/user/delete", {"user_ids": list(user_ids)})

    async def user_list(
        self,
        *,
        user_email: str | None = None,
        user_ids: list[str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> UserList:
        """List users. ``user_email`` matches partially."""
        params = _query(
            user_email=user_email,
            user_ids=",".join(user_ids) if user_ids else None,
            page=page,
            page_size=page_size,
        )
        return parse(await self._get("/user/list", params), UserList)

    # ---- keys --------------------------------------------------------------------------------

    async def key_generate(self, request: KeyGenerateRequest) -> GeneratedKey:
        """Create a virtual key; only this response contains the plaintext key.

        Raises ``AlreadyExistsError`` when ``key_alias`` is taken.
        """
        secrets = () if not isinstance(request.key, str) else (request.key,)
        body = await self._post("/key/generate", request_body(request), secrets=secrets)
        return parse(body, GeneratedKey)

    async def key_info(self, key: str) -> Key:
        """Read a key by plaintext key or token id.

        A deleted key (LiteLLM returns 200 with ``status: "deleted"``) raises
        ``NotFoundError``; a blocked key (``status: "revoked"``) is returned with
        ``blocked=True``.
        """
        body = await self._get("/key/info", {"key": _token_or_hash(key)})
        info = _field(body, "info")
        result = parse(info, Key)
        if result.status == "deleted":
            raise NotFoundError(200, "/key/info", f"key {result.token or ''} was deleted")
        if result.status == "revoked":
            result.blocked = True
        return result

    async def key_update(self, request: KeyUpdateRequest) -> Key:
        """Change the given fields of a key. Raises ``NotFoundError``."""
        body = await self._post("/key/update", request_body(request), secrets=(request.key,))
        return parse(body, Key)

    async def key_delete(
        self, *, keys: list[str] | None = None, key_aliases: list[str] | None = None
    ) -> None:
        """Delete keys by plaintext key, token id or alias. Raises ``NotFoundError`` if none match."""
        payload: dict[str, Any] = {}
        if keys is not None:
            payload["keys"] = [_token_or_hash(key) for key in keys]
        if key_aliases is not None:
            payload["key_aliases"] = list(key_aliases)
        await self._post("/key/delete", payload)

    async def key_block(self, key: str) -> Key:
        """Block a key (``/key/info`` then reports ``status: "revoked"``)."""
        return parse(await self._post("/key/block", {"key": _token_or_hash(key)}), Key)

    async def key_unblock(self, key: str) -> Key:
        """Unblock a key."""
        return parse(await self._post("/key/unblock", {"key": _token_or_hash(key)}), Key)

    async def key_list(
        self,
        *,
        key_alias: str | None = None,
        team_id: str | None = None,
        user_id: str | None = None,
        page: int | None = None,
        size: int | None = None,
    ) -> KeyList:
        """List keys with their full objects. ``key_alias`` matches exactly."""
        params = _query(
            key_alias=key_alias,
            team_id=team_id,
            user_id=user_id,
            page=page,
            size=size,
            return_full_object="true",
        )
        return parse(await self._get("/key/list", params), KeyList)

    async def key_regenerate(self, request: KeyRegenerateRequest) -> GeneratedKey:
        """Replace a key's value. Without an Enterprise licence this raises
        ``EnterpriseFeatureError`` (LiteLLM 1.108.7 returns 500).
        """
        secrets = tuple(v for v in (request.key, request.new_key) if isinstance(v, str))
        body = await self._post("/key/regenerate", request_body(request), secrets=secrets)
        return parse(body, GeneratedKey)

    # ---- transport ---------------------------------------------------------------------------

    async def _get(self, endpoint: str, params: dict[str, str]) -> Any:
        return await self._request("GET", endpoint, params=params)

    async def _post(
        self, endpoint: str, body: dict[str, Any], *, secrets: tuple[str, ...] = ()
    ) -> Any:
        return await self._request("POST", endpoint, json_body=body, secrets=secrets)

    async def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        """Send one request and return the decoded JSON body of a 2xx response."""
        secrets = (self._master_key, *secrets)
        headers = {"Authorization": f"Bearer {self._master_key}"}
        started = time.monotonic()
        code = "error"
        try:
            async with self._session.request(
                method,
                self.base_url + endpoint,
                params=params,
                json=json_body,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                code = str(response.status)
                raw = await response.read()
                status = response.status
        except TimeoutError:
            raise UnavailableError(
                None, endpoint, f"timed out (total {self._timeout.total}s, connect "
                f"{self._timeout.connect}s) calling {self.base_url}"
            ) from None
        except aiohttp.ClientError as error:
            # The exception text can carry the request URL; it is scrubbed and not chained.
            message = scrub(f"{type(error).__name__}: {error}", *secrets)
            raise UnavailableError(None, endpoint, message) from None
        finally:
            self._observe(endpoint, code, time.monotonic() - started)

        body = _decode(raw)
        if 200 <= status < 300:
            if body is _NOT_JSON:
                raise LiteLLMError(status, endpoint, "response body is not JSON")
            return body

        error = classify_error(
            status,
            endpoint,
            raw.decode(errors="replace") if body is _NOT_JSON else body,
            request_body=json_body,
            secrets=secrets,
        )
        logger.debug(
            "LiteLLM call failed endpoint=%s status=%s error=%s", endpoint, status,
            type(error).__name__,
        )
        raise error

    def _observe(self, endpoint: str, code: str, seconds: float) -> None:
        if self._metrics is not None:
            self._metrics.observe_litellm_call(endpoint, code, seconds)


_NOT_JSON = object()


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return _NOT_JSON


def _field(body: Any, name: str) -> Any:
    if isinstance(body, dict):
        return body.get(name)
    return None


def _query(**values: Any) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None}

