"""The condition sets every kind reports: Ready, Progressing and Degraded, plus DeleteFailed.

Each function returns the conditions that describe one outcome of a reconcile. `merge` folds them
into the stored list, so lastTransitionTime moves only when a status flips.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from litellm_operator.runtime.conditions import (
    FALSE,
    TRUE,
    Condition,
    conditions_from_list,
    conditions_to_list,
    set_condition,
)

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
DELETE_FAILED = "DeleteFailed"

RECONCILED = "Reconciled"


def _triple(
    generation: int,
    *,
    ready: tuple[str, str, str],
    progressing: tuple[str, str, str],
    degraded: tuple[str, str, str],
) -> list[Condition]:
    return [
        Condition(type=type_, status=status, reason=reason, message=message, observed_generation=generation)
        for type_, (status, reason, message) in (
            (READY, ready),
            (PROGRESSING, progressing),
            (DEGRADED, degraded),
        )
    ]


def ready(generation: int, message: str = "LiteLLM matches the spec") -> list[Condition]:
    """Conditions after a reconcile that left LiteLLM equal to the spec."""
    return _triple(
        generation,
        ready=(TRUE, RECONCILED, message),
        progressing=(FALSE, RECONCILED, ""),
        degraded=(FALSE, RECONCILED, ""),
    )


def waiting(reason: str, message: str, generation: int) -> list[Condition]:
    """Conditions while the object waits for something else to become ready."""
    return _triple(
        generation,
        ready=(FALSE, reason, message),
        progressing=(TRUE, reason, message),
        degraded=(FALSE, reason, ""),
    )


def failed(reason: str, message: str, generation: int) -> list[Condition]:
    """Conditions after a failure that is retried with backoff."""
    return _triple(
        generation,
        ready=(FALSE, reason, message),
        progressing=(TRUE, "Retrying", message),
        degraded=(TRUE, reason, message),
    )


def degraded(reason: str, message: str, generation: int) -> list[Condition]:
    """Conditions for a spec that cannot work until it changes; there is no retry loop."""
    return _triple(
        generation,
        ready=(FALSE, reason, message),
        progressing=(FALSE, reason, message),
        degraded=(TRUE, reason, message),
    )


def delete_failed(reason: str, message: str, generation: int) -> list[Condition]:
    """Conditions when deletion in LiteLLM failed and the finalizer stays."""
    return [
        Condition(type=READY, status=FALSE, reason="Deleting", message=message, observed_generation=generation),
        Condition(type=DELETE_FAILED, status=TRUE, reason=reason, message=message, observed_generation=generation),
    ]


def merge(
    stored: Iterable[Mapping[str, Any]], updates: Iterable[Condition], now: datetime
) -> list[dict[str, Any]]:
    """Return the stored conditions (JSON form) with `updates` applied per KEP-1623.

    A DeleteFailed condition is dropped once a reconcile succeeds, because it no longer applies.
    """
    conditions = conditions_from_list(stored)
    update_list = list(updates)
    if any(c.type == READY and c.status == TRUE for c in update_list):
        conditions = [c for c in conditions if c.type != DELETE_FAILED]
    for condition in update_list:
        conditions = set_condition(conditions, condition, now)
    return conditions_to_list(conditions)


def is_ready(status: Mapping[str, Any] | None) -> bool:
    """Return True when a status (JSON form) has Ready=True for its current generation."""
    for condition in (status or {}).get("conditions") or []:
        if condition.get("type") == READY:
            return condition.get("status") == TRUE
    return False
