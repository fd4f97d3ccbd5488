"""The validation that the CRDs add: budget and duration patterns, limits and the CEL rule."""

from __future__ import annotations

import re
from typing import Any

import celpy
import pytest

from litellm_operator.api.common import CONNECTION_REF_RULE
from litellm_operator.api.schema import DECIMAL_PATTERN, DURATION_PATTERN

from .conftest import check_schema, crd_schema

KINDS = ("Team", "User", "VirtualKey", "TeamMemberAssociation")

# (kind, field of the spec) for every budget written as a string.
BUDGET_FIELDS = [
    ("Team", "maxBudget"),
    ("User", "maxBudget"),
    ("User", "softBudget"),
    ("User", "spend"),
    ("VirtualKey", "maxBudget"),
    ("VirtualKey", "softBudget"),
    ("VirtualKey", "spend"),
    ("TeamMemberAssociation", "maxBudgetInTeam"),
]
DURATION_FIELDS = [
    ("Team", "budgetDuration"),
    ("User", "budgetDuration"),
    ("User", "duration"),
    ("VirtualKey", "budgetDuration"),
    ("VirtualKey", "duration"),
]
LIMIT_FIELDS = [
    (kind, name)
    for kind, names in {
        "Team": ("rpmLimit", "tpmLimit"),
        "User": ("rpmLimit", "tpmLimit", "maxParallelRequests"),
        "VirtualKey": ("rpmLimit", "tpmLimit", "maxParallelRequests"),
    }.items()
    for name in names
]


