"""Errors raised by the LiteLLM client, and the mapping from HTTP responses to them.

The class is chosen from the endpoint and the HTTP status. LiteLLM's error bodies come in four
shapes (``{"error": {...}}``, ``{"detail": {"error": ...}}``, ``{"detail": "..."}`` and FastAPI's
422 list), and their message text changes between releases, so no decision reads message text.
Where one status means two things on one endpoint, the structured ``type``/``param`` fields or
the request that was sent decide. Each such case is listed in ``classify_error``.

Server messages can echo a virtual key (LiteLLM's duplicate-member error lists the request, for
example), so every message is scrubbed of ``sk-...`` tokens and of the master key before an
exception is built.
"""

from __future__ import annotations

import json
import re
from typing import Any

# LiteLLM virtual keys and the usual master keys start with "sk-". LiteLLM's own redacted form
# "sk-...abcd" is left alone because "." is not in the class.
_SECRET_TOKEN = re.compile(r"sk-[A-Za-z0-9_\-]+")
_SCRUBBED = "sk-<redacted>"
_MAX_MESSAGE_LENGTH = 500


class LiteLLMError(Exception):
    """A LiteLLM management call failed.

    ``status`` is the HTTP status, or None when no response arrived. ``endpoint`` is the path
    template (for example ``/key/info``) and never contains a key.
    """

    def __init__(
        self,
        status: int | None,
        endpoint: str,
        message: str,
        error_type: str | None = None,
        param: str | None = None,
    ) -> None:
        self.status = status
        self.endpoint = endpoint
        self.message = scrub(message)
        self.error_type = error_type
        self.param = param
        super().__init__(self.message)

    def __str__(self) -> str:
        status = "no response" if self.status is None else f"HTTP {self.status}"
        return f"LiteLLM {self.endpoint} failed ({status}): {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, endpoint={self.endpoint!r}, "
            f"message={self.message!r}, error_type={self.error_type!r}, param={self.param!r})"
        )


class NotFoundError(LiteLLMError):
    """The object does not exist (404, a deleted key, or an empty /user/info on old releases)."""


class AlreadyExistsError(LiteLLMError):
    """An object with that id, alias or membership already exists."""


class InvalidRequestError(LiteLLMError):
    """LiteLLM rejected the request as invalid (400 or 422); retrying the same request fails."""


class UnauthorizedError(LiteLLMError):
    """The master key was missing, wrong or not allowed to call the endpoint (401/403)."""


class EnterpriseFeatureError(LiteLLMError):
    """The request needs a LiteLLM Enterprise licence that the proxy does not have."""


class UnavailableError(LiteLLMError):
    """LiteLLM could not be reached, timed out or failed on its side (5xx); retrying may work."""


def scrub(text: str, *secrets: str) -> str:
    """Remove ``sk-...`` tokens and the given secrets from ``text`` and cap its length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _SCRUBBED)
    text = _SECRET_TOKEN.sub(_SCRUBBED, text)
    if len(text) > _MAX_MESSAGE_LENGTH:
        text = text[:_MAX_MESSAGE_LENGTH] + "..."
    return text


def parse_error_body(body: Any) -> tuple[str, str | None, str | None]:
    """Extract ``(message, type, param)`` from any of LiteLLM's error body shapes."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return _text(error.get("message")), _optional_text(error.get("type")), _param(error)
    if isinstance(body, dict) and "detail" in body:
        detail = body["detail"]
        if isinstance(detail, dict):
            return _text(detail.get("error", detail)), None, None
        if isinstance(detail, list):
            return _validation_message(detail), "validation_error", _validation_param(detail)
        return _text(detail), None, None
    if isinstance(body, dict) and "error" in body:
        return _text(body["error"]), None, None
    return _text(body), None, None


