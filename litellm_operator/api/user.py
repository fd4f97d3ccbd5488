"""User: a LiteLLM internal user, optionally with a key that the operator creates for it."""

from __future__ import annotations

import attrs

from litellm_operator.api.common import (
    ConnectionRef,
    api_version_field,
    conditions_field,
    connection_ref_field,
    kind_field,
    metadata_field,
    observed_generation_field,
)
from litellm_operator.api.meta import ObjectMeta
from litellm_operator.api.schema import (
    DECIMAL_PATTERN,
    DURATION_PATTERN,
    INTEGER_STRING_PATTERN,
    field,
)
from litellm_operator.runtime.conditions import Condition

# LiteLLM's user roles. Team membership roles are separate (see TeamMemberAssociation).
USER_ROLES = ("proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer")


@attrs.define(kw_only=True)
class UserSpec:
    """Desired state of a LiteLLM user."""

    connection_ref: ConnectionRef = connection_ref_field()
    aliases: dict[str, str] | None = field(
        json="aliases",
        description="Map from an alias that the user may call to a model name.",
    )
    allowed_cache_controls: list[str] | None = field(
        json="allowedCacheControls",
        description="Cache-control values that the user's requests may set.",
    )
    auto_create_key: bool | None = field(
        json="autoCreateKey",
        description=(
            "Whether the operator creates a key for the user and stores it in a Secret."
            " Absent means true, as in LiteLLM."
        ),
    )
    blocked: bool | None = field(
        json="blocked",
        description="Block the user: LiteLLM rejects every request made with the user's keys.",
    )
    budget_duration: str | None = field(
        json="budgetDuration",
        description=(
            "Period after which LiteLLM resets the user's spend, such as 30s, 30m, 30h, 30d, 2w"
            " or 1mo. Without it the budget never resets."
        ),
        pattern=DURATION_PATTERN,
    )
    duration: str | None = field(
        json="duration",
        description="Lifetime of the auto-created key, such as 30d. Without it the key never expires.",
        pattern=DURATION_PATTERN,
    )
    guardrails: list[str] | None = field(
        json="guardrails",
        description="Guardrails applied to the user's requests. Needs a LiteLLM Enterprise licence.",
    )
    key_alias: str | None = field(
        json="keyAlias",
        description="Alias of the auto-created key; it also names the Secret that contains the key.",
    )
    max_budget: str | None = field(
        json="maxBudget",
        description='Maximum spend of the user in US dollars, as a decimal string such as "25".',
        pattern=DECIMAL_PATTERN,
    )
    max_parallel_requests: int | None = field(
        json="maxParallelRequests",
        description="Maximum number of concurrent requests of the user.",
        minimum=0,
    )
    metadata: dict[str, str] | None = field(
        json="metadata",
        description="Free-form string metadata stored on the LiteLLM user.",
    )
    model_max_budget: dict[str, str] | None = field(
        json="modelMaxBudget",
        description="Maximum spend per model in US dollars, as decimal strings keyed by model name.",
        item_pattern=DECIMAL_PATTERN,
    )
    model_rpm_limit: dict[str, str] | None = field(
        json="modelRPMLimit",
        description="Maximum requests per minute per model, as integer strings keyed by model name.",
        item_pattern=INTEGER_STRING_PATTERN,
    )
    model_tpm_limit: dict[str, str] | None = field(
        json="modelTPMLimit",
        description="Maximum tokens per minute per model, as integer strings keyed by model name.",
        item_pattern=INTEGER_STRING_PATTERN,
    )
    models: list[str] | None = field(
        json="models",
        description="Models that the user may call. Empty or absent allows every model.",
    )
    permissions: dict[str, str] | None = field(
        json="permissions",
        description="LiteLLM permission settings of the user.",
    )
    rpm_limit: int | None = field(
        json="rpmLimit",
        description="Maximum requests per minute of the user.",
        minimum=0,
    )
    send_invite_email: bool | None = field(
        json="sendInviteEmail",
        description=(
            "Ask LiteLLM to email an invitation. LiteLLM creates the user even when email"
            " alerting is not configured, but then returns an error."
        ),
    )
    soft_budget: str | None = field(
        json="softBudget",
        description="Spend in US dollars at which LiteLLM alerts, without blocking requests.",
        pattern=DECIMAL_PATTERN,
    )
    spend: str | None = field(
        json="spend",
        description="Spend in US dollars to record for the user, as a decimal string.",
        pattern=DECIMAL_PATTERN,
    )
    sso_user_id: str | None = field(
        json="ssoUserID",
        description="ID of the user at the single sign-on provider.",
    )
    teams: list[str] | None = field(
        json="teams",
        description="IDs of LiteLLM teams that the user belongs to.",
    )
    tpm_limit: int | None = field(
        json="tpmLimit",
        description="Maximum tokens per minute of the user.",
        minimum=0,
    )
    user_alias: str | None = field(
        json="userAlias",
        description="Human-readable name of the user in LiteLLM.",
    )
    user_email: str = field(
        json="userEmail",
        description="Email address of the user.",
        required=True,
    )
    user_id: str | None = field(
        json="userID",
        description=(
            "LiteLLM user ID. When set, the operator manages the existing user with this ID;"
            " when absent, it derives a stable ID from this object's UID."
        ),
    )
    user_role: str | None = field(
        json="userRole",
        description="Proxy-wide role of the user in LiteLLM.",
        enum=USER_ROLES,
    )


