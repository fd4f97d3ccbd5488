"""In-memory LiteLLM management state with the behaviour measured on LiteLLM 1.108.7.

Each operation takes the decoded request and returns ``(status, body)`` the way the real proxy
returns them, including its quirks:

- ``/team/member_add`` creates users that do not exist; ``/team/member_delete`` also deletes
  the member's keys in that team; deleting a team deletes its keys.
- A deleted key stays readable through ``/key/info`` with ``status: "deleted"``; a blocked one
  reports ``status: "revoked"``.
- ``/v2/team/list?team_alias=`` and ``/user/list?user_email=`` match partially (the team alias
  case-insensitively); ``/key/list?key_alias=`` matches exactly.
- ``/key/generate`` accepts an unknown ``team_id``; a taken alias is a 400 with
  ``param: key_alias``; a caller-chosen key must start with ``sk-``.
- ``/user/new`` ignores a supplied ``key`` and creates a key unless ``auto_create_key`` is
  false. ``/user/update`` creates a missing user. ``/user/delete`` with one unknown id deletes
  none of the users.
- ``tags``/``guardrails`` (403), admin members (400) and ``/key/regenerate`` (500) are refused
  as Enterprise features.
- An update replaces ``metadata`` and an explicit null clears a field, except for
  ``model_aliases`` (null is ignored, ``{}`` clears) and ``team_member_permissions``, which
  ``/team/update`` ignores: only ``/team/permissions_update`` changes it.
- A team's ``organization_id`` must name an organization in ``organizations``.

Error bodies use the envelope the real endpoint uses. Simplifications: ``budget_reset_at`` is
now plus the budget duration (LiteLLM rounds to a calendar boundary), and a month is 30 days.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_USER_ID = "default_user_id"

_DURATION = re.compile(r"^(\d+)(mo|s|m|h|d|w)$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}

_PREMIUM = (
    "You must be a LiteLLM Enterprise user to use this feature. If you have a license please "
    "set `LITELLM_LICENSE` in your env."
)

# Fields a request may set on each kind, with the value a new object starts with.
_TEAM_FIELDS: dict[str, Any] = {
    "team_alias": None, "organization_id": None, "models": [], "metadata": {},
    "max_budget": None, "soft_budget": None, "budget_duration": None, "tpm_limit": None,
    "rpm_limit": None, "tpd_limit": None, "max_parallel_requests": None, "blocked": False,
    "team_member_permissions": [], "model_max_budget": {},
}
_USER_FIELDS: dict[str, Any] = {
    "user_email": None, "user_alias": None, "user_role": None, "organization_id": None,
    "sso_user_id": None, "models": [], "metadata": {}, "max_budget": None, "soft_budget": None,
    "spend": 0.0, "budget_duration": None, "tpm_limit": None, "rpm_limit": None,
    "max_parallel_requests": None, "model_max_budget": {}, "allowed_cache_controls": [],
}
_KEY_FIELDS: dict[str, Any] = {
    "key_alias": None, "user_id": None, "team_id": None, "models": [], "metadata": {},
    "max_budget": None, "soft_budget": None, "spend": 0.0, "budget_duration": None,
    "budget_id": None, "tpm_limit": None, "rpm_limit": None, "tpd_limit": None,
    "max_parallel_requests": None, "model_max_budget": {}, "model_rpm_limit": None,
    "model_tpm_limit": None, "aliases": {}, "config": {}, "permissions": {},
    "allowed_cache_controls": [], "allowed_routes": [], "enforced_params": None,
    "guardrails": None, "tags": None, "blocked": None, "organization_id": None,
}
# Numeric request fields; a string there fails with 422 like FastAPI's validation.
_NUMBER_FIELDS = {"max_budget", "soft_budget", "spend", "max_budget_in_team"}
_INTEGER_FIELDS = {"tpm_limit", "rpm_limit", "tpd_limit", "max_parallel_requests"}

Response = tuple[int, Any]


def token_id(key: str) -> str:
    """Return LiteLLM's token id of a plaintext key: its SHA-256 hex digest."""
    return hashlib.sha256(key.encode()).hexdigest()


def error_envelope(status: int, message: str, type_: str, param: str | None = None) -> Response:
    """Build the ``{"error": {...}}`` body LiteLLM's exception handler writes."""
    return status, {"error": {"message": message, "type": type_, "param": param, "code": str(status)}}


def detail(status: int, message: str) -> Response:
    """Build the ``{"detail": {"error": ...}}`` body of LiteLLM's HTTPException answers."""
    return status, {"detail": {"error": message}}


