"""JSON merge patches (RFC 7386) computed from two documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the merge patch that turns `old` into `new` ({} when they are equal).

    Keys missing from `new` become null, nested maps are diffed recursively, and lists are
    replaced whole, as RFC 7386 requires.
    """
    old = old or {}
    new = new or {}
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = value
    return patch
