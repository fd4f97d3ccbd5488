"""Request and response models of LiteLLM's management API.

Requests: every field defaults to ``UNSET``, which is left out of the JSON body, so an update
changes only the fields given. ``None`` is sent as JSON null, which clears the field in LiteLLM
for scalar fields and ``metadata``. Measured on LiteLLM 1.108.7: ``models: null`` fails with a
500 (send ``[]``), and null for ``model_aliases`` or ``team_member_permissions`` is ignored.

Responses: every field is optional and unknown fields are dropped, so a newer LiteLLM that adds
fields still parses. ``raw`` keeps the whole JSON object for status mirroring. It is left out of
``repr()`` because the responses of ``/key/generate`` and ``/user/new`` contain a plaintext key.
Money values are floats (LiteLLM returns either ints or floats).
"""

from __future__ import annotations

import enum
import typing
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override


class Unset(enum.Enum):
    """Type of the ``UNSET`` sentinel: a request field that is not sent."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset.UNSET

T = TypeVar("T")
# A request field: a value, None (sent as JSON null) or UNSET (not sent).
Opt = T | None | Unset


def _unset() -> Any:
    return attrs.field(default=UNSET, kw_only=True)


def _secret() -> Any:
    return attrs.field(default=UNSET, kw_only=True, repr=False)


def request_body(request: Any) -> dict[str, Any]:
    """Convert a request model to its JSON body, leaving out ``UNSET`` fields."""
    body: dict[str, Any] = {}
    for field in attrs.fields(type(request)):
        value = getattr(request, field.name)
        if value is UNSET:
            continue
        body[field.name] = _to_json(value)
    return body


def _to_json(value: Any) -> Any:
    if attrs.has(type(value)):
        return request_body(value)
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class _TeamFields:
    """Team settings shared by the create and update requests."""

    team_alias: Opt[str] = _unset()
    organization_id: Opt[str] = _unset()
    models: Opt[list[str]] = _unset()
    metadata: Opt[dict[str, Any]] = _unset()
    max_budget: Opt[float] = _unset()
    budget_duration: Opt[str] = _unset()
    tpm_limit: Opt[int] = _unset()
    rpm_limit: Opt[int] = _unset()
    max_parallel_requests: Opt[int] = _unset()
    blocked: Opt[bool] = _unset()
    model_aliases: Opt[dict[str, str]] = _unset()
    tags: Opt[list[str]] = _unset()
    guardrails: Opt[list[str]] = _unset()
    team_member_permissions: Opt[list[str]] = _unset()


@attrs.frozen
class TeamNewRequest(_TeamFields):
    """Body of ``POST /team/new``. Without ``team_id`` LiteLLM generates one."""

    team_id: Opt[str] = _unset()


@attrs.frozen
class TeamUpdateRequest(_TeamFields):
    """Body of ``POST /team/update``. LiteLLM replaces ``metadata`` as a whole."""

    team_id: str


@attrs.frozen
class Member:
    """A team member in ``/team/member_add``. ``role`` is ``"user"`` or ``"admin"``."""

    role: str = "user"
    user_id: Opt[str] = _unset()
    user_email: Opt[str] = _unset()


@attrs.frozen
class TeamMemberAddRequest:
    """Body of ``POST /team/member_add``. An unknown ``user_id`` is created by LiteLLM."""

    team_id: str
    member: Member | list[Member]
    max_budget_in_team: Opt[float] = _unset()


@attrs.frozen
class TeamMemberUpdateRequest:
    """Body of ``POST /team/member_update``; ``user_id`` or ``user_email`` is required."""

    team_id: str
    user_id: Opt[str] = _unset()
    user_email: Opt[str] = _unset()
    role: Opt[str] = _unset()
    max_budget_in_team: Opt[float] = _unset()
    budget_duration: Opt[str] = _unset()
    tpm_limit: Opt[int] = _unset()
    rpm_limit: Opt[int] = _unset()


@attrs.frozen
class TeamMemberDeleteRequest:
    """Body of ``POST /team/member_delete``. LiteLLM also deletes the member's keys in the team."""

    team_id: str
    user_id: Opt[str] = _unset()
    user_email: Opt[str] = _unset()