@attrs.define(kw_only=True)
class UserStatus:
    """Observed state of the LiteLLM user, copied from LiteLLM."""

    allowed_cache_controls: list[str] | None = field(
        json="allowedCacheControls", description="Cache-control values that the user may set."
    )
    allowed_routes: list[str] | None = field(
        json="allowedRoutes", description="Routes that the user's key may call."
    )
    aliases: dict[str, str] | None = field(json="aliases", description="Model aliases of the user.")
    blocked: bool | None = field(json="blocked", description="Whether LiteLLM blocks the user.")
    budget_duration: str | None = field(
        json="budgetDuration", description="Budget reset period that LiteLLM stores for the user."
    )
    budget_id: str | None = field(json="budgetID", description="ID of the user's LiteLLM budget entry.")
    config: dict[str, str] | None = field(json="config", description="LiteLLM configuration of the user.")
    created_at: str | None = field(json="createdAt", description="Time LiteLLM created the user.")
    created_by: str | None = field(json="createdBy", description="LiteLLM user that created this user.")
    duration: str | None = field(json="duration", description="Lifetime of the user's key.")
    enforced_params: list[str] | None = field(
        json="enforcedParams", description="Request parameters that every call must include."
    )
    expires: str | None = field(json="expires", description="Expiry time of the user's key.")
    guardrails: list[str] | None = field(json="guardrails", description="Guardrails of the user.")
    key_alias: str | None = field(json="keyAlias", description="Alias of the user's key.")
    key_name: str | None = field(
        json="keyName", description="Abbreviated form of the user's key that LiteLLM shows."
    )
    key_secret_ref: str | None = field(
        json="keySecretRef", description="Name of the Secret that contains the user's key."
    )
    litellm_budget_table: str | None = field(
        json="litellmBudgetTable", description="LiteLLM's budget table entry of the user, serialized as a string."
    )
    max_budget: str | None = field(json="maxBudget", description="Maximum spend in US dollars.")
    max_parallel_requests: int | None = field(
        json="maxParallelRequests", description="Maximum number of concurrent requests."
    )
    model_max_budget: dict[str, str] | None = field(
        json="modelMaxBudget", description="Maximum spend per model in US dollars."
    )
    model_rpm_limit: dict[str, str] | None = field(
        json="modelRPMLimit", description="Maximum requests per minute per model."
    )
    model_tpm_limit: dict[str, str] | None = field(
        json="modelTPMLimit", description="Maximum tokens per minute per model."
    )
    models: list[str] | None = field(json="models", description="Models that the user may call.")
    permissions: dict[str, str] | None = field(
        json="permissions", description="LiteLLM permission settings of the user."
    )
    rpm_limit: int | None = field(json="rpmLimit", description="Maximum requests per minute.")
    spend: str | None = field(json="spend", description="Spend of the user so far, in US dollars.")
    tags: list[str] | None = field(json="tags", description="Tags of the user.")
    teams: list[str] | None = field(json="teams", description="IDs of the teams that the user belongs to.")
    token: str | None = field(
        json="token", description="LiteLLM's hashed token ID of the user's key, never the key itself."
    )
    previous_token_id: str | None = field(
        json="previousTokenID",
        description="Hashed token ID of the key replaced by the last rotation; it stays valid until previousKeyRevokeAt.",
    )
    previous_key_revoke_at: str | None = field(
        json="previousKeyRevokeAt", description="Time at which the operator deletes the previous key in LiteLLM."
    )
    last_rotation_request: str | None = field(
        json="lastRotationRequest",
        description="Value of the litellm-operator.litellm.ai/rotate annotation that the last rotation handled.",
    )
    last_rotated_at: str | None = field(json="lastRotatedAt", description="Time of the last key rotation.")
    token_id: str | None = field(
        json="tokenID", description="LiteLLM's hashed token ID of the user's key (SHA-256 of the key value)."
    )
    tpm_limit: int | None = field(json="tpmLimit", description="Maximum tokens per minute.")
    updated_at: str | None = field(json="updatedAt", description="Time LiteLLM last updated the user.")
    updated_by: str | None = field(json="updatedBy", description="LiteLLM user that last updated this user.")
    user_alias: str | None = field(json="userAlias", description="Alias of the user in LiteLLM.")
    user_email: str | None = field(json="userEmail", description="Email address of the user.")
    user_id: str | None = field(json="userID", description="LiteLLM user ID.")
    user_role: str | None = field(json="userRole", description="Proxy-wide role of the user.")
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field("user")


@attrs.define(kw_only=True)
class User:
    """A LiteLLM user managed by the operator."""

    api_version: str = api_version_field()
    kind: str = kind_field("User")
    metadata: ObjectMeta = metadata_field()
    spec: UserSpec = field(json="spec", description="Desired state of the user.", required=True)
    status: UserStatus = field(
        json="status",
        description="Observed state of the user.",
        factory=UserStatus,
        omit_empty=True,
    )