def _spec(crds: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    return crd_schema(crds[kind])["properties"]["spec"]


@pytest.mark.parametrize("value", ["0", "10", "100.50", "0.001", "010"])
def test_decimal_pattern_accepts(value: str) -> None:
    assert re.search(DECIMAL_PATTERN, value)


@pytest.mark.parametrize("value", ["", "-1", "1e3", ".5", "5.", "1,5", " 1", "ten", "1.2.3"])
def test_decimal_pattern_rejects(value: str) -> None:
    assert not re.search(DECIMAL_PATTERN, value)


@pytest.mark.parametrize("value", ["30s", "30m", "30h", "30d", "2w", "1mo"])
def test_duration_pattern_accepts(value: str) -> None:
    assert re.search(DURATION_PATTERN, value)


@pytest.mark.parametrize("value", ["", "30", "d", "1y", "-1d", "1.5d", "30 d", "1mon"])
def test_duration_pattern_rejects(value: str) -> None:
    assert not re.search(DURATION_PATTERN, value)


@pytest.mark.parametrize(("kind", "name"), BUDGET_FIELDS)
def test_budget_fields_use_decimal_pattern(kind: str, name: str, crds: dict[str, dict[str, Any]]) -> None:
    assert _spec(crds, kind)["properties"][name]["pattern"] == DECIMAL_PATTERN


@pytest.mark.parametrize("kind", ["User", "VirtualKey"])
def test_model_max_budget_values_use_decimal_pattern(kind: str, crds: dict[str, dict[str, Any]]) -> None:
    values = _spec(crds, kind)["properties"]["modelMaxBudget"]["additionalProperties"]
    assert values["pattern"] == DECIMAL_PATTERN


@pytest.mark.parametrize(("kind", "name"), DURATION_FIELDS)
def test_duration_fields_use_duration_pattern(kind: str, name: str, crds: dict[str, dict[str, Any]]) -> None:
    assert _spec(crds, kind)["properties"][name]["pattern"] == DURATION_PATTERN


@pytest.mark.parametrize(("kind", "name"), LIMIT_FIELDS)
def test_limits_are_non_negative(kind: str, name: str, crds: dict[str, dict[str, Any]]) -> None:
    assert _spec(crds, kind)["properties"][name]["minimum"] == 0


def test_virtual_key_model_limits_non_negative(crds: dict[str, dict[str, Any]]) -> None:
    properties = _spec(crds, "VirtualKey")["properties"]
    assert properties["modelRPMLimit"]["additionalProperties"]["minimum"] == 0
    assert properties["modelTPMLimit"]["additionalProperties"]["minimum"] == 0


def test_status_budgets_accept_any_string(crds: dict[str, dict[str, Any]]) -> None:
    status = crd_schema(crds["VirtualKey"])["properties"]["status"]
    # A status mirror may write LiteLLM's floats as "1.2e-05" and timestamps in any ISO form.
    assert check_schema(status, {"spend": "1.2e-05", "expires": "2026-01-01T00:00:00.123456+00:00"}) == []


@pytest.mark.parametrize("kind", KINDS)
def test_connection_ref_has_cel_rule(kind: str, crds: dict[str, dict[str, Any]]) -> None:
    rules = _spec(crds, kind)["properties"]["connectionRef"]["x-kubernetes-validations"]
    assert rules == [
        {
            "rule": "has(self.secretRef) != has(self.instanceRef)",
            "message": "exactly one of secretRef or instanceRef must be set",
        }
    ]


@pytest.mark.parametrize(
    ("connection_ref", "valid"),
    [
        ({"secretRef": {"name": "litellm"}}, True),
        ({"instanceRef": {"name": "litellm"}}, True),
        ({"secretRef": {}}, True),
        ({}, False),
        ({"secretRef": {"name": "a"}, "instanceRef": {"name": "b"}}, False),
    ],
)
def test_connection_ref_rule_evaluates(connection_ref: dict[str, Any], valid: bool) -> None:
    environment = celpy.Environment()
    program = environment.program(environment.compile(CONNECTION_REF_RULE.rule))

    result = program.evaluate({"self": celpy.json_to_cel(connection_ref)})

    assert bool(result) is valid


def test_samples_match_crds(samples: dict[str, dict[str, Any]], crds: dict[str, dict[str, Any]]) -> None:
    custom = {name: sample for name, sample in samples.items() if sample["apiVersion"] == "auth.litellm.ai/v1alpha1"}
    assert {sample["kind"] for sample in custom.values()} == set(KINDS)
    for name, sample in custom.items():
        assert check_schema(crd_schema(crds[sample["kind"]]), sample) == [], name


def test_invalid_team_fails_schema(crds: dict[str, dict[str, Any]]) -> None:
    team = {
        "apiVersion": "auth.litellm.ai/v1alpha1",
        "kind": "Team",
        "metadata": {"name": "bad"},
        "spec": {
            "connectionRef": {"secretRef": {"name": "litellm"}},
            "teamAlias": "bad",
            "maxBudget": "-5",
            "budgetDuration": "monthly",
            "rpmLimit": -1,
        },
    }

    errors = check_schema(crd_schema(crds["Team"]), team)

    assert any(".spec.maxBudget" in error for error in errors)
    assert any(".spec.budgetDuration" in error for error in errors)
    assert any(".spec.rpmLimit" in error for error in errors)


def test_samples_use_connection_secret(samples: dict[str, dict[str, Any]]) -> None:
    secret = samples["connection-secret.yaml"]
    assert set(secret["stringData"]) == {"masterKey", "url"}
    for name, sample in samples.items():
        if sample["kind"] == "Secret":
            continue
        secret_ref = sample["spec"]["connectionRef"]["secretRef"]
        assert secret_ref["name"] == secret["metadata"]["name"], name
        assert secret_ref["keys"] == {"masterKey": "masterKey", "url": "url"}, name


def test_samples_use_only_fake_model(samples: dict[str, dict[str, Any]]) -> None:
    for name, sample in samples.items():
        for model in sample.get("spec", {}).get("models", []):
            assert model == "fake-model", name


def test_samples_avoid_enterprise_features(samples: dict[str, dict[str, Any]]) -> None:
    for name, sample in samples.items():
        spec = sample.get("spec", {})
        assert "tags" not in spec, name
        assert "guardrails" not in spec, name
        assert spec.get("role", "user") == "user", name


def test_samples_have_user_with_and_without_key(samples: dict[str, dict[str, Any]]) -> None:
    users = [sample["spec"] for sample in samples.values() if sample["kind"] == "User"]
    assert sorted(user.get("autoCreateKey") for user in users) == [False, True]