@attrs.frozen
class _UserFields:
    """User settings shared by the create and update requests."""

    user_email: Opt[str] = _unset()
    user_alias: Opt[str] = _unset()
    user_role: Opt[str] = _unset()
    organization_id: Opt[str] = _unset()
    models: Opt[list[str]] = _unset()
    metadata: Opt[dict[str, Any]] = _unset()
    max_budget: Opt[float] = _unset()
    soft_budget: Opt[float] = _unset()
    spend: Opt[float] = _unset()
    budget_duration: Opt[str] = _unset()
    tpm_limit: Opt[int] = _unset()
    rpm_limit: Opt[int] = _unset()
    max_parallel_requests: Opt[int] = _unset()
    model_max_budget: Opt[dict[str, Any]] = _unset()
    model_rpm_limit: Opt[dict[str, int]] = _unset()
    model_tpm_limit: Opt[dict[str, int]] = _unset()
    aliases: Opt[dict[str, str]] = _unset()
    allowed_cache_controls: Opt[list[str]] = _unset()
    permissions: Opt[dict[str, Any]] = _unset()
    config: Opt[dict[str, Any]] = _unset()
    guardrails: Opt[list[str]] = _unset()
    tags: Opt[list[str]] = _unset()
    blocked: Opt[bool] = _unset()
    sso_user_id: Opt[str] = _unset()


@attrs.frozen
class UserNewRequest(_UserFields):
    """Body of ``POST /user/new``.

    LiteLLM creates a key for the user unless ``auto_create_key`` is False, and it ignores a
    supplied ``key`` (LiteLLM 1.108.7), so the field is not offered here.
    """

    user_id: Opt[str] = _unset()
    teams: Opt[list[str]] = _unset()
    send_invite_email: Opt[bool] = _unset()
    auto_create_key: Opt[bool] = _unset()
    key_alias: Opt[str] = _unset()
    duration: Opt[str] = _unset()


@attrs.frozen
class UserUpdateRequest(_UserFields):
    """Body of ``POST /user/update``.

    LiteLLM 1.108.7 creates the user when ``user_id`` does not exist, so check existence with
    ``user_info`` first when that matters.
    """

    user_id: str


@attrs.frozen
class _KeyFields:
    """Key settings shared by the generate and update requests."""

    key_alias: Opt[str] = _unset()
    user_id: Opt[str] = _unset()
    team_id: Opt[str] = _unset()
    duration: Opt[str] = _unset()
    models: Opt[list[str]] = _unset()
    metadata: Opt[dict[str, Any]] = _unset()
    max_budget: Opt[float] = _unset()
    soft_budget: Opt[float] = _unset()
    spend: Opt[float] = _unset()
    budget_duration: Opt[str] = _unset()
    budget_id: Opt[str] = _unset()
    tpm_limit: Opt[int] = _unset()
    rpm_limit: Opt[int] = _unset()
    max_parallel_requests: Opt[int] = _unset()
    model_max_budget: Opt[dict[str, Any]] = _unset()
    model_rpm_limit: Opt[dict[str, int]] = _unset()
    model_tpm_limit: Opt[dict[str, int]] = _unset()
    aliases: Opt[dict[str, str]] = _unset()
    allowed_cache_controls: Opt[list[str]] = _unset()
    allowed_routes: Opt[list[str]] = _unset()
    enforced_params: Opt[list[str]] = _unset()
    permissions: Opt[dict[str, Any]] = _unset()
    config: Opt[dict[str, Any]] = _unset()
    guardrails: Opt[list[str]] = _unset()
    tags: Opt[list[str]] = _unset()
    blocked: Opt[bool] = _unset()


@attrs.frozen
class KeyGenerateRequest(_KeyFields):
    """Body of ``POST /key/generate``.

    ``key`` is a caller-chosen plaintext key and must start with ``sk-``. LiteLLM accepts a
    ``team_id`` that does not exist, and returns 400 (``param: key_alias``) for a taken alias.
    """

    key: Opt[str] = _secret()
    send_invite_email: Opt[bool] = _unset()


@attrs.frozen
class KeyUpdateRequest(_KeyFields):
    """Body of ``POST /key/update``. ``key`` is the plaintext key or its hashed token id.

    Sending ``duration`` resets ``expires`` to now plus the duration.
    """

    key: str = attrs.field(repr=False)


