"""The User reconciler's pure parts: identity, field table, metadata and status mirror."""

from __future__ import annotations

from typing import Any

from litellm_operator import api
from litellm_operator.controllers.fields import changed_fields
from litellm_operator.controllers.metadata import OWNER_KEY
from litellm_operator.controllers.user import (
    USER_FIELDS,
    model_limits,
    observed_fields,
    secret_name_of,
    user_id_of,
    user_metadata,
    user_status,
    wants_key,
)
from litellm_operator.litellm import models


def raw_user(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "User",
        "metadata": {"name": "alice", "namespace": "team-a", "uid": "uid-1", "generation": 1},
        "spec": {
            "connectionRef": {"secretRef": {"name": "litellm-connection"}},
            "userEmail": "alice@example.com",
            **(spec or {}),
        },
        "status": status or {},
    }


def structured(raw: dict[str, Any]) -> api.User:
    return api.converter.structure(raw, api.User)


def observed_user(**fields: Any) -> models.User:
    body = {"user_id": "uid-1", "user_email": "alice@example.com", **fields}
    return models.parse(body, models.User)


def test_user_id_from_spec_first() -> None:
    user = structured(raw_user({"userID": "chosen"}, {"userID": "recorded"}))
    assert user_id_of(user) == "chosen"


def test_user_id_from_status_then_uid() -> None:
    assert user_id_of(structured(raw_user(status={"userID": "recorded"}))) == "recorded"
    assert user_id_of(structured(raw_user())) == "uid-1"


def test_auto_create_key_absent_means_true() -> None:
    assert wants_key(structured(raw_user()))
    assert wants_key(structured(raw_user({"autoCreateKey": True})))
    assert not wants_key(structured(raw_user({"autoCreateKey": False})))


def test_equal_user_has_no_changes() -> None:
    user = structured(raw_user({"maxBudget": "10.5", "models": ["b", "a"], "userAlias": "al"}))
    observed = observed_user(max_budget=10.5, models=["a", "b"], user_alias="al")
    assert changed_fields(USER_FIELDS, user.spec, observed_fields(observed)) == {}


def test_removed_fields_cleared_by_kind() -> None:
    user = structured(raw_user())
    observed = observed_user(max_budget=3.0, budget_duration="30d", tpm_limit=5, rpm_limit=6, user_alias="al")
    changes = changed_fields(USER_FIELDS, user.spec, observed_fields(observed))
    assert changes == {
        "max_budget": None,
        "budget_duration": None,
        "tpm_limit": None,
        "rpm_limit": None,
        "user_alias": "",
    }


def test_unclearable_fields_kept() -> None:
    user = structured(raw_user())
    observed = observed_user(
        models=["a"],
        user_role="internal_user",
        max_parallel_requests=3,
        allowed_cache_controls=["no-cache"],
    )
    assert changed_fields(USER_FIELDS, user.spec, observed_fields(observed)) == {}


def test_create_only_fields_not_compared() -> None:
    user = structured(raw_user({"spend": "1", "ssoUserID": "sso", "teams": ["t1"]}))
    observed = observed_user(spend=42.0, sso_user_id=None, teams=[])
    assert changed_fields(USER_FIELDS, user.spec, observed_fields(observed)) == {}


def test_model_max_budget_sent_as_floats() -> None:
    user = structured(raw_user({"modelMaxBudget": {"gpt": "2.5"}}))
    changes = changed_fields(USER_FIELDS, user.spec, observed_fields(observed_user(model_max_budget={})))
    assert changes == {"model_max_budget": {"gpt": 2.5}}


def test_model_limits_as_integers() -> None:
    user = structured(raw_user({"modelRPMLimit": {"gpt": "5"}}))
    assert model_limits(user) == {"model_rpm_limit": {"gpt": 5}, "model_tpm_limit": None}


def test_metadata_holds_owner_limits_guardrails() -> None:
    raw = raw_user({"metadata": {"team": "core"}, "modelTPMLimit": {"gpt": "50"}, "guardrails": ["pii"]})
    metadata = user_metadata(structured(raw), raw)
    assert metadata == {
        "team": "core",
        OWNER_KEY: "User/team-a/alice",
        "model_tpm_limit": {"gpt": 50},
        "guardrails": ["pii"],
    }


def test_status_mirror_money_and_limits() -> None:
    info = models.parse(
        {
            "user_id": "uid-1",
            "user_info": {
                "user_id": "uid-1",
                "user_email": "alice@example.com",
                "max_budget": 10,
                "spend": 0.25,
                "model_max_budget": {"gpt": 2.5},
                "metadata": {"model_rpm_limit": {"gpt": 5}},
                "teams": [],
            },
            "keys": [],
        },
        models.UserInfo,
    )
    status = user_status(info)
    assert status["maxBudget"] == "10"
    assert status["spend"] == "0.25"
    assert status["modelMaxBudget"] == {"gpt": "2.5"}
    assert status["modelRPMLimit"] == {"gpt": "5"}
    assert "teams" not in status
    assert "token" not in status


def test_secret_name_follows_instance_and_alias() -> None:
    raw = raw_user({"keyAlias": "alice-key"})
    assert secret_name_of(structured(raw), raw) == "litellm-key-alice-key"
    raw = raw_user({"connectionRef": {"instanceRef": {"name": "prod"}}, "keyAlias": "alice-key"})
    assert secret_name_of(structured(raw), raw) == "prod-key-alice-key"


def test_secret_name_without_alias_from_object() -> None:
    raw = raw_user()
    assert secret_name_of(structured(raw), raw) == "litellm-key-user-alice"
