"""VirtualKey: a LiteLLM API key whose value the operator stores in a Secret."""

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
from litellm_operator.api.schema import DECIMAL_PATTERN, DURATION_PATTERN, field
from litellm_operator.runtime.conditions import Condition

# LiteLLM 1.108.7 rejects a caller-supplied key that does not start with "sk-".
KEY_PATTERN = r"^sk-.+$"


@attrs.define(kw_only=True)
class VirtualKeySpec:
    """Desired state of a LiteLLM virtual key."""

    connection_ref: ConnectionRef = connection_ref_field()
    aliases: dict[str, str] | None = field(
        json="aliases",
        description="Map from an alias that callers of the key may use to a model name.",
    )
    allowed_cache_controls: list[str] | None = field(
        json="allowedCacheControls",
        description="Cache-control values that requests made with the key may set.",
    )
    allowed_routes: list[str] | None = field(
        json="allowedRoutes",
        description="Proxy routes that the key may call. Absent allows the default routes.",
    )
    blocked: bool | None = field(
        json="blocked",
        description="Block the key: LiteLLM rejects every request made with it.",
    )
    budget_duration: str | None = field(
        json="budgetDuration",
        description=(
            "Period after which LiteLLM resets the key's spend, such as 30s, 30m, 30h, 30d, 2w"
            " or 1mo. Without it the budget never resets."
        ),
        pattern=DURATION_PATTERN,
    )
    budget_id: str | None = field(
        json="budgetID",
        description="ID of an existing LiteLLM budget entry to apply to the key.",
    )
    config: dict[str, str] | None = field(
        json="config",
        description="LiteLLM configuration settings of the key.",
    )
    duration: str | None = field(
        json="duration",
        description=(
            "Lifetime of the key from its creation, such as 30d. It is applied when the key is"
            " created and not extended afterwards. Without it the key never expires."
        ),
        pattern=DURATION_PATTERN,
    )
    enforced_params: list[str] | None = field(
        json="enforcedParams",
        description="Request parameters that every call made with the key must include.",
    )
    guardrails: list[str] | None = field(
        json="guardrails",
        description="Guardrails applied to the key's requests. Needs a LiteLLM Enterprise licence.",
    )
    key: str | None = field(
        json="key",
        description=(
            "Value of the key, starting with sk-. It is stored in plain text in this object,"
            " so leave it unset to have the operator generate a value and keep it only in the"
            " key Secret."
        ),
        pattern=KEY_PATTERN,
    )
    key_alias: str = field(
        json="keyAlias",
        description="Unique alias of the key in LiteLLM; it also names the Secret that contains the key.",
        required=True,
    )
    max_budget: str | None = field(
        json="maxBudget",
        description='Maximum spend of the key in US dollars, as a decimal string such as "10".',
        pattern=DECIMAL_PATTERN,
    )
    max_parallel_requests: int | None = field(
        json="maxParallelRequests",
        description="Maximum number of concurrent requests made with the key.",
        minimum=0,
    )
    metadata: dict[str, str] | None = field(
        json="metadata",
        description="Free-form string metadata stored on the LiteLLM key.",
    )
    model_max_budget: dict[str, str] | None = field(
        json="modelMaxBudget",
        description="Maximum spend per model in US dollars, as decimal strings keyed by model name.",
        item_pattern=DECIMAL_PATTERN,
    )
    model_rpm_limit: dict[str, int] | None = field(
        json="modelRPMLimit",
        description="Maximum requests per minute per model, keyed by model name.",
        item_minimum=0,
    )
    model_tpm_limit: dict[str, int] | None = field(
        json="modelTPMLimit",
        description="Maximum tokens per minute per model, keyed by model name.",
        item_minimum=0,
    )
    models: list[str] | None = field(
        json="models",
        description="Models that the key may call. Empty or absent allows every model of its team.",
    )
    permissions: dict[str, str] | None = field(
        json="permissions",
        description="LiteLLM permission settings of the key.",
    )
    rpm_limit: int | None = field(
        json="rpmLimit",
        description="Maximum requests per minute made with the key.",
        minimum=0,
    )
    send_invite_email: bool | None = field(
        json="sendInviteEmail",
        description="Ask LiteLLM to email the key's user. Needs email alerting in LiteLLM.",
    )
    soft_budget: str | None = field(
        json="softBudget",
        description="Spend in US dollars at which LiteLLM alerts, without blocking requests.",
        pattern=DECIMAL_PATTERN,
    )
    spend: str | None = field(
        json="spend",
        description="Spend in US dollars to record for the key, as a decimal string.",
        pattern=DECIMAL_PATTERN,
    )
    tags: list[str] | None = field(
        json="tags",
        description="Tags for spend tracking and tag-based routing. Needs a LiteLLM Enterprise licence.",
    )
    team_id: str | None = field(
        json="teamID",
        description="LiteLLM ID of the team that owns the key. LiteLLM does not check that it exists.",
    )
    tpm_limit: int | None = field(
        json="tpmLimit",
        description="Maximum tokens per minute used with the key.",
        minimum=0,
    )
    user_id: str | None = field(
        json="userID",
        description="LiteLLM ID of the user that owns the key.",
    )


