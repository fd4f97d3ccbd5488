from datetime import UTC, datetime, timedelta

import pytest

from litellm_operator.runtime.conditions import (
    Condition,
    conditions_from_list,
    conditions_to_list,
    find_condition,
    format_time,
    is_true,
    parse_time,
    remove_condition,
    set_condition,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def ready(status="True", reason="Reconciled", message="", generation=1):
    return Condition("Ready", status, reason, message, observed_generation=generation)


def test_new_type_gets_transition_time():
    [condition] = set_condition([], ready(), T0)

    assert condition.last_transition_time == T0


def test_status_flip_moves_transition_time():
    conditions = set_condition([], ready("False", "Pending"), T0)

    [condition] = set_condition(conditions, ready("True"), T1)

    assert condition.status == "True"
    assert condition.last_transition_time == T1


def test_same_status_keeps_transition_time():
    conditions = set_condition([], ready(message="first", generation=1), T0)

    [condition] = set_condition(conditions, ready("True", "Updated", "second", generation=2), T1)

    assert condition.last_transition_time == T0
    assert condition.reason == "Updated"
    assert condition.message == "second"
    assert condition.observed_generation == 2


def test_explicit_transition_time_wins_on_flip():
    conditions = set_condition([], ready("False", "Pending"), T0)
    explicit = T0 + timedelta(seconds=1)

    [condition] = set_condition(conditions, Condition("Ready", "True", "Done", last_transition_time=explicit), T1)

    assert condition.last_transition_time == explicit


def test_order_is_stable():
    conditions = set_condition([], ready(), T0)
    conditions = set_condition(conditions, Condition("Progressing", "False", "Idle"), T0)
    conditions = set_condition(conditions, Condition("Degraded", "False", "Healthy"), T0)

    conditions = set_condition(conditions, ready("False", "Failed"), T1)

    assert [c.type for c in conditions] == ["Ready", "Progressing", "Degraded"]


def test_input_not_modified():
    original = set_condition([], ready("False", "Pending"), T0)

    set_condition(original, ready("True"), T1)

    assert original[0].status == "False"


def test_unchanged_condition_is_equal():
    conditions = set_condition([], ready(), T0)

    assert set_condition(conditions, ready(), T1) == conditions


def test_now_truncated_to_seconds():
    [condition] = set_condition([], ready(), T0.replace(microsecond=987654))

    assert condition.to_dict()["lastTransitionTime"] == "2025-03-01T12:00:00Z"


def test_find_remove_and_is_true():
    conditions = set_condition([], ready(), T0)
    conditions = set_condition(conditions, Condition("Degraded", "False", "Healthy"), T0)

    assert find_condition(conditions, "Degraded").reason == "Healthy"
    assert find_condition(conditions, "Missing") is None
    assert is_true(conditions, "Ready")
    assert not is_true(conditions, "Degraded")
    assert not is_true(conditions, "Missing")
    assert [c.type for c in remove_condition(conditions, "Ready")] == ["Degraded"]


def test_to_dict_uses_json_names():
    condition = Condition("Ready", "True", "Reconciled", "ok", observed_generation=3, last_transition_time=T0)

    assert condition.to_dict() == {
        "type": "Ready",
        "status": "True",
        "reason": "Reconciled",
        "message": "ok",
        "observedGeneration": 3,
        "lastTransitionTime": "2025-03-01T12:00:00Z",
    }


def test_to_dict_omits_unset_fields():
    assert Condition("Ready", "Unknown", "Pending").to_dict() == {
        "type": "Ready", "status": "Unknown", "reason": "Pending", "message": "",
    }


def test_round_trip():
    data = [
        {"type": "Ready", "status": "True", "reason": "Reconciled", "message": "",
         "observedGeneration": 2, "lastTransitionTime": "2025-03-01T12:00:00Z"},
        {"type": "Degraded", "status": "False", "reason": "Healthy", "message": "all good",
         "lastTransitionTime": "2025-03-01T12:05:00Z"},
    ]

    assert conditions_to_list(conditions_from_list(data)) == data
    assert conditions_from_list(None) == []


def test_parse_time_accepts_fractions_and_offsets():
    assert parse_time("2025-03-01T12:00:00.123456Z") == T0
    assert parse_time("2025-03-01T13:00:00+01:00") == T0


def test_time_must_be_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_time("2025-01-01T00:00:00")


@pytest.mark.parametrize("reason", ["", "has space", "1Leading", "Trailing,", "x" * 1025])
def test_invalid_reason_rejected(reason):
    with pytest.raises(ValueError, match="invalid condition reason"):
        Condition("Ready", "True", reason)


def test_invalid_status_rejected():
    with pytest.raises(ValueError):
        Condition("Ready", "true", "Reconciled")


def test_long_message_rejected():
    with pytest.raises(ValueError, match="maximum is 32768"):
        Condition("Ready", "True", "Reconciled", "x" * 32769)