def validation_error(field: str, message: str, type_: str = "value_error") -> Response:
    """Build FastAPI's 422 body for one invalid field."""
    location = ["body"] if not field else ["body", field]
    return 422, {"detail": [{"type": type_, "loc": location, "msg": message}]}


class FakeState:
    """Teams, users, keys and memberships of one fake proxy."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self.teams: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        # token id -> stored key record; deleted keys move to deleted_keys.
        self.keys: dict[str, dict[str, Any]] = {}
        self.deleted_keys: dict[str, dict[str, Any]] = {}
        # (team_id, user_id) -> membership record with its budget table or None.
        self.memberships: dict[tuple[str, str], dict[str, Any]] = {}
        # Ids of existing organizations. LiteLLM creates organizations only with an Enterprise
        # licence, so the fake serves no endpoint for them and tests add ids here directly.
        self.organizations: set[str] = set()

    # ---- helpers -----------------------------------------------------------------------------

    def _timestamp(self) -> str:
        return self._now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _after(self, duration: str | None) -> str | None:
        seconds = duration_seconds(duration)
        if seconds is None:
            return None
        return (self._now() + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def _check_fields(self, body: dict[str, Any]) -> Response | None:
        for name in _NUMBER_FIELDS & body.keys():
            value = body[name]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                return validation_error(
                    name, "Input should be a valid number, unable to parse string as a number",
                    "float_parsing",
                )
        for name in _INTEGER_FIELDS & body.keys():
            value = body[name]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                return validation_error(name, "Input should be a valid integer", "int_parsing")
        duration = body.get("budget_duration")
        if duration is not None and duration_seconds(duration) is None:
            return error_envelope(
                400,
                f"{{'error': \"Invalid budget_duration '{duration}'. Use a format like '1h', "
                "'24h', '7d', or '30d'.\"}",
                "internal_server_error",
            )
        return None

    @staticmethod
    def _check_enterprise(body: dict[str, Any]) -> Response | None:
        for name in ("tags", "guardrails"):
            if body.get(name):
                return error_envelope(
                    403,
                    f"{{'error': 'This feature is only available for LiteLLM Enterprise users: "
                    f"{name}. {_PREMIUM}'}}",
                    "internal_server_error",
                )
        return None

    @staticmethod
    def _check_model_max_budget(body: dict[str, Any]) -> Response | None:
        # LiteLLM 1.108.7 refuses a key's per-model budget without a licence, with a 500.
        if body.get("model_max_budget"):
            return error_envelope(
                500,
                "Invalid model_max_budget: You must have an enterprise license to set model_max_budget. "
                + _PREMIUM,
                "internal_server_error",
            )
        return None

    def _apply(self, record: dict[str, Any], body: dict[str, Any], fields: dict[str, Any]) -> None:
        for name in fields:
            if name in body:
                record[name] = body[name]
        if "budget_duration" in body:
            record["budget_reset_at"] = self._after(body["budget_duration"])
        record["updated_at"] = self._timestamp()

    # ---- teams -------------------------------------------------------------------------------

    def team_view(self, team: dict[str, Any]) -> dict[str, Any]:
        """Return the team object LiteLLM returns from /team/new, /team/block and friends."""
        team_id = team["team_id"]
        members = [
            {"user_id": m["user_id"], "user_email": self._user_email(m["user_id"]), "role": m["role"]}
            for m in team["members"]
        ]
        view = {"team_id": team_id, "admins": [], "members": [], "members_with_roles": members}
        view.update({name: team[name] for name in _TEAM_FIELDS})
        view.update(
            {
                "spend": team["spend"], "budget_reset_at": team["budget_reset_at"],
                "budget_limits": None, "router_settings": {}, "access_group_ids": [],
                "default_team_member_models": [], "model_id": team["model_id"],
                "model_spend": {}, "policies": [], "allow_team_guardrail_config": False,
                "litellm_model_table": team["litellm_model_table"], "object_permission": None,
                "object_permission_id": None, "created_at": team["created_at"],
                "updated_at": team["updated_at"],
            }
        )
        return view

    def _user_email(self, user_id: str) -> str | None:
        user = self.users.get(user_id)
        return user["user_email"] if user else None

    def team_new(self, body: dict[str, Any]) -> Response:
        problem = self._check_fields(body) or self._check_enterprise(body)
        if problem:
            return problem
        problem = self._check_organization(body, missing_status=400)
        if problem:
            return problem
        team_id = body.get("team_id") or str(uuid.uuid4())
        if team_id in self.teams:
            return error_envelope(
                400,
                f"{{'error': 'Team id = {team_id} already exists. Please use a different team id.'}}",
                "internal_server_error",
            )
        now = self._timestamp()
        team: dict[str, Any] = {name: _copy(value) for name, value in _TEAM_FIELDS.items()}
        team.update(
            {
                "team_id": team_id, "spend": 0.0, "budget_reset_at": None, "model_id": None,
                "litellm_model_table": None, "created_at": now, "updated_at": now,
                "members": [{"user_id": DEFAULT_USER_ID, "role": "admin"}],
            }
        )
        self._apply(team, body, _TEAM_FIELDS)
        team["updated_at"] = now
        self._set_model_aliases(team, body)
        self.teams[team_id] = team
        self.memberships[(team_id, DEFAULT_USER_ID)] = self._new_membership(team_id, DEFAULT_USER_ID)
        return 200, self.team_view(team)

    def _set_model_aliases(self, team: dict[str, Any], body: dict[str, Any]) -> None:
        # LiteLLM keeps model aliases in a separate table and ignores a null.
        aliases = body.get("model_aliases")
        if aliases is not None:
            team["model_id"] = team["model_id"] or len(self.teams) + 1
            team["litellm_model_table"] = {"id": team["model_id"], "model_aliases": aliases}

    def team_info(self, team_id: str | None) -> Response:
        team = self.teams.get(team_id or "")
        if team is None:
            return error_envelope(
                404, f"{{'message': 'Team not found, passed team id: {team_id}.'}}",
                "auth_error", "None",
            )
        info = self.team_view(team)
        for member in info["members_with_roles"]:
            member["user_alias"] = None
        info.update({"team_member_budget_table": None, "model_max_budget_usage": {}})
        keys = [self._key_view(k) for k in self.keys.values() if k["team_id"] == team_id]
        memberships = [
            {**m, "budget_source": "custom" if m["litellm_budget_table"] else "none"}
            for (tid, _), m in self.memberships.items()
            if tid == team_id
        ]
        return 200, {"team_id": team_id, "team_info": info, "keys": keys, "team_memberships": memberships}

    def team_update(self, body: dict[str, Any]) -> Response:
        team = self.teams.get(body.get("team_id") or "")
        if team is None:
            return error_envelope(
                404, f"{{'error': 'Team not found, passed team_id={body.get('team_id')}'}}",
                "internal_server_error",
            )
        problem = self._check_fields(body) or self._check_enterprise(body)
        if problem:
            return problem
        if "models" in body and body["models"] is None:
            # LiteLLM 1.108.7 passes the null to its database layer, which rejects it.
            return error_envelope(500, "`data.models`: A value is required but not set", "internal_server_error")
        problem = self._check_organization(body, missing_status=404)
        if problem:
            return problem
        # /team/update has no team_member_permissions field: LiteLLM ignores it there, and only
        # /team/permissions_update changes it.
        changes = {name: value for name, value in body.items() if name != "team_member_permissions"}
        self._apply(team, changes, _TEAM_FIELDS)
        self._set_model_aliases(team, body)
        return 200, {"team_id": team["team_id"], "data": self.team_view(team)}

    def team_permissions_update(self, body: dict[str, Any]) -> Response:
        team = self.teams.get(body.get("team_id") or "")
        permissions = body.get("team_member_permissions")
        if not isinstance(permissions, list):
            return validation_error("team_member_permissions", "Input should be a valid list", "list_type")
        if team is None:
            return detail(404, f"Team not found, passed team_id={body.get('team_id')}")
        team["team_member_permissions"] = list(permissions)
        team["updated_at"] = self._timestamp()
        return 200, self.team_view(team)

    def _check_organization(self, body: dict[str, Any], *, missing_status: int) -> Response | None:
        # LiteLLM checks that the organization exists: /team/new returns 400, /team/update 404.
        # An empty string or null removes the team from its organization.
        organization_id = body.get("organization_id")
        if organization_id and organization_id not in self.organizations:
            return error_envelope(
                missing_status,
                f"Organization not found for organization_id={organization_id}",
                "internal_server_error",
            )
        return None

    def team_delete(self, body: dict[str, Any]) -> Response:
        team_ids = body.get("team_ids") or []
        for team_id in team_ids:
            if team_id not in self.teams:
                return detail(404, f"Team not found, passed team_id={team_id}")
        for team_id in team_ids:
            del self.teams[team_id]
            for key in [k for k in self.keys.values() if k["team_id"] == team_id]:
                self._delete_key(key)
            for membership in [m for m in self.memberships if m[0] == team_id]:
                del self.memberships[membership]
        return 200, {"deleted_teams": team_ids}

    def team_block(self, body: dict[str, Any], blocked: bool) -> Response:
        team = self.teams.get(body.get("team_id") or "")
        if team is None:
            return detail(404, f"Team not found, passed team_id={body.get('team_id')}")
        team["blocked"] = blocked
        team["updated_at"] = self._timestamp()
        return 200, self.team_view(team)

    def team_list(self, query: dict[str, str]) -> Response:
        teams = sorted(self.teams.values(), key=lambda t: t["created_at"], reverse=True)
        if "team_id" in query:
            teams = [t for t in teams if t["team_id"] == query["team_id"]]
        if "team_alias" in query:
            needle = query["team_alias"].lower()
            teams = [t for t in teams if needle in (t["team_alias"] or "").lower()]
        if "organization_id" in query:
            teams = [t for t in teams if t["organization_id"] == query["organization_id"]]
        page, size = _page(query, "page_size", 10)
        views = []
        for team in teams[(page - 1) * size : page * size]:
            view = self.team_view(team)
            view["members_count"] = len(team["members"])
            view["keys_count"] = sum(1 for k in self.keys.values() if k["team_id"] == team["team_id"])
            views.append(view)
        return 200, {
            "teams": views, "total": len(teams), "page": page, "page_size": size,
            "total_pages": -(-len(teams) // size),
        }

    # ---- members -----------------------------------------------------------------------------

    def _new_membership(self, team_id: str, user_id: str) -> dict[str, Any]:
        return {
            "user_id": user_id, "team_id": team_id, "budget_id": None, "spend": 0.0,
            "total_spend": 0.0, "litellm_budget_table": None,
        }

    def member_add(self, body: dict[str, Any]) -> Response:
        team_id = body.get("team_id") or ""
        members = body.get("member")
        members = members if isinstance(members, list) else [members]
        if any(isinstance(m, dict) and m.get("role") == "admin" for m in members):
            return detail(400, f"Assigning team admins is a premium feature. {_PREMIUM}")

        team = self.teams.get(team_id)
        if team is None:
            return detail(404, f"Team doesn't exist in db. Team={team_id}. Create team via `/team/new` call.")

        updated_users, updated_memberships = [], []
        for member in members:
            user = self._find_member_user(member)
            if user is not None and any(m["user_id"] == user["user_id"] for m in team["members"]):
                return error_envelope(
                    400,
                    f"User already in team. Member: user_id={member.get('user_id')}, "
                    f"user_email={member.get('user_email')}.",
                    "team_member_already_in_team", "member",
                )
            if user is None:
                user = self._create_user(
                    {"user_id": member.get("user_id"), "user_email": member.get("user_email"),
                     "user_role": "internal_user"}
                )
                user["teams"].append(team_id)
            # LiteLLM returns an existing user as read before the team was added.
            updated_users.append(self._user_view(user))
            team["members"].append({"user_id": user["user_id"], "role": member.get("role", "user")})
            if team_id not in user["teams"]:
                user["teams"].append(team_id)
            membership = self._new_membership(team_id, user["user_id"])
            if body.get("max_budget_in_team") is not None:
                self._set_member_budget(membership, {"max_budget": body["max_budget_in_team"]})
            self.memberships[(team_id, user["user_id"])] = membership
            updated_memberships.append(dict(membership))

        team["updated_at"] = self._timestamp()
        view = self.team_view(team)
        view.update({"updated_users": updated_users, "updated_team_memberships": updated_memberships})
        return 200, view

    def _find_member_user(self, member: dict[str, Any]) -> dict[str, Any] | None:
        if member.get("user_id"):
            return self.users.get(member["user_id"])
        email = member.get("user_email")
        return next((u for u in self.users.values() if email and u["user_email"] == email), None)

    def member_update(self, body: dict[str, Any]) -> Response:
        if body.get("role") not in (None, "admin", "user"):
            return validation_error("role", "Input should be 'admin' or 'user'", "literal_error")

        if not body.get("user_id") and not body.get("user_email"):
            return validation_error("", "Value error, Either user id or user email must be provided")

        if body.get("role") == "admin":
            return 400, {"detail": f"Assigning team admins is a premium feature. {_PREMIUM}"}

        team_id = body.get("team_id") or ""
        team = self.teams.get(team_id)
        if team is None:
            return detail(400, f"Team id={team_id} does not exist in db")

        user = self._find_member_user(body)
        member = None
        if user is not None:
            member = next((m for m in team["members"] if m["user_id"] == user["user_id"]), None)

        if user is None or member is None:
            member_name = body.get("user_id") or body.get("user_email")
            return detail(404, f"User {member_name} is not a member of team {team_id}")

        if body.get("role"):
            member["role"] = body["role"]

        membership = self.memberships[(team_id, user["user_id"])]
        limits = {
            "max_budget": body.get("max_budget_in_team"), "tpm_limit": body.get("tpm_limit"),
            "rpm_limit": body.get("rpm_limit"), "budget_duration": body.get("budget_duration"),
        }
        if any(value is not None for value in limits.values()):
            self._set_member_budget(membership, limits)
        elif "max_budget_in_team" in body:
            # An explicit null budget removes the member's budget (LiteLLM 1.108.7).
            membership["budget_id"] = None
            membership["litellm_budget_table"] = None

        return 200, {
            "user_id": user["user_id"], "user_email": body.get("user_email"), "team_id": team_id,
            "max_budget_in_team": body.get("max_budget_in_team"),
            "tpm_limit": body.get("tpm_limit"), "rpm_limit": body.get("rpm_limit"),
            "budget_duration": body.get("budget_duration"), "allowed_models": None,
            "temp_budget_increase": None, "temp_budget_expiry": None, "model_max_budget": None,
        }

    def _set_member_budget(self, membership: dict[str, Any], limits: dict[str, Any]) -> None:
        budget_id = membership["budget_id"] or str(uuid.uuid4())
        membership["budget_id"] = budget_id
        membership["litellm_budget_table"] = {
            "budget_id": budget_id, "soft_budget": None, "max_budget": limits.get("max_budget"),
            "max_parallel_requests": None, "tpm_limit": limits.get("tpm_limit"),
            "rpm_limit": limits.get("rpm_limit"), "tpd_limit": None, "model_max_budget": {},
            "budget_duration": limits.get("budget_duration"), "allowed_models": [],
            "temp_budget_increase": None, "temp_budget_expiry": None,
            "budget_reset_at": self._after(limits.get("budget_duration")),
            "created_at": self._timestamp(),
        }

    def member_delete(self, body: dict[str, Any]) -> Response:
        team_id = body.get("team_id") or ""
        team = self.teams.get(team_id)
        if team is None:
            return detail(400, f"Team id={team_id} does not exist in db")
        user = self._find_member_user(body)
        if user is None or not any(m["user_id"] == user["user_id"] for m in team["members"]):
            return detail(400, "User not found in team")
        user_id = user["user_id"]
        team["members"] = [m for m in team["members"] if m["user_id"] != user_id]
        self.memberships.pop((team_id, user_id), None)
        user["teams"] = [t for t in user["teams"] if t != team_id]
        for key in [k for k in self.keys.values() if k["team_id"] == team_id and k["user_id"] == user_id]:
            self._delete_key(key)
        team["updated_at"] = self._timestamp()
        return 200, self.team_view(team)

    # ---- users -------------------------------------------------------------------------------

    def _user_view(self, user: dict[str, Any]) -> dict[str, Any]:
        view = {name: user[name] for name in _USER_FIELDS}
        view.update(
            {
                "user_id": user["user_id"], "team_id": None, "object_permission_id": None,
                "teams": list(user["teams"]), "budget_reset_at": user["budget_reset_at"],
                "policies": [], "model_spend": {}, "created_at": user["created_at"],
                "updated_at": user["updated_at"], "organization_memberships": None,
                "object_permission": None,
            }
        )
        return view

    def _create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self._timestamp()
        user: dict[str, Any] = {name: _copy(value) for name, value in _USER_FIELDS.items()}
        user.update(
            {"user_id": body.get("user_id") or str(uuid.uuid4()), "teams": [],
             "budget_reset_at": None, "created_at": now, "updated_at": now}
        )
        self._apply(user, body, _USER_FIELDS)
        user["updated_at"] = now
        self.users[user["user_id"]] = user
        return user

    def user_new(self, body: dict[str, Any]) -> Response:
        problem = self._check_fields(body)
        if problem:
            return problem

        if body.get("user_id") in self.users:
            return error_envelope(
                409, f"{{'error': 'User with id {body['user_id']} already exists'}}",
                "internal_server_error",
            )

        email = body.get("user_email")
        if email and any((u["user_email"] or "").lower() == email.lower() for u in self.users.values()):
            return error_envelope(
                409, f"{{'error': 'User with email {email} already exists'}}", "internal_server_error"
            )

        if body.get("model_max_budget"):
            return error_envelope(
                500, f"Invalid model_max_budget: You must have an enterprise license to set "
                f"model_max_budget. {_PREMIUM}", "internal_server_error",
            )

        body = _user_metadata_fields(body, {})
        user = self._create_user(body)
        for team_id in body.get("teams") or []:
            if team_id in self.teams:
                self.teams[team_id]["members"].append({"user_id": user["user_id"], "role": "user"})
                self.memberships[(team_id, user["user_id"])] = self._new_membership(team_id, user["user_id"])
                user["teams"].append(team_id)

        view = self._user_view(user)
        # The /user/new body is a key-generation response with the user's fields on top.
        for name, default in _KEY_FIELDS.items():
            view.setdefault(name, _copy(default))

        view.update({"teams": None, "key": "", "key_name": None, "token_id": None, "token": None,
                     "key_alias": None, "expires": None, "duration": None,
                     "litellm_budget_table": None, "created_by": None, "updated_by": None})

        if body.get("auto_create_key", True) is not False:
            # LiteLLM ignores a caller-supplied "key" here and always generates one.
            key_body = {name: body[name] for name in ("key_alias", "duration", "models", "max_budget") if name in body}
            key_body["user_id"] = user["user_id"]
            status, created = self.key_generate(key_body, generated_only=True)
            if status != 200:
                return status, created
            view.update({name: created[name] for name in ("key", "key_name", "token_id", "key_alias", "expires")})
            view["duration"] = body.get("duration")

        return 200, view

    def user_info(self, user_id: str | None) -> Response:
        user = self.users.get(user_id or "")
        if user is None:
            return error_envelope(404, f"User {user_id} not found", "internal_server_error")
        keys = [self._key_view(k) for k in self.keys.values() if k["user_id"] == user["user_id"]]
        teams = [self.team_view(self.teams[t]) for t in user["teams"] if t in self.teams]
        info = self._user_view(user)
        info.update({"sso_user_id": user["sso_user_id"], "model_max_budget_usage": {}})
        return 200, {"user_id": user["user_id"], "user_info": info, "keys": keys, "teams": teams}

    def user_update(self, body: dict[str, Any]) -> Response:
        problem = self._check_fields(body)
        if problem:
            return problem
        for name in ("blocked", "aliases", "permissions", "guardrails", "tags"):
            if name in body:
                # The user table has no such column; LiteLLM's database layer fails.
                return error_envelope(
                    400, f"Authentication Error, Could not find field at "
                    f"`upsertOneLiteLLM_UserTable.create.{name}`", "auth_error", "None",
                )
        user = self.users.get(body.get("user_id") or "")
        body = _user_update_fields(body, user["metadata"] if user else {})
        if user is None:
            # Measured on LiteLLM 1.108.7: an update of an unknown user_id creates the user.
            user = self._create_user(body)
        else:
            self._apply(user, body, _USER_FIELDS)
        return 200, {"user_id": user["user_id"], "data": self._user_view(user)}

    def user_delete(self, body: dict[str, Any]) -> Response:
        user_ids = body.get("user_ids") or []
        for user_id in user_ids:
            if user_id not in self.users:
                return detail(404, f"User not found, passed user_id={user_id}")
        for user_id in user_ids:
            del self.users[user_id]
            for key in [k for k in self.keys.values() if k["user_id"] == user_id]:
                self._delete_key(key)
            for team in self.teams.values():
                team["members"] = [m for m in team["members"] if m["user_id"] != user_id]
            for membership in [m for m in self.memberships if m[1] == user_id]:
                del self.memberships[membership]
        return 200, len(user_ids)

    def user_list(self, query: dict[str, str]) -> Response:
        users = sorted(self.users.values(), key=lambda u: u["created_at"], reverse=True)
        if "user_email" in query:
            users = [u for u in users if query["user_email"] in (u["user_email"] or "")]
        if "user_ids" in query:
            requested_ids = set(query["user_ids"].split(","))
            users = [u for u in users if u["user_id"] in requested_ids]
        page, size = _page(query, "page_size", 25)
        views = []
        for user in users[(page - 1) * size : page * size]:
            view = self._user_view(user)
            view["key_count"] = sum(1 for k in self.keys.values() if k["user_id"] == user["user_id"])
            views.append(view)
        return 200, {
            "users": views, "total": len(users), "page": page, "page_size": size,
            "total_pages": -(-len(users) // size),
        }

    # ---- keys --------------------------------------------------------------------------------

    def _key_view(self, key: dict[str, Any]) -> dict[str, Any]:
        view = {name: key[name] for name in _KEY_FIELDS}
        view.update(
            {
                "token": key["token"], "key_name": key["key_name"], "expires": key["expires"],
                "budget_reset_at": key["budget_reset_at"], "total_spend": key["spend"],
                "key_type": "default", "model_spend": {}, "budget_fallbacks": {},
                "soft_budget_cooldown": False, "litellm_budget_table": None,
                "created_at": key["created_at"], "created_by": DEFAULT_USER_ID,
                "updated_at": key["updated_at"], "updated_by": DEFAULT_USER_ID,
                "object_permission_id": None, "object_permission": None, "access_group_ids": [],
                "router_settings": {},
            }
        )
        return view

    def find_key(self, key_or_token: str) -> tuple[dict[str, Any] | None, bool]:
        """Return ``(record, deleted)`` for a plaintext key or token id."""
        token = token_id(key_or_token) if key_or_token.startswith("sk-") else key_or_token
        if token in self.keys:
            return self.keys[token], False
        if token in self.deleted_keys:
            return self.deleted_keys[token], True
        return None, False

    def _delete_key(self, key: dict[str, Any]) -> None:
        del self.keys[key["token"]]
        key["deleted_at"] = self._timestamp()
        self.deleted_keys[key["token"]] = key

    def key_generate(self, body: dict[str, Any], *, generated_only: bool = False) -> Response:
        problem = self._check_fields(body) or self._check_enterprise(body) or self._check_model_max_budget(body)
        if problem:
            return problem

        plaintext = None if generated_only else body.get("key")
        if plaintext is not None and not str(plaintext).startswith("sk-"):
            return error_envelope(
                400,
                "{'error': \"Invalid key format. LiteLLM Virtual Key must start with 'sk-'. "
                "Received: ****\"}",
                "internal_server_error",
            )

        alias = body.get("key_alias")
        if alias is not None and any(k["key_alias"] == alias for k in self.keys.values()):
            return error_envelope(
                400,
                f"Key with alias '{alias}' already exists. Unique key aliases across all keys "
                "are required.",
                "bad_request_error", "key_alias",
            )

        plaintext = plaintext or "sk-" + secrets.token_urlsafe(16)
        token = token_id(plaintext)
        now = self._timestamp()
        key: dict[str, Any] = {name: _copy(value) for name, value in _KEY_FIELDS.items()}
        key.update(
            {"token": token, "key_name": f"sk-...{plaintext[-4:]}", "budget_reset_at": None,
             "expires": self._after(body.get("duration")), "created_at": now, "updated_at": now}
        )
        self._apply(key, body, _KEY_FIELDS)
        key["updated_at"] = now
        # NOTE: LiteLLM 1.108.7 answers 200 for a plaintext key that already exists and keeps
        # the stored key unchanged; the fake does the same.
        self.keys.setdefault(token, key)
        view = self._key_view(key)
        view.update({"key": plaintext, "token_id": token, "duration": None})
        return 200, view

    def key_info(self, key_or_token: str | None) -> Response:
        key, deleted = self.find_key(key_or_token or "")
        if key is None:
            return error_envelope(404, "Key not found in database", "not_found_error", "key")
        info = self._key_view(key)
        if deleted:
            info.update({"deleted_at": key["deleted_at"], "deleted_by": DEFAULT_USER_ID, "status": "deleted"})
        else:
            info["status"] = "revoked" if key["blocked"] else "active"
        return 200, {"key": key_or_token, "info": info}

    def key_update(self, body: dict[str, Any]) -> Response:
        key, deleted = self.find_key(str(body.get("key") or ""))
        if key is None or deleted:
            return error_envelope(404, "Key not found.", "not_found_error", "key")
        problem = self._check_fields(body) or self._check_enterprise(body) or self._check_model_max_budget(body)
        if problem:
            return problem
        self._apply(key, body, _KEY_FIELDS)
        if "duration" in body:
            key["expires"] = self._after(body["duration"])
        view = self._key_view(key)
        view["key"] = body["key"]
        return 200, view

    def key_delete(self, body: dict[str, Any]) -> Response:
        matches = []
        for given in body.get("keys") or []:
            key, deleted = self.find_key(str(given))
            if key is not None and not deleted:
                matches.append(key)
        aliases = set(body.get("key_aliases") or [])
        matches += [k for k in self.keys.values() if k["key_alias"] in aliases and k not in matches]
        if not matches:
            return error_envelope(404, "{'error': 'No keys found'}", "internal_server_error")
        for key in matches:
            self._delete_key(key)
        return 200, {"deleted_keys": list(body.get("keys") or body.get("key_aliases") or [])}

    def key_block(self, body: dict[str, Any], blocked: bool) -> Response:
        key, deleted = self.find_key(str(body.get("key") or ""))
        if key is None or deleted:
            return error_envelope(404, "Key not found.", "not_found_error", "key")
        key["blocked"] = blocked
        key["updated_at"] = self._timestamp()
        return 200, self._key_view(key)

    def key_list(self, query: dict[str, str]) -> Response:
        keys = sorted(self.keys.values(), key=lambda k: k["created_at"], reverse=True)
        if "key_alias" in query:
            alias = query["key_alias"]
            if query.get("substring_matching") == "true":
                keys = [k for k in keys if alias in (k["key_alias"] or "")]
            else:
                keys = [k for k in keys if k["key_alias"] == alias]
        for name in ("team_id", "user_id"):
            if name in query:
                keys = [k for k in keys if k[name] == query[name]]
        page, size = _page(query, "size", 10)
        selected = keys[(page - 1) * size : page * size]
        if query.get("return_full_object") == "true":
            items: list[Any] = [self._listed_key_view(k) for k in selected]
        else:
            items = [k["token"] for k in selected]
        return 200, {
            "keys": items, "total_count": len(keys), "current_page": page,
            "total_pages": -(-len(keys) // size),
        }

    def _listed_key_view(self, key: dict[str, Any]) -> dict[str, Any]:
        # /key/list has join fields for the team and user, which LiteLLM 1.108.7 leaves null.
        view = self._key_view(key)
        view.update({"team_alias": None, "user_email": None, "user_role": None})
        return view

    @staticmethod
    def key_regenerate() -> Response:
        return error_envelope(
            500, f"Regenerating Virtual Keys is an Enterprise feature, {_PREMIUM}",
            "internal_server_error",
        )


def duration_seconds(duration: str | None) -> int | None:
    """Return the seconds of a LiteLLM duration such as ``"30d"`` or ``"1mo"``, or None."""
    if not duration:
        return None
    match = _DURATION.match(duration)
    if match is None:
        return None
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


def _page(query: dict[str, str], size_name: str, default_size: int) -> tuple[int, int]:
    page = int(query.get("page", "1") or 1)
    size = int(query.get(size_name, str(default_size)) or default_size)
    return max(page, 1), max(size, 1)


def _copy(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return type(value)(value)
    return value


# Measured on LiteLLM 1.108.7: /user/update applies these fields even when null, so null clears them.
_USER_NULLABLE = {"max_budget", "budget_duration", "tpm_limit", "rpm_limit"}
# Fields that LiteLLM keeps inside a user's metadata, whatever the request names them.
_USER_METADATA_FIELDS = ("model_rpm_limit", "model_tpm_limit")


def _user_metadata_fields(body: dict[str, Any], existing_metadata: dict[str, Any]) -> dict[str, Any]:
    """Move the per-model limits into metadata, as LiteLLM does on /user/new and /user/update."""
    body = dict(body)
    metadata = body.get("metadata") or dict(existing_metadata)
    for name in _USER_METADATA_FIELDS:
        value = body.pop(name, None)
        if value is not None:
            metadata[name] = value
    body["metadata"] = metadata
    return body


def _user_update_fields(body: dict[str, Any], existing_metadata: dict[str, Any]) -> dict[str, Any]:
    """Return the fields /user/update applies: it ignores null, [] and {} for most fields,
    ignores sso_user_id, teams and soft_budget, and turns a null model_max_budget into {}.
    """
    applied: dict[str, Any] = {}
    for name, value in body.items():
        if name in _USER_NULLABLE:
            applied[name] = value
        elif name == "model_max_budget":
            applied[name] = value or {}
        elif name in ("sso_user_id", "teams", "soft_budget"):
            continue
        elif value is not None and value not in ([], {}):
            applied[name] = value
    return _user_metadata_fields(applied, existing_metadata)