@attrs.frozen
class KeyRegenerateRequest:
    """Body of ``POST /key/regenerate``; an Enterprise feature in LiteLLM 1.108.7."""

    key: str = attrs.field(repr=False)
    new_key: Opt[str] = _secret()
    key_alias: Opt[str] = _unset()
    duration: Opt[str] = _unset()
    max_budget: Opt[float] = _unset()
    metadata: Opt[dict[str, Any]] = _unset()


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


def _raw() -> Any:
    return attrs.field(factory=dict, repr=False, eq=False)


@attrs.define
class TeamMemberRole:
    """One entry of a team's ``members_with_roles``."""

    user_id: str | None = None
    user_email: str | None = None
    role: str | None = None


@attrs.define
class BudgetTable:
    """A LiteLLM budget row, for example a member's budget inside a team."""

    budget_id: str | None = None
    max_budget: float | None = None
    soft_budget: float | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None
    budget_duration: str | None = None
    budget_reset_at: str | None = None
    raw: dict[str, Any] = _raw()


@attrs.define
class TeamMembership:
    """One entry of ``team_memberships``: a user's spend and budget inside a team."""

    user_id: str | None = None
    team_id: str | None = None
    budget_id: str | None = None
    spend: float | None = None
    litellm_budget_table: BudgetTable | None = None
    raw: dict[str, Any] = _raw()


@attrs.define
class Team:
    """A LiteLLM team as ``/team/new``, ``/team/info`` and ``/v2/team/list`` return it."""

    team_id: str | None = None
    team_alias: str | None = None
    organization_id: str | None = None
    members_with_roles: list[TeamMemberRole] = attrs.field(factory=list)
    metadata: dict[str, Any] | None = None
    models: list[str] = attrs.field(factory=list)
    max_budget: float | None = None
    soft_budget: float | None = None
    spend: float | None = None
    budget_duration: str | None = None
    budget_reset_at: str | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None
    blocked: bool | None = None
    team_member_permissions: list[str] | None = None
    model_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict[str, Any] = _raw()

    @property
    def model_aliases(self) -> dict[str, str] | None:
        """Model aliases, which LiteLLM returns inside ``litellm_model_table``."""
        table = self.raw.get("litellm_model_table")
        if isinstance(table, dict):
            return table.get("model_aliases")
        return None


@attrs.define
class Key:
    """A virtual key's stored state; ``token`` is the SHA-256 hex of the plaintext key.

    ``status`` is set by ``/key/info`` only: ``"active"``, ``"revoked"`` (blocked) or
    ``"deleted"``.
    """

    token: str | None = None
    key_name: str | None = None
    key_alias: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    models: list[str] = attrs.field(factory=list)
    metadata: dict[str, Any] | None = None
    max_budget: float | None = None
    soft_budget: float | None = None
    spend: float | None = None
    budget_duration: str | None = None
    budget_reset_at: str | None = None
    budget_id: str | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None
    model_max_budget: dict[str, Any] | None = None
    model_rpm_limit: dict[str, int] | None = None
    model_tpm_limit: dict[str, int] | None = None
    aliases: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    permissions: dict[str, Any] | None = None
    allowed_cache_controls: list[str] | None = None
    allowed_routes: list[str] | None = None
    enforced_params: list[str] | None = None
    guardrails: list[str] | None = None
    tags: list[str] | None = None
    blocked: bool | None = None
    expires: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    status: str | None = None
    raw: dict[str, Any] = _raw()


@attrs.define
class GeneratedKey(Key):
    """Response of ``/key/generate`` and ``/key/regenerate``; ``key`` is the plaintext key."""

    key: str | None = attrs.field(default=None, repr=False)
    token_id: str | None = None
    duration: str | None = None


@attrs.define
class User:
    """A LiteLLM user (internal user) as ``/user/info`` and ``/user/list`` return it."""

    user_id: str | None = None
    user_email: str | None = None
    user_alias: str | None = None
    user_role: str | None = None
    teams: list[str] = attrs.field(factory=list)
    organization_id: str | None = None
    sso_user_id: str | None = None
    models: list[str] = attrs.field(factory=list)
    metadata: dict[str, Any] | None = None
    max_budget: float | None = None
    soft_budget: float | None = None
    spend: float | None = None
    budget_duration: str | None = None
    budget_reset_at: str | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    max_parallel_requests: int | None = None
    model_max_budget: dict[str, Any] | None = None
    allowed_cache_controls: list[str] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict[str, Any] = _raw()


