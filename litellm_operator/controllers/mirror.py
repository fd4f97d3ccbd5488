"""Conversions from LiteLLM values to the strings and shapes the status subresource stores."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


def money(value: Any) -> str | None:
    """Return a budget or spend as a plain decimal string ("10.5", "20"), or None."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return format(number, "f")


def text(value: Any) -> str | None:
    """Return a scalar as a string, or None for null and empty values."""
    if value is None or value == "":
        return None
    return str(value)


def string_map(value: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Return a map with string values (nested values as JSON), or None when empty."""
    if not value:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in value.items()}


def string_list(value: Any) -> list[str] | None:
    """Return a list of strings, or None when empty."""
    if not value:
        return None
    return [str(item) for item in value]


def compact(status: Mapping[str, Any]) -> dict[str, Any]:
    """Return the status fields without the None values (absent fields stay absent)."""
    return {key: value for key, value in status.items() if value is not None}
