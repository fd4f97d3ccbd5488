"""LiteLLM `metadata`: the spec's map plus entries the operator manages itself.

LiteLLM replaces `metadata` as a whole on update, and keeps some settings inside it (`tags`,
`guardrails`, and for keys the per-model limits). The desired metadata is therefore built from
everything the operator manages, and compared as a whole, so an out-of-band edit is repaired and
a key removed from the spec is removed in LiteLLM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Marks LiteLLM objects created or adopted by the operator, with the custom resource behind them.
OWNER_KEY = "litellm-operator/owner"


def owner_value(raw: Mapping[str, Any]) -> str:
    """Return the owner marker of a custom resource: `<Kind>/<namespace>/<name>`."""
    meta = raw.get("metadata") or {}
    return f"{raw.get('kind', '')}/{meta.get('namespace', '')}/{meta.get('name', '')}"


def tags_and_guardrails(
    metadata: Mapping[str, Any] | None, raw: Mapping[str, Any] | None = None
) -> tuple[list[str] | None, list[str] | None]:
    """Return the tags and guardrails LiteLLM stores for an object (top level or in metadata)."""
    metadata = metadata or {}
    raw = raw or {}
    tags = raw.get("tags") or metadata.get("tags")
    guardrails = raw.get("guardrails") or metadata.get("guardrails")
    return (list(tags) if tags else None, list(guardrails) if guardrails else None)


def desired_metadata(
    raw: Mapping[str, Any],
    spec_metadata: Mapping[str, str] | None,
    observed: Mapping[str, Any] | None,
    tags: list[str] | None = None,
    guardrails: list[str] | None = None,
    managed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the metadata LiteLLM should contain.

    `managed` contains further entries the caller keeps in metadata (None values are left out).
    `observed` is accepted for symmetry with `metadata_changed` and is not copied, because
    entries that the operator does not manage are drift and get removed.
    """
    del observed
    desired: dict[str, Any] = dict(spec_metadata or {})
    desired[OWNER_KEY] = owner_value(raw)
    if tags:
        desired["tags"] = list(tags)
    if guardrails:
        desired["guardrails"] = list(guardrails)
    for key, value in (managed or {}).items():
        if value is not None:
            desired[key] = value
    return desired


def metadata_changed(desired: Mapping[str, Any], observed: Mapping[str, Any] | None) -> bool:
    """Return True when LiteLLM's metadata differs from the desired map (lists compared as sets)."""
    return _normalize(desired) != _normalize(observed or {})


def _normalize(metadata: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, list):
            result[key] = sorted(map(str, value))
        elif isinstance(value, dict):
            result[key] = _normalize(value)
        else:
            result[key] = str(value) if value is not None else None
    return result