@attrs.define
class NewUser(User):
    """Response of ``/user/new``. ``key`` is the plaintext auto-created key, or empty."""

    key: str | None = attrs.field(default=None, repr=False)
    token_id: str | None = None
    key_alias: str | None = None
    key_name: str | None = None
    expires: str | None = None


@attrs.define
class TeamInfo:
    """Response of ``/team/info``."""

    team_id: str | None = None
    team_info: Team = attrs.field(factory=Team)
    keys: list[Key] = attrs.field(factory=list)
    team_memberships: list[TeamMembership] = attrs.field(factory=list)
    raw: dict[str, Any] = _raw()


@attrs.define
class UserInfo:
    """Response of ``/user/info``."""

    user_id: str | None = None
    user_info: User = attrs.field(factory=User)
    keys: list[Key] = attrs.field(factory=list)
    teams: list[Team] = attrs.field(factory=list)
    raw: dict[str, Any] = _raw()


@attrs.define
class TeamMemberAddResponse:
    """Response of ``/team/member_add``: the team and the users it added."""

    team: Team
    updated_users: list[User] = attrs.field(factory=list)
    updated_team_memberships: list[TeamMembership] = attrs.field(factory=list)
    raw: dict[str, Any] = _raw()


@attrs.define
class TeamMemberUpdateResponse:
    """Response of ``/team/member_update``: the member's limits inside the team."""

    user_id: str | None = None
    user_email: str | None = None
    team_id: str | None = None
    max_budget_in_team: float | None = None
    tpm_limit: int | None = None
    rpm_limit: int | None = None
    budget_duration: str | None = None
    raw: dict[str, Any] = _raw()


@attrs.define
class TeamList:
    """Response of ``/v2/team/list``."""

    teams: list[Team] = attrs.field(factory=list)
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    total_pages: int | None = None


@attrs.define
class UserList:
    """Response of ``/user/list``."""

    users: list[User] = attrs.field(factory=list)
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    total_pages: int | None = None


@attrs.define
class KeyList:
    """Response of ``/key/list`` with ``return_full_object=true``."""

    keys: list[Key] = attrs.field(factory=list)
    total_count: int | None = None
    current_page: int | None = None
    total_pages: int | None = None


# ---------------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------------

converter = cattrs.Converter(forbid_extra_keys=False)


def _structure_float(value: Any, _: type) -> float:
    return float(value)


converter.register_structure_hook(float, _structure_float)


def _make_list_structure_fn(cls: type) -> Any:
    # LiteLLM sends null for some empty lists (a user's "teams", for example).
    (item_type,) = typing.get_args(cls) or (Any,)

    def structure(data: Any, _: type) -> list[Any]:
        if data is None:
            return []
        return [converter.structure(item, item_type) for item in data]

    return structure


converter.register_structure_hook_factory(
    lambda cls: typing.get_origin(cls) is list, _make_list_structure_fn
)


def _has_raw(cls: type) -> bool:
    return attrs.has(cls) and "raw" in attrs.fields_dict(cls)


def _make_raw_structure_fn(cls: type) -> Any:
    structure_fields = make_dict_structure_fn(cls, converter, raw=override(omit=True))

    def structure(data: Any, type_: type) -> Any:
        obj = structure_fields(data, type_)
        obj.raw = data
        return obj

    return structure


converter.register_structure_hook_factory(_has_raw, _make_raw_structure_fn)


def _structure_key(data: Any, _: type) -> Key:
    # /key/list without return_full_object returns bare token ids.
    if isinstance(data, str):
        return Key(token=data)
    return _key_structure_fn(data, Key)


_key_structure_fn = _make_raw_structure_fn(Key)
# A predicate hook, because a class hook would also catch the subclass GeneratedKey.
converter.register_structure_hook_func(lambda cls: cls is Key, _structure_key)

R = TypeVar("R")


def parse(data: Any, cls: type[R]) -> R:
    """Structure a JSON value into a response model, tolerating unknown fields."""
    return converter.structure(data, cls)
