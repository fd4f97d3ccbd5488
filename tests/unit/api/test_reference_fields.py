"""Every field of the Go operator's v1alpha1 API exists in our CRDs with the same shape.

EXPECTED_FIELDS is the Go operator's API reference as data: JSON name -> (type, required, enum).
Types use Go-like notation: "[]string", "map[string]integer", "object" for a nested type.
Our CRDs may add fields and validation, but must not drop or retype any of these.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import crd_schema

EXPECTED_FIELDS: dict[str, dict[str, tuple[str, bool, tuple[str, ...] | None]]] = {
    "Team": {
        "apiVersion": ("string", False, None),
        "kind": ("string", False, None),
        "metadata": ("object", False, None),
        "spec": ("object", False, None),
        "status": ("object", False, None),
    },
    "TeamSpec": {
        "connectionRef": ("object", True, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "guardrails": ("[]string", False, None),
        "maxBudget": ("string", False, None),
        "metadata": ("map[string]string", False, None),
        "modelAliases": ("map[string]string", False, None),
        "models": ("[]string", False, None),
        "organizationID": ("string", False, None),
        "rpmLimit": ("integer", False, None),
        "tags": ("[]string", False, None),
        "teamAlias": ("string", True, None),
        "teamID": ("string", False, None),
        "teamMemberPermissions": ("[]string", False, None),
        "tpmLimit": ("integer", False, None),
    },
    "TeamStatus": {
        "observedGeneration": ("integer", False, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "budgetResetAt": ("string", False, None),
        "createdAt": ("string", False, None),
        "liteLLMModelTable": ("string", False, None),
        "maxBudget": ("string", False, None),
        "maxParallelRequests": ("integer", False, None),
        "membersWithRole": ("[]object", False, None),
        "modelID": ("string", False, None),
        "models": ("[]string", False, None),
        "organizationID": ("string", False, None),
        "rpmLimit": ("integer", False, None),
        "spend": ("string", False, None),
        "tags": ("[]string", False, None),
        "teamAlias": ("string", False, None),
        "teamID": ("string", False, None),
        "teamMemberPermissions": ("[]string", False, None),
        "tpmLimit": ("integer", False, None),
        "updatedAt": ("string", False, None),
        "conditions": ("[]object", False, None),
    },
    "TeamMemberWithRole": {
        "userID": ("string", False, None),
        "userEmail": ("string", False, None),
        "role": ("string", False, None),
    },
    "User": {
        "apiVersion": ("string", False, None),
        "kind": ("string", False, None),
        "metadata": ("object", False, None),
        "spec": ("object", False, None),
        "status": ("object", False, None),
    },
    "UserSpec": {
        "connectionRef": ("object", True, None),
        "aliases": ("map[string]string", False, None),
        "allowedCacheControls": ("[]string", False, None),
        "autoCreateKey": ("boolean", False, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "duration": ("string", False, None),
        "guardrails": ("[]string", False, None),
        "keyAlias": ("string", False, None),
        "maxBudget": ("string", False, None),
        "maxParallelRequests": ("integer", False, None),
        "metadata": ("map[string]string", False, None),
        "modelMaxBudget": ("map[string]string", False, None),
        "modelRPMLimit": ("map[string]string", False, None),
        "modelTPMLimit": ("map[string]string", False, None),
        "models": ("[]string", False, None),
        "permissions": ("map[string]string", False, None),
        "rpmLimit": ("integer", False, None),
        "sendInviteEmail": ("boolean", False, None),
        "softBudget": ("string", False, None),
        "spend": ("string", False, None),
        "ssoUserID": ("string", False, None),
        "teams": ("[]string", False, None),
        "tpmLimit": ("integer", False, None),
        "userAlias": ("string", False, None),
        "userEmail": ("string", True, None),
        "userID": ("string", False, None),
        "userRole": ("string", False, ('proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer')),
    },
    "UserStatus": {
        "allowedCacheControls": ("[]string", False, None),
        "allowedRoutes": ("[]string", False, None),
        "aliases": ("map[string]string", False, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "budgetID": ("string", False, None),
        "config": ("map[string]string", False, None),
        "createdAt": ("string", False, None),
        "createdBy": ("string", False, None),
        "duration": ("string", False, None),
        "enforcedParams": ("[]string", False, None),
        "expires": ("string", False, None),
        "guardrails": ("[]string", False, None),
        "keyAlias": ("string", False, None),
        "keyName": ("string", False, None),
        "keySecretRef": ("string", False, None),
        "litellmBudgetTable": ("string", False, None),
        "maxBudget": ("string", False, None),
        "maxParallelRequests": ("integer", False, None),
        "modelMaxBudget": ("map[string]string", False, None),
        "modelRPMLimit": ("map[string]string", False, None),
        "modelTPMLimit": ("map[string]string", False, None),
        "models": ("[]string", False, None),
        "permissions": ("map[string]string", False, None),
        "rpmLimit": ("integer", False, None),
        "spend": ("string", False, None),
        "tags": ("[]string", False, None),
        "teams": ("[]string", False, None),
        "token": ("string", False, None),
        "tpmLimit": ("integer", False, None),
        "updatedAt": ("string", False, None),
        "updatedBy": ("string", False, None),
        "userAlias": ("string", False, None),
        "userEmail": ("string", False, None),
        "userID": ("string", False, None),
        "userRole": ("string", False, None),
        "observedGeneration": ("integer", False, None),
        "conditions": ("[]object", False, None),
    },
    "VirtualKey": {
        "apiVersion": ("string", False, None),
        "kind": ("string", False, None),
        "metadata": ("object", False, None),
        "spec": ("object", False, None),
        "status": ("object", False, None),
    },
    "VirtualKeySpec": {
        "connectionRef": ("object", True, None),
        "aliases": ("map[string]string", False, None),
        "allowedCacheControls": ("[]string", False, None),
        "allowedRoutes": ("[]string", False, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "budgetID": ("string", False, None),
        "config": ("map[string]string", False, None),
        "duration": ("string", False, None),
        "enforcedParams": ("[]string", False, None),
        "guardrails": ("[]string", False, None),
        "key": ("string", False, None),
        "keyAlias": ("string", True, None),
        "maxBudget": ("string", False, None),
        "maxParallelRequests": ("integer", False, None),
        "metadata": ("map[string]string", False, None),
        "modelMaxBudget": ("map[string]string", False, None),
        "modelRPMLimit": ("map[string]integer", False, None),
        "modelTPMLimit": ("map[string]integer", False, None),
        "models": ("[]string", False, None),
        "permissions": ("map[string]string", False, None),
        "rpmLimit": ("integer", False, None),
        "sendInviteEmail": ("boolean", False, None),
        "softBudget": ("string", False, None),
        "spend": ("string", False, None),
        "tags": ("[]string", False, None),
        "teamID": ("string", False, None),
        "tpmLimit": ("integer", False, None),
        "userID": ("string", False, None),
    },
    "VirtualKeyStatus": {
        "aliases": ("map[string]string", False, None),
        "allowedCacheControls": ("[]string", False, None),
        "allowedRoutes": ("[]string", False, None),
        "blocked": ("boolean", False, None),
        "budgetDuration": ("string", False, None),
        "budgetID": ("string", False, None),
        "budgetResetAt": ("string", False, None),
        "config": ("map[string]string", False, None),
        "createdAt": ("string", False, None),
        "createdBy": ("string", False, None),
        "duration": ("string", False, None),
        "enforcedParams": ("[]string", False, None),
        "expires": ("string", False, None),
        "guardrails": ("[]string", False, None),
        "keyAlias": ("string", False, None),
        "keyID": ("string", False, None),
        "keyName": ("string", False, None),
        "keySecretRef": ("string", False, None),
        "liteLLMBudgetTable": ("string", False, None),
        "maxBudget": ("string", False, None),
        "maxParallelRequests": ("integer", False, None),
        "models": ("[]string", False, None),
        "permissions": ("map[string]string", False, None),
        "rpmLimit": ("integer", False, None),
        "spend": ("string", False, None),
        "tags": ("[]string", False, None),
        "teamID": ("string", False, None),
        "token": ("string", False, None),
        "tokenID": ("string", False, None),
        "tpmLimit": ("integer", False, None),
        "updatedAt": ("string", False, None),
        "updatedBy": ("string", False, None),
        "userID": ("string", False, None),
        "observedGeneration": ("integer", False, None),
        "conditions": ("[]object", False, None),
    },
    "TeamMemberAssociation": {
        "apiVersion": ("string", False, None),
        "kind": ("string", False, None),
        "metadata": ("object", False, None),
        "spec": ("object", False, None),
        "status": ("object", False, None),
    },
    "TeamMemberAssociationSpec": {
        "connectionRef": ("object", True, None),
        "maxBudgetInTeam": ("string", False, None),
        "role": ("string", True, ('admin', 'user')),
        "teamRef": ("object", True, None),
        "userRef": ("object", True, None),
    },
    "TeamMemberAssociationStatus": {
        "teamAlias": ("string", False, None),
        "teamID": ("string", False, None),
        "userEmail": ("string", False, None),
        "userID": ("string", False, None),
        "teamExists": ("boolean", False, None),
        "userExists": ("boolean", False, None),
        "associationIsValid": ("boolean", False, None),
        "conditions": ("[]object", False, None),
    },
    "ConnectionRef": {
        "secretRef": ("object", False, None),
        "instanceRef": ("object", False, None),
    },
    "SecretRef": {
        "name": ("string", False, None),
        "keys": ("object", False, None),
    },
    "SecretKeys": {
        "masterKey": ("string", False, None),
        "url": ("string", False, None),
    },
    "InstanceRef": {
        "name": ("string", False, None),
        "namespace": ("string", False, None),
    },
    "CRDRef": {
        "name": ("string", False, None),
        "namespace": ("string", False, None),
    },
}

# Where each type's schema sits: (kind, path of property names from the root schema).
# "[]" steps into the items of an array.
TYPE_LOCATIONS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "Team": [("Team", ())],
    "TeamSpec": [("Team", ("spec",))],
    "TeamStatus": [("Team", ("status",))],
    "TeamMemberWithRole": [("Team", ("status", "membersWithRole", "[]"))],
    "User": [("User", ())],
    "UserSpec": [("User", ("spec",))],
    "UserStatus": [("User", ("status",))],
    "VirtualKey": [("VirtualKey", ())],
    "VirtualKeySpec": [("VirtualKey", ("spec",))],
    "VirtualKeyStatus": [("VirtualKey", ("status",))],
    "TeamMemberAssociation": [("TeamMemberAssociation", ())],
    "TeamMemberAssociationSpec": [("TeamMemberAssociation", ("spec",))],
    "TeamMemberAssociationStatus": [("TeamMemberAssociation", ("status",))],
    "ConnectionRef": [(kind, ("spec", "connectionRef")) for kind in ("Team", "User", "VirtualKey", "TeamMemberAssociation")],
    "SecretRef": [(kind, ("spec", "connectionRef", "secretRef")) for kind in ("Team", "User", "VirtualKey", "TeamMemberAssociation")],
    "SecretKeys": [
        (kind, ("spec", "connectionRef", "secretRef", "keys")) for kind in ("Team", "User", "VirtualKey", "TeamMemberAssociation")
    ],
    "InstanceRef": [
        (kind, ("spec", "connectionRef", "instanceRef")) for kind in ("Team", "User", "VirtualKey", "TeamMemberAssociation")
    ],
    "CRDRef": [("TeamMemberAssociation", ("spec", "teamRef")), ("TeamMemberAssociation", ("spec", "userRef"))],
}

# Deliberate differences from the Go operator: the typed models need a spec, so the CRDs require it.
EXTRA_REQUIRED = {("Team", "spec"), ("User", "spec"), ("VirtualKey", "spec"), ("TeamMemberAssociation", "spec")}


def _locate(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for step in path:
        schema = schema["items"] if step == "[]" else schema["properties"][step]
    return schema


def _type_name(schema: dict[str, Any]) -> str:
    if schema["type"] == "array":
        return "[]" + _type_name(schema["items"])
    if schema["type"] == "object" and "additionalProperties" in schema:
        return "map[string]" + _type_name(schema["additionalProperties"])
    return schema["type"]


def test_every_type_has_a_location() -> None:
    assert set(TYPE_LOCATIONS) == set(EXPECTED_FIELDS)


@pytest.mark.parametrize("type_name", sorted(EXPECTED_FIELDS))
def test_reference_fields_present(type_name: str, crds: dict[str, dict[str, Any]]) -> None:
    for kind, path in TYPE_LOCATIONS[type_name]:
        schema = _locate(crd_schema(crds[kind]), path)
        required = set(schema.get("required", []))

        for name, (expected_type, expected_required, expected_enum) in EXPECTED_FIELDS[type_name].items():
            where = f"{type_name}.{name} in the {kind} CRD"
            assert name in schema["properties"], f"{where} is missing"
            field = schema["properties"][name]
            assert _type_name(field) == expected_type, f"{where} has the wrong type"
            if (type_name, name) in EXTRA_REQUIRED:
                assert name in required, f"{where} should be required"
            else:
                assert (name in required) == expected_required, f"{where} has the wrong required marker"
            assert field.get("enum") == (list(expected_enum) if expected_enum else None), f"{where} has the wrong enum"


def test_model_rpm_limit_types_differ_by_kind(crds: dict[str, dict[str, Any]]) -> None:
    user_spec = _locate(crd_schema(crds["User"]), ("spec",))
    key_spec = _locate(crd_schema(crds["VirtualKey"]), ("spec",))

    assert _type_name(user_spec["properties"]["modelRPMLimit"]) == "map[string]string"
    assert _type_name(key_spec["properties"]["modelRPMLimit"]) == "map[string]integer"
