"""Kubernetes `Status` error bodies, with the reasons and messages a real kube-apiserver sends."""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    """An API error that the server sends as a v1 Status body with the HTTP status `code`."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def to_status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


class PageNotFound(Exception):
    """Response to an unserved URL: the plain-text `404 page not found` of the Go mux."""


def qualified_resource(group: str, plural: str) -> str:
    """Return `plural.group`, or just `plural` for the core group."""
    return f"{plural}.{group}" if group else plural


def qualified_kind(group: str, kind: str) -> str:
    return f"{kind}.{group}" if group else kind


def resource_details(name: str | None, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = kind
    details.update(extra)
    return details


def not_found(group: str, plural: str, name: str) -> StatusError:
    return StatusError(
        404,
        "NotFound",
        f'{qualified_resource(group, plural)} "{name}" not found',
        resource_details(name, group, plural),
    )


def already_exists(group: str, plural: str, name: str) -> StatusError:
    return StatusError(
        409,
        "AlreadyExists",
        f'{qualified_resource(group, plural)} "{name}" already exists',
        resource_details(name, group, plural),
    )


def conflict(group: str, plural: str, name: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified_resource(group, plural)} "{name}": '
        "the object has been modified; please apply your changes to the latest version and try again",
        resource_details(name, group, plural),
    )


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def cause(reason: str, message: str, field: str | None = None) -> dict[str, str]:
    entry = {"reason": reason, "message": message}
    if field is not None:
        entry["field"] = field
    return entry


def invalid(
    group: str,
    kind: str,
    name: str,
    causes: list[dict[str, str]],
    *,
    details_kind: str | None = None,
) -> StatusError:
    """Build a 422 Invalid from field causes, joining several into `[a, b]` as the real server does."""
    parts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return StatusError(
        422,
        "Invalid",
        f'{qualified_kind(group, kind)} "{name}" is invalid: {summary}',
        resource_details(name, group, details_kind or kind, causes=causes),
    )


def go_type_name(value: Any) -> str:
    """Return the JSON type name that Go's validators print for `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def go_value(value: Any) -> str:
    """Format a value the way Go's field errors print it: strings quoted, numbers bare."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + go_type_name(value) + '"'
