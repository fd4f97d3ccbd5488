"""Field tables: how a spec field maps to a LiteLLM field, and how both sides are compared.

Every reconciler describes its managed fields as a tuple of `Field`. One table drives three jobs:
building the create request, computing the update request from the difference between the spec and
what LiteLLM echoes back, and clearing fields that were removed from the spec. Values are
normalised before comparison because LiteLLM returns budgets as floats, empty lists where nothing
was set, and `null` where the spec has an empty map.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs


class Kind(enum.Enum):
    """Comparison rule of a field: how its value is normalised, sent and cleared."""

    TEXT = "text"  # a string; "" and null are the same
    MONEY = "money"  # a decimal string in the spec, a float in LiteLLM
    INTEGER = "integer"
    BOOLEAN = "boolean"  # null and false are the same
    LIST = "list"  # ordered; [] and null are the same
    SET = "set"  # order does not matter; [] and null are the same
    MAPPING = "mapping"  # {} and null are the same; values compared as strings
    MONEY_MAPPING = "money_mapping"  # mapping of decimal strings in the spec, floats in LiteLLM
    INTEGER_MAPPING = "integer_mapping"  # mapping of integers (strings in some specs)


class Removal(enum.Enum):
    """Policy for a field that is absent from the spec."""

    CLEAR = "clear"  # send the kind's cleared value (null, [] or {})
    KEEP = "keep"  # leave LiteLLM's value: its update endpoint ignores every cleared value


@attrs.frozen
class Field:
    """One managed field: its spec attribute, its LiteLLM name and how to compare it."""

    spec: str
    api: str
    kind: Kind
    # Sent when the object is created, never compared or re-sent afterwards.
    create_only: bool = False
    # Removal.CLEAR, Removal.KEEP, or the literal value that clears the field (such as "").
    on_removal: Any = Removal.CLEAR


_EMPTY_KINDS = {Kind.LIST, Kind.SET, Kind.MAPPING, Kind.MONEY_MAPPING, Kind.INTEGER_MAPPING}


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        # str() first: Decimal(0.1) would keep the float's binary error.
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return None


def _integer(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def normalize(kind: Kind, value: Any) -> Any:
    """Return a comparable form of a spec or LiteLLM value; empty values become None."""
    if kind is Kind.TEXT:
        return value if value not in (None, "") else None
    if kind is Kind.MONEY:
        return _decimal(value)
    if kind is Kind.INTEGER:
        return _integer(value)
    if kind is Kind.BOOLEAN:
        return bool(value)
    if kind is Kind.LIST:
        return tuple(value) if value else None
    if kind is Kind.SET:
        return frozenset(value) if value else None
    if kind is Kind.MAPPING:
        return {str(k): str(v) for k, v in value.items()} if value else None
    if kind is Kind.MONEY_MAPPING:
        return {str(k): _decimal(v) for k, v in value.items()} if value else None
    if kind is Kind.INTEGER_MAPPING:
        return {str(k): _integer(v) for k, v in value.items()} if value else None
    raise ValueError(f"unknown field kind {kind!r}")


def to_request(kind: Kind, value: Any) -> Any:
    """Return the JSON value to send to LiteLLM for a spec value (None clears the field)."""
    if kind is Kind.MONEY:
        number = _decimal(value)
        return float(number) if number is not None else None
    if kind is Kind.INTEGER:
        return _integer(value)
    if kind is Kind.BOOLEAN:
        return bool(value)
    if kind is Kind.TEXT:
        return value if value not in (None, "") else None
    if kind is Kind.LIST or kind is Kind.SET:
        # An explicit empty list clears a list field; LiteLLM rejects null for some of them.
        return list(value) if value else []
    if kind is Kind.MAPPING:
        return dict(value) if value else {}
    if kind is Kind.MONEY_MAPPING:
        return {k: float(_decimal(v) or 0) for k, v in value.items()} if value else {}
    if kind is Kind.INTEGER_MAPPING:
        return {k: _integer(v) for k, v in value.items()} if value else {}
    raise ValueError(f"unknown field kind {kind!r}")


def create_request(fields: Iterable[Field], spec: Any) -> dict[str, Any]:
    """Return the request fields for creating an object: every field the spec sets."""
    body: dict[str, Any] = {}
    for field in fields:
        value = getattr(spec, field.spec)
        if value is None:
            continue
        body[field.api] = to_request(field.kind, value)
    return body


def changed_fields(fields: Iterable[Field], spec: Any, observed: Mapping[str, Any]) -> dict[str, Any]:
    """Return the request fields whose spec value differs from what LiteLLM reports.

    A field absent from the spec but set in LiteLLM is returned with its cleared value, so a
    field removed from the spec is cleared in LiteLLM, unless the field's `on_removal` is
    `Removal.KEEP`. Create-only fields are skipped.
    """
    changes: dict[str, Any] = {}
    for field in fields:
        if field.create_only:
            continue
        desired = getattr(spec, field.spec)
        if desired is None and field.on_removal is Removal.KEEP:
            continue
        if normalize(field.kind, desired) == normalize(field.kind, observed.get(field.api)):
            continue
        if desired is None and field.on_removal is not Removal.CLEAR:
            changes[field.api] = field.on_removal
        else:
            changes[field.api] = to_request(field.kind, desired)
    return changes
