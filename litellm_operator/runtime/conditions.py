"""Status conditions in the shape of ``metav1.Condition`` (Kubernetes KEP-1623).

A condition's ``lastTransitionTime`` records when its ``status`` last changed, not when the
condition was last written. ``set_condition`` therefore keeps the old time when only the reason,
message or observedGeneration change, which also keeps status patches empty when nothing
changed. Times are RFC 3339 in UTC with second precision (``2025-01-01T00:00:00Z``), as the API
server stores them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"
STATUSES = (TRUE, FALSE, UNKNOWN)

# The API server's validation of metav1.Condition: reason is CamelCase-like, at most 1024
# characters; message at most 32768 characters.
REASON_PATTERN = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
MAX_REASON_LENGTH = 1024
MAX_MESSAGE_LENGTH = 32768


def format_time(value: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with second precision."""
    if value.tzinfo is None:
        raise ValueError(f"condition time must be timezone-aware, got {value!r}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time such as ``2025-01-01T00:00:00Z`` into an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"condition time {text!r} has no UTC offset")
    return _truncate(value)


def _truncate(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _to_time(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_time(value)
    if value.tzinfo is None:
        raise ValueError(f"condition time must be timezone-aware, got {value!r}")
    return _truncate(value)


def _check_reason(instance: Condition, attribute: attrs.Attribute, value: str) -> None:
    if len(value) > MAX_REASON_LENGTH or not REASON_PATTERN.match(value):
        raise ValueError(
            f"invalid condition reason {value!r}: use CamelCase letters, digits, '_', ',' or ':', "
            f"at most {MAX_REASON_LENGTH} characters"
        )


def _check_message(instance: Condition, attribute: attrs.Attribute, value: str) -> None:
    if len(value) > MAX_MESSAGE_LENGTH:
        raise ValueError(f"condition message is {len(value)} characters, the maximum is {MAX_MESSAGE_LENGTH}")


@attrs.frozen
class Condition:
    """One entry of ``status.conditions``.

    ``last_transition_time`` accepts an aware datetime or an RFC 3339 string and is stored as a
    UTC datetime truncated to seconds.
    """

    type: str
    status: str = attrs.field(validator=attrs.validators.in_(STATUSES))
    reason: str = attrs.field(validator=_check_reason)
    message: str = attrs.field(default="", validator=_check_message)
    observed_generation: int | None = None
    last_transition_time: datetime | None = attrs.field(default=None, converter=_to_time)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form; ``observedGeneration`` and ``lastTransitionTime`` are omitted when None."""
        data: dict[str, Any] = {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
        }
        if self.observed_generation is not None:
            data["observedGeneration"] = self.observed_generation
        if self.last_transition_time is not None:
            data["lastTransitionTime"] = format_time(self.last_transition_time)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        """Build a condition from its JSON form; unknown keys are ignored."""
        return cls(
            type=data["type"],
            status=data["status"],
            reason=data["reason"],
            message=data.get("message") or "",
            observed_generation=data.get("observedGeneration"),
            last_transition_time=data.get("lastTransitionTime"),
        )


def set_condition(conditions: Iterable[Condition], new: Condition, now: datetime) -> list[Condition]:
    """Return ``conditions`` with ``new`` set in place of the condition of the same type.

    ``lastTransitionTime`` becomes ``now``, or ``new``'s own time if it has one, only when the
    type is new or its status changes. Otherwise the existing time is kept. An existing type
    keeps its position and a new type is appended. The input is not modified.
    """
    result = list(conditions)
    for index, existing in enumerate(result):
        if existing.type != new.type:
            continue
        if existing.status == new.status and existing.last_transition_time is not None:
            transition_time = existing.last_transition_time
        else:
            transition_time = new.last_transition_time or now
        result[index] = attrs.evolve(new, last_transition_time=transition_time)
        return result

    result.append(attrs.evolve(new, last_transition_time=new.last_transition_time or now))
    return result


def remove_condition(conditions: Iterable[Condition], type_: str) -> list[Condition]:
    """Return ``conditions`` without the condition of type ``type_``."""
    return [condition for condition in conditions if condition.type != type_]


def find_condition(conditions: Iterable[Condition], type_: str) -> Condition | None:
    """Return the condition of type ``type_``, or None."""
    return next((condition for condition in conditions if condition.type == type_), None)


def is_true(conditions: Iterable[Condition], type_: str) -> bool:
    """Return True when the condition of type ``type_`` exists and its status is ``"True"``."""
    condition = find_condition(conditions, type_)
    return condition is not None and condition.status == TRUE


def conditions_to_list(conditions: Sequence[Condition]) -> list[dict[str, Any]]:
    """Return the JSON form of a conditions list."""
    return [condition.to_dict() for condition in conditions]


def conditions_from_list(data: Iterable[Mapping[str, Any]] | None) -> list[Condition]:
    """Parse a JSON conditions list; None (no conditions yet) gives an empty list."""
    return [Condition.from_dict(item) for item in data or ()]
