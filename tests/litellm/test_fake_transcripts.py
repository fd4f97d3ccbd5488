"""Replays LiteLLM 1.108.7's recorded management calls against the fake, in recorded order.

Each case's request is sent to a fresh fake and the status and body shape are compared with
the recording. Plaintext keys were redacted in the recording as ``sk-REDACTED-<n>``; they and
their token ids are mapped to the values the fake generated for the same case.

Shape means: the same JSON type (null matches anything, int matches float); for objects,
every field that the client's response models read (``CHECKED_FIELDS``) and that the recording
has is present with the same shape; for lists, the first elements have the same shape; for
error bodies, the same envelope and the same ``type``, ``param`` and ``code``, because the client
classifies errors by them. Fields no model reads (LiteLLM's routing, rotation and access-group
settings) are not compared.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import attrs

from litellm_operator.litellm import models
from litellm_operator.testing.litellm_fake import FakeLiteLLM

from .conftest import MASTER_KEY

TRANSCRIPTS = Path(__file__).parent / "data" / "litellm-1.108.7-transcripts.json"

# Cases not replayed, with the reason.
EXCLUDED = {
    "team/member_add unknown user": (
        "an earlier run's type summary, not a response body, for team 't-a' that this "
        "recording never creates; 'team/member_add unknown user (creates it)' covers the case"
    ),
}


def _model_fields() -> set[str]:
    names = set()
    for value in vars(models).values():
        if isinstance(value, type) and attrs.has(value) and not value.__name__.endswith("Request"):
            names |= {field.name for field in attrs.fields(value)}
    return names - {"raw"}


# Fields read by the response models, plus envelopes and fields the client reads from ``raw``.
CHECKED_FIELDS = _model_fields() | {
    "info", "data", "deleted_keys", "deleted_teams", "litellm_model_table", "model_aliases",
    "members_count", "keys_count", "key_count", "total_spend", "deleted_at",
}

# Fields whose values must also match: they carry the quirks the operator depends on.
VALUE_FIELDS = {
    "status", "blocked", "team_id", "team_alias", "user_id", "user_email", "key_alias", "role",
    "models", "metadata", "max_budget", "rpm_limit", "tpm_limit", "budget_duration",
    "max_budget_in_team", "total", "total_count", "deleted_teams", "teams", "user_role",
}

_REDACTED_KEY = re.compile(r"sk-REDACTED-\d+")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _is_plain(value: Any) -> bool:
    # Lists of objects (a /user/list "teams" entry) are compared by shape only.
    return not (isinstance(value, list) and any(isinstance(item, dict) for item in value))


def shape_mismatches(recorded: Any, actual: Any, where: str = "body") -> list[str]:
    """List the places where ``actual`` does not have the shape of ``recorded``."""
    if recorded is None or actual is None:
        return []
    if _json_kind(recorded) != _json_kind(actual):
        return [f"{where}: {_json_kind(actual)} instead of {_json_kind(recorded)}"]
    problems: list[str] = []
    if isinstance(recorded, dict):
        for name, value in recorded.items():
            if name not in CHECKED_FIELDS:
                continue
            if name not in actual:
                problems.append(f"{where}.{name}: missing")
            elif name in VALUE_FIELDS and _is_plain(value) and value != actual[name]:
                problems.append(f"{where}.{name}: {actual[name]!r} instead of {value!r}")
            else:
                problems += shape_mismatches(value, actual[name], f"{where}.{name}")
    elif isinstance(recorded, list) and recorded and actual:
        problems += shape_mismatches(recorded[0], actual[0], f"{where}[0]")
    return problems


def error_mismatches(recorded: Any, actual: Any) -> list[str]:
    """Compare error envelopes: kind of body, and ``type``/``param`` of ``{"error": {...}}``."""
    def envelope(body: Any) -> str:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return "error object"
        if isinstance(body, dict) and "detail" in body:
            return f"detail {_json_kind(body['detail'])}"
        return _json_kind(body)

    if envelope(recorded) != envelope(actual):
        return [f"envelope {envelope(actual)!r} instead of {envelope(recorded)!r}"]
    problems = []
    if envelope(recorded) == "error object":
        for name in ("type", "param", "code"):
            if recorded["error"].get(name) != actual["error"].get(name):
                problems.append(
                    f"error.{name} {actual['error'].get(name)!r} instead of {recorded['error'].get(name)!r}"
                )
    return problems


def _substitute(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, str):
        value = _REDACTED_KEY.sub(lambda m: mapping.get(m.group(0), m.group(0)), value)
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_substitute(item, mapping) for item in value]
    if isinstance(value, dict):
        return {name: _substitute(item, mapping) for name, item in value.items()}
    return value


def _learn_ids(recorded: Any, actual: Any, mapping: dict[str, str]) -> None:
    """Map the recording's redacted keys and token ids to the fake's generated ones."""
    if not (isinstance(recorded, dict) and isinstance(actual, dict)):
        return
    key = recorded.get("key")
    if isinstance(key, str) and _REDACTED_KEY.fullmatch(key) and actual.get("key"):
        mapping[key] = actual["key"]
        for name in ("token_id", "token"):
            if recorded.get(name) and actual.get(name):
                mapping[recorded[name]] = actual[name]


async def _send(session: aiohttp.ClientSession, url: str, request: dict[str, Any]) -> tuple[int, Any]:
    async with session.request(
        request["method"],
        url + request["path"],
        params=request.get("query"),
        json=request.get("body"),
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    ) as response:
        return response.status, await response.json()


def load_cases() -> list[dict[str, Any]]:
    return json.loads(TRANSCRIPTS.read_text())


def test_transcripts_cover_every_endpoint() -> None:
    paths = {case["request"]["path"] for case in load_cases()}

    assert len(load_cases()) == 82
    assert {"/team/new", "/key/generate", "/user/new", "/team/member_add"} <= paths


async def test_fake_matches_recorded_cases(fake: FakeLiteLLM, session: aiohttp.ClientSession) -> None:
    mapping: dict[str, str] = {}
    failures: list[str] = []

    for case in load_cases():
        if case["case"] in EXCLUDED:
            continue
        request = _substitute(case["request"], mapping)
        recorded_status = case["response"]["status"]
        recorded_body = case["response"]["body"]

        status, body = await _send(session, fake.url, request)

        if status != recorded_status:
            failures.append(f"{case['case']}: status {status} instead of {recorded_status}: {body}")
            continue
        if status >= 400:
            problems = error_mismatches(recorded_body, body)
        else:
            problems = shape_mismatches(recorded_body, body)
            _learn_ids(recorded_body, body, mapping)
        failures += [f"{case['case']}: {problem}" for problem in problems]

    assert failures == [], "\n".join(failures)
