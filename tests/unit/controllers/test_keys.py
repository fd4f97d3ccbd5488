"""Pure helpers of the key Secret handling: names, durations, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from litellm_operator.controllers.keys import (
    key_secret_name,
    new_key_value,
    parse_duration,
    parse_timestamp,
    timestamp,
)

RAW = {"kind": "User", "metadata": {"name": "alice", "namespace": "team-a"}}


def test_secret_name_from_alias() -> None:
    assert key_secret_name(RAW, None, "ci-key") == "litellm-key-ci-key"


def test_secret_name_from_instance() -> None:
    assert key_secret_name(RAW, "prod", "ci-key") == "prod-key-ci-key"


def test_secret_name_without_alias() -> None:
    assert key_secret_name(RAW, None, None) == "litellm-key-user-alice"


def test_secret_name_invalid_characters() -> None:
    assert key_secret_name(RAW, None, "Bob_Key@corp") == "litellm-key-bob-key-corp"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h", 3600), ("2d", 172800), ("1h30m", 5400)],
)
def test_parse_duration_valid(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "1y", "m", "10 m", "-5s"])
def test_parse_duration_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_timestamp_round_trip() -> None:
    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_timestamp(timestamp(moment)) == moment


def test_parse_timestamp_invalid() -> None:
    assert parse_timestamp("yesterday") is None


def test_new_key_value_form() -> None:
    first, second = new_key_value(), new_key_value()
    assert first.startswith("sk-")
    assert len(first) > 40
    assert first != second