def classify_error(
    status: int,
    endpoint: str,
    body: Any,
    *,
    request_body: dict[str, Any] | None = None,
    secrets: tuple[str, ...] = (),
) -> LiteLLMError:
    """Build the exception for an error response from ``endpoint``.

    Decisions that need more than the status, measured on LiteLLM 1.108.7:

    - 400 on ``/team/new`` and ``/user/new``: ``/team/new`` returns 400 for an existing
      ``team_id``, and releases before the 409 did the same for ``/user/new``. Both
      endpoints return 400 for invalid values too (``budget_duration``), with the same
      ``type``. The error is ``AlreadyExistsError`` only when the request carried its own id
      (``team_id``/``user_id``) and the body names no field (``param`` null), because most of
      LiteLLM's field validation fails with 422 or names the field.
      NOTE: an invalid ``budget_duration`` also comes back with ``param`` null, so with an id
      in the request it is reported as ``AlreadyExistsError``. A caller that then reads the
      object by id finds it missing.
    - 400 on ``/key/generate`` with ``param: key_alias``: the alias is taken.
    - 400 on ``/team/member_add`` with ``type: team_member_already_in_team``: already a member.
    - Enterprise refusals carry no structured marker, so the request decides:
      403 when the request set ``tags`` or ``guardrails`` (LiteLLM checks the licence for
      those fields before any permission check); 400 on ``/team/member_add`` or
      ``/team/member_update`` when the request gave a member ``role: admin``; a 500 from
      ``/key/regenerate``, or from ``/key/generate`` and ``/key/update`` when the request set
      ``model_max_budget``, in LiteLLM's own JSON error envelope (a proxy or gateway 5xx
      without that envelope stays ``UnavailableError``).
    """
    message, error_type, param = parse_error_body(body)
    message = scrub(message, *secrets)
    args = (status, endpoint, message, error_type, param)
    request_body = request_body or {}

    if status == 403 and _sets_enterprise_field(request_body):
        return EnterpriseFeatureError(*args)
    if status == 400 and endpoint in ("/team/member_add", "/team/member_update"):
        if _assigns_admin(request_body):
            return EnterpriseFeatureError(*args)
        if error_type == "team_member_already_in_team":
            return AlreadyExistsError(*args)
    if status == 500 and endpoint == "/key/regenerate" and _is_litellm_envelope(body):
        return EnterpriseFeatureError(*args)
    if status == 500 and endpoint in _KEY_WRITES and request_body.get("model_max_budget") and _is_litellm_envelope(body):
        return EnterpriseFeatureError(*args)

    if status in (401, 403):
        return UnauthorizedError(*args)
    if status == 404:
        return NotFoundError(*args)
    if status == 409:
        return AlreadyExistsError(*args)
    if status == 400 and _may_be_duplicate_id(endpoint, request_body, param):
        return AlreadyExistsError(*args)
    if status == 400 and endpoint == "/key/generate" and param == "key_alias":
        return AlreadyExistsError(*args)
    if status >= 500:
        return UnavailableError(*args)
    if 400 <= status < 500:
        return InvalidRequestError(*args)
    return LiteLLMError(*args)


# LiteLLM 1.108.7 answers a key's model_max_budget without a licence with a 500 in its own envelope.
_KEY_WRITES = ("/key/generate", "/key/update")


def _may_be_duplicate_id(endpoint: str, request_body: dict[str, Any], param: str | None) -> bool:
    id_field = {"/team/new": "team_id", "/user/new": "user_id"}.get(endpoint)
    return id_field is not None and bool(request_body.get(id_field)) and param is None


def _sets_enterprise_field(request_body: dict[str, Any]) -> bool:
    return any(request_body.get(name) for name in ("tags", "guardrails"))


def _assigns_admin(request_body: dict[str, Any]) -> bool:
    if request_body.get("role") == "admin":
        return True
    members = request_body.get("member")
    if isinstance(members, dict):
        members = [members]
    if isinstance(members, list):
        return any(isinstance(m, dict) and m.get("role") == "admin" for m in members)
    return False


def _is_litellm_envelope(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


def _param(error: dict[str, Any]) -> str | None:
    # LiteLLM writes a missing param as JSON null or as the string "None".
    param = error.get("param")
    if param is None or param == "None":
        return None
    return str(param)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, default=str)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _validation_message(items: list[Any]) -> str:
    parts = []
    for item in items:
        if isinstance(item, dict):
            location = ".".join(str(part) for part in item.get("loc", []))
            parts.append(f"{location}: {item.get('msg', '')}")
        else:
            parts.append(_text(item))
    return "; ".join(parts)


def _validation_param(items: list[Any]) -> str | None:
    for item in items:
        if isinstance(item, dict):
            location = [str(part) for part in item.get("loc", []) if part != "body"]
            if location:
                return ".".join(location)
    return None