@attrs.define(kw_only=True)
class VirtualKeyStatus:
    """Observed state of the LiteLLM key, copied from LiteLLM. It never contains the key value."""

    aliases: dict[str, str] | None = field(json="aliases", description="Model aliases of the key.")
    allowed_cache_controls: list[str] | None = field(
        json="allowedCacheControls", description="Cache-control values that the key may set."
    )
    allowed_routes: list[str] | None = field(
        json="allowedRoutes", description="Proxy routes that the key may call."
    )
    blocked: bool | None = field(json="blocked", description="Whether LiteLLM blocks the key.")
    budget_duration: str | None = field(
        json="budgetDuration", description="Budget reset period that LiteLLM stores for the key."
    )
    budget_id: str | None = field(json="budgetID", description="ID of the key's LiteLLM budget entry.")
    budget_reset_at: str | None = field(
        json="budgetResetAt", description="Time of the next budget reset, as LiteLLM reports it."
    )
    config: dict[str, str] | None = field(json="config", description="LiteLLM configuration of the key.")
    created_at: str | None = field(json="createdAt", description="Time LiteLLM created the key.")
    created_by: str | None = field(json="createdBy", description="LiteLLM user that created the key.")
    duration: str | None = field(json="duration", description="Lifetime that the key was created with.")
    enforced_params: list[str] | None = field(
        json="enforcedParams", description="Request parameters that every call must include."
    )
    expires: str | None = field(json="expires", description="Expiry time of the key, as LiteLLM reports it.")
    guardrails: list[str] | None = field(json="guardrails", description="Guardrails of the key.")
    key_alias: str | None = field(json="keyAlias", description="Alias of the key in LiteLLM.")
    key_id: str | None = field(json="keyID", description="LiteLLM ID of the key.")
    key_name: str | None = field(
        json="keyName", description="Abbreviated form of the key that LiteLLM shows, such as sk-...abcd."
    )
    key_secret_ref: str | None = field(
        json="keySecretRef", description="Name of the Secret that contains the key."
    )
    litellm_budget_table: str | None = field(
        json="liteLLMBudgetTable", description="LiteLLM's budget table entry of the key, serialized as a string."
    )
    max_budget: str | None = field(json="maxBudget", description="Maximum spend in US dollars.")
    max_parallel_requests: int | None = field(
        json="maxParallelRequests", description="Maximum number of concurrent requests."
    )
    models: list[str] | None = field(json="models", description="Models that the key may call.")
    permissions: dict[str, str] | None = field(
        json="permissions", description="LiteLLM permission settings of the key."
    )
    rpm_limit: int | None = field(json="rpmLimit", description="Maximum requests per minute.")
    spend: str | None = field(json="spend", description="Spend of the key so far, in US dollars.")
    tags: list[str] | None = field(json="tags", description="Tags of the key.")
    team_id: str | None = field(json="teamID", description="LiteLLM ID of the team that owns the key.")
    token: str | None = field(
        json="token", description="LiteLLM's hashed token ID of the key, never the key itself."
    )
    token_id: str | None = field(
        json="tokenID", description="LiteLLM's hashed token ID of the key (SHA-256 of the key value)."
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
    tpm_limit: int | None = field(json="tpmLimit", description="Maximum tokens per minute.")
    updated_at: str | None = field(json="updatedAt", description="Time LiteLLM last updated the key.")
    updated_by: str | None = field(json="updatedBy", description="LiteLLM user that last updated the key.")
    user_id: str | None = field(json="userID", description="LiteLLM ID of the user that owns the key.")
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field("key")


@attrs.define(kw_only=True)
class VirtualKey:
    """A LiteLLM virtual key managed by the operator."""

    api_version: str = api_version_field()
    kind: str = kind_field("VirtualKey")
    metadata: ObjectMeta = metadata_field()
    spec: VirtualKeySpec = field(json="spec", description="Desired state of the key.", required=True)
    status: VirtualKeyStatus = field(
        json="status",
        description="Observed state of the key.",
        factory=VirtualKeyStatus,
        omit_empty=True,
    )
