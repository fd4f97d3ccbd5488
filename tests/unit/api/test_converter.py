"""structure() and unstructure() between the API server's JSON and the typed models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from litellm_operator.api import (
    KINDS_BY_NAME,
    Condition,
    ConnectionRef,
    SecretRef,
    StructureError,
    Team,
    TeamSpec,
    TeamStatus,
    User,
    VirtualKey,
    structure,
    unstructure,
)

CONNECTION = {"secretRef": {"name": "litellm", "keys": {"masterKey": "masterKey", "url": "url"}}}


def _team(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "auth.litellm.ai/v1alpha1",
        "kind": "Team",
        "metadata": {"name": "team-a", "namespace": "default"},
        "spec": {"connectionRef": CONNECTION, "teamAlias": "team-a", **spec},
    }


def test_samples_round_trip(samples: dict[str, dict[str, Any]]) -> None:
    for name, sample in samples.items():
        if sample["kind"] not in KINDS_BY_NAME:
            continue
        model = KINDS_BY_NAME[sample["kind"]].model

        obj = structure(sample, model)

        assert isinstance(obj, model), name
        assert unstructure(obj) == sample, name


def test_structure_uses_snake_case_names() -> None:
    team = structure(_team(maxBudget="10", rpmLimit=5, teamID="t-1"), Team)

    assert team.spec.max_budget == "10"
    assert team.spec.rpm_limit == 5
    assert team.spec.team_id == "t-1"
    assert team.spec.connection_ref.secret_ref.keys.master_key == "masterKey"


def test_structure_ignores_unknown_fields() -> None:
    data = _team(futureField="x")
    data["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    data["status"] = {"unknownStatus": 1}

    team = structure(data, Team)

    assert "futureField" not in unstructure(team)["spec"]
    assert "managedFields" not in unstructure(team)["metadata"]


def test_unstructure_omits_none() -> None:
    team = Team(spec=TeamSpec(connection_ref=ConnectionRef(secret_ref=SecretRef(name="litellm")), team_alias="a"))

    assert unstructure(team) == {
        "apiVersion": "auth.litellm.ai/v1alpha1",
        "kind": "Team",
        "metadata": {},
        "spec": {"connectionRef": {"secretRef": {"name": "litellm"}}, "teamAlias": "a"},
    }


def test_unstructure_keeps_empty_and_false_values() -> None:
    team = structure(_team(models=[], metadata={}, blocked=False, rpmLimit=0), Team)

    spec = unstructure(team)["spec"]

    assert spec["models"] == []
    assert spec["metadata"] == {}
    assert spec["blocked"] is False
    assert spec["rpmLimit"] == 0


def test_missing_status_defaults_to_empty() -> None:
    team = structure(_team(), Team)

    assert team.status == TeamStatus()
    assert "status" not in unstructure(team)


def test_status_round_trip() -> None:
    status = {
        "observedGeneration": 3,
        "teamID": "t-1",
        "spend": "0.0",
        "membersWithRole": [{"userID": "u-1", "userEmail": "a@example.com", "role": "user"}],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Reconciled",
                "message": "",
                "observedGeneration": 3,
                "lastTransitionTime": "2026-12-04T19:41:28Z",
            }
        ],
    }
    data = {**_team(), "status": status}

    team = structure(data, Team)

    assert team.status.members_with_role[0].user_id == "u-1"
    assert unstructure(team) == data


def test_condition_time_is_aware_datetime() -> None:
    data = {"type": "Ready", "status": "False", "reason": "Failed", "message": "m", "lastTransitionTime": "2026-12-04T19:41:28Z"}

    condition = structure(data, Condition)

    assert condition.last_transition_time == datetime(2026, 12, 4, 19, 41, 28, tzinfo=UTC)


def test_condition_matches_runtime_json_form() -> None:
    condition = Condition(
        type="Ready",
        status="True",
        reason="Reconciled",
        message="ok",
        observed_generation=2,
        last_transition_time=datetime(2026, 12, 4, 19, 41, 28, tzinfo=UTC),
    )

    assert unstructure(condition) == condition.to_dict()
    assert structure(condition.to_dict(), Condition) == condition


def test_datetime_unstructures_to_utc_seconds() -> None:
    data = _team()
    data["metadata"]["creationTimestamp"] = "2026-12-04T21:41:28.5+02:00"

    team = structure(data, Team)

    assert unstructure(team)["metadata"]["creationTimestamp"] == "2026-12-04T19:41:28Z"


def test_metadata_fields() -> None:
    data = _team()
    data["metadata"].update(
        {
            "uid": "9c1f0f0e-1111-4222-8333-444455556666",
            "resourceVersion": "246",
            "generation": 2,
            "labels": {"app": "x"},
            "annotations": {"note": "y"},
            "finalizers": ["litellm-operator.litellm.ai/finalizer"],
            "deletionTimestamp": "2026-12-04T19:41:28Z",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Secret", "name": "s", "uid": "u"}],
        }
    )

    metadata = structure(data, Team).metadata

    assert metadata.resource_version == "246"
    assert metadata.generation == 2
    assert metadata.finalizers == ["litellm-operator.litellm.ai/finalizer"]
    assert metadata.deletion_timestamp is not None
    assert metadata.owner_references[0]["kind"] == "Secret"


def test_model_limit_value_types_by_kind() -> None:
    user = structure(
        {"spec": {"connectionRef": CONNECTION, "userEmail": "a@example.com", "modelRPMLimit": {"fake-model": "10"}}},
        User,
    )
    key = structure(
        {"spec": {"connectionRef": CONNECTION, "keyAlias": "k", "modelRPMLimit": {"fake-model": 10}}},
        VirtualKey,
    )

    assert user.spec.model_rpm_limit == {"fake-model": "10"}
    assert key.spec.model_rpm_limit == {"fake-model": 10}


def test_missing_required_field_names_json_path() -> None:
    data = _team()
    del data["spec"]["teamAlias"]

    with pytest.raises(StructureError, match=r"required field missing at spec\.teamAlias"):
        structure(data, Team)


def test_wrong_type_names_json_path() -> None:
    with pytest.raises(StructureError, match=r"spec\.rpmLimit"):
        structure(_team(rpmLimit="many"), Team)
