"""Membership reconciler pieces that need no server: reference indexes, member diff, deletion choice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from litellm_operator import api
from litellm_operator.controllers.base import ReconcilerContext
from litellm_operator.controllers.membership import (
    Member,
    TeamMemberAssociationReconciler,
    find_member,
    member_changes,
    team_ref_index,
    user_ref_index,
)
from litellm_operator.litellm import models
from litellm_operator.runtime.kube import Resource


def membership(
    *, team: dict[str, Any] | None = None, user: dict[str, Any] | None = None, **status: Any
) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": "TeamMemberAssociation",
        "metadata": {"name": "m", "namespace": "ns", "uid": "uid-1", "generation": 1},
        "spec": {
            "connectionRef": {"secretRef": {"name": "conn"}},
            "teamRef": team if team is not None else {"name": "t"},
            "userRef": user if user is not None else {"name": "u"},
            "role": "user",
        },
        "status": status,
    }


def spec(role: str = "user", budget: str | None = None) -> api.TeamMemberAssociationSpec:
    raw = membership()["spec"]
    raw["role"] = role
    if budget is not None:
        raw["maxBudgetInTeam"] = budget
    return api.converter.structure(raw, api.TeamMemberAssociationSpec)


def team_info(members: list[dict[str, Any]], memberships: list[dict[str, Any]]) -> models.TeamInfo:
    return models.parse(
        {"team_id": "t1", "team_info": {"team_id": "t1", "members_with_roles": members}, "team_memberships": memberships},
        models.TeamInfo,
    )


# ---- reference indexes ----


def test_team_index_defaults_to_own_namespace() -> None:
    assert team_ref_index(membership()) == ["ns/t"]


def test_user_index_uses_given_namespace() -> None:
    assert user_ref_index(membership(user={"name": "u", "namespace": "other"})) == ["other/u"]


def test_index_without_name_is_empty() -> None:
    assert team_ref_index(membership(team={})) == []


# ---- observed member ----


def test_find_member_absent() -> None:
    info = team_info([{"user_id": "default_user_id", "role": "admin"}], [])
    assert find_member(info, "u1") is None


def test_find_member_with_budget() -> None:
    info = team_info(
        [{"user_id": "u1", "user_email": "u1@example.com", "role": "user"}],
        [{"user_id": "u1", "team_id": "t1", "litellm_budget_table": {"max_budget": 7.5}}],
    )
    assert find_member(info, "u1") == Member(role="user", max_budget=Decimal("7.5"), user_email="u1@example.com")


def test_find_member_without_budget_table() -> None:
    info = team_info([{"user_id": "u1", "role": "user"}], [{"user_id": "u1", "team_id": "t1"}])
    assert find_member(info, "u1") == Member(role="user", max_budget=None, user_email=None)


# ---- difference ----


@pytest.mark.parametrize(
    ("role", "budget", "observed_role", "observed_budget", "expected"),
    [
        ("user", "5", "user", Decimal("5.0"), {}),
        ("user", None, "user", None, {}),
        ("admin", None, "user", None, {"role": "admin"}),
        ("user", "7.5", "user", Decimal("5"), {"max_budget_in_team": 7.5}),
        ("user", None, "user", Decimal("5"), {"max_budget_in_team": None}),
        ("user", "1", "admin", None, {"role": "user", "max_budget_in_team": 1.0}),
    ],
)
def test_member_changes(
    role: str, budget: str | None, observed_role: str, observed_budget: Decimal | None, expected: dict[str, Any]
) -> None:
    observed = Member(role=observed_role, max_budget=observed_budget and observed_budget.normalize(), user_email=None)
    assert member_changes(spec(role, budget), observed) == expected


# ---- deletion without a connection ----


def ready_object(id_field: str, value: str, *, terminating: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "x", "namespace": "ns"}
    if terminating:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"metadata": meta, "status": {id_field: value, "conditions": [{"type": "Ready", "status": "True"}]}}


def reconciler(objects: dict[tuple[str, str, str], dict[str, Any]]) -> TeamMemberAssociationReconciler:
    def get_object(resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        return objects.get((resource.kind, namespace, name))

    context = ReconcilerContext(client=None, connections=None, recorder=None, clock=None, get_object=get_object)  # type: ignore[arg-type]
    return TeamMemberAssociationReconciler(context)


@pytest.mark.parametrize(
    ("team_present", "user_present", "terminating", "expected"),
    [
        (True, True, False, False),
        (False, True, False, True),
        (True, False, False, True),
        (True, True, True, True),
    ],
)
async def test_delete_without_connection(
    team_present: bool, user_present: bool, terminating: bool, expected: bool
) -> None:
    objects = {}
    if team_present:
        objects[("Team", "ns", "t")] = ready_object("teamID", "t1", terminating=terminating)
    if user_present:
        objects[("User", "ns", "u")] = ready_object("userID", "u1")
    raw = membership(teamID="t1", userID="u1")
    obj = api.converter.structure(raw, api.TeamMemberAssociation)

    assert await reconciler(objects).delete_without_connection(obj, raw) is expected


async def test_delete_without_connection_never_added() -> None:
    objects = {("Team", "ns", "t"): ready_object("teamID", "t1"), ("User", "ns", "u"): ready_object("userID", "u1")}
    raw = membership()
    obj = api.converter.structure(raw, api.TeamMemberAssociation)

    assert await reconciler(objects).delete_without_connection(obj, raw) is True
